"""The hybrid-eval command line, end to end on real data with a tiny model."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
import pytrec_eval
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def evaluate_de_el(model) -> tuple[str, ...]:
    """``evaluate`` of XQuAD-R's German and Greek with ``model`` at fp32."""
    return ("evaluate", "--model", str(model), *"--dataset xquad-r --languages de,el --precision fp32".split())


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def lareqa_run(tiny_model, shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    result = invoke(
        "evaluate",
        "--model",
        str(tiny_model),
        "--dataset",
        "xquad-r",
        "--languages",
        "en,th",
        "--precision",
        "fp32",
        "--candidate-context",
        "--out",
        str(out / "r"),
        "--trec-dir",
        str(out / "trec"),
    )
    return result.output, json.loads((out / "r" / "summary.json").read_text()), out / "trec"


def test_evaluate_prints_the_table_and_writes_every_figure(lareqa_run):
    output, record, _ = lareqa_run
    for label in ("Mo", "Cr", "Mul", "mAP", "R@1", "R@10", "rank dist", "tokens/s"):
        assert label in output
    assert set(record["summary"]) == {"mono", "cross", "multi", "mul_rank"}
    pairs = {(g["setting"], g["query_lang"], g["candidate_lang"]) for g in record["groups"]}
    assert pairs == {
        ("mono", "en", "en"),
        ("mono", "th", "th"),
        ("cross", "en", "th"),
        ("cross", "th", "en"),
        ("multi", "en", "all"),
        ("multi", "th", "all"),
        *(("mul_rank", x, y) for x in ("en", "th") for y in ("en", "th")),  # Mul's ranking, per answer language
    }
    assert all(g["pool_size"] for g in record["groups"])  # every table can say what it ranked against
    assert record["code_version"] and record["tokens_encoded"] > 0 and record["candidate_context"] is True
    spec = record["spec"]  # the run specification, written into the result folder
    assert (
        spec["candidate_context"] is True
        and spec["encoder"]["precision"] == "fp32"
        and spec["eval_sets"] == ["xquad-r"]
    )


def test_trec_files_reproduce_the_figures_with_trec_eval(lareqa_run):
    _, record, trec = lareqa_run
    run = {}
    for line in (trec / "mono.run").read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, {})[doc] = float(score)
    qrels = {}
    for line in (trec / "mono.qrels").read_text().splitlines():
        qid, _, doc, grade = line.split()
        qrels.setdefault(qid, {})[doc] = int(grade)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10"}).evaluate(run)
    for lang in ("en", "th"):
        group = next(g for g in record["groups"] if g["setting"] == "mono" and g["query_lang"] == lang)
        values = [v for q, v in per_query.items() if q.startswith(f"{lang}-{lang}:")]
        assert len(values) == group["n_queries"] == 1190
        assert sum(v["ndcg_cut_10"] for v in values) / len(values) == pytest.approx(
            group["metrics"]["ndcg@10"], abs=1e-6
        )
        assert sum(v["recall_10"] for v in values) / len(values) == pytest.approx(
            group["metrics"]["recall@10"], abs=1e-6
        )


def test_export_then_evaluate_beir(tiny_model, shared_data, tmp_path):
    invoke("export-beir", "--dataset", "xquad-r", "--lang", "de", "--out", str(tmp_path / "de"))
    result = invoke(
        "evaluate",
        "--model",
        str(tiny_model),
        "--dataset",
        str(tmp_path / "de"),
        "--precision",
        "fp32",
        "--out",
        str(tmp_path / "b"),
        "--trec-dir",
        str(tmp_path / "trec"),
    )
    record = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert record["format"] == "beir" and set(record["summary"]["beir"]) == {"ndcg@10", "recall@100", "mrr@10", "map"}
    assert "nDCG@10" in result.output
    assert len((tmp_path / "trec" / "beir.run").read_text().splitlines()) == 1190 * 1000


def test_bad_input_gives_one_clear_line(tiny_model, tmp_path):
    (tmp_path / "en.json").write_text('{"data": [}')
    for dataset, message in (
        ("nope", "HYBRID_EVAL_DATA_DIR"),
        (str(tmp_path), "en.json: line 1 column 11: malformed JSON"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "evaluate", "--model", str(tiny_model), "--dataset", dataset],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2
        assert done.stderr.startswith("error: ") and message in done.stderr and "Traceback" not in done.stderr


def test_train_then_evaluate_the_trained_folder(tiny_model, shared_data, tmp_path):
    out = tmp_path / "hybrid"
    result = invoke(
        "train",
        "--model",
        str(tiny_model),
        "--train",
        "mlqa-r",
        "--strategy",
        "hybrid",
        "--alpha",
        "0.5",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--out",
        str(out),
        "--eval",
        "xquad-r",
        "--precision",
        "fp32",
    )
    assert "zero-shot guard vs xquad-r: 0 query and 0 passage overlaps" in result.output
    record = json.loads((out / "training.json").read_text())
    assert record["leakage"][0]["query_overlap"] == 0 and record["config"]["alpha"] == 0.5
    evaluated = invoke(
        "evaluate",
        "--model",
        str(out),
        "--dataset",
        "xquad-r",
        "--languages",
        "en,el",
        "--precision",
        "fp32",
        "--out",
        str(tmp_path / "e"),
    )
    assert json.loads((tmp_path / "e" / "summary.json").read_text())["model"] == str(out)
    # stored under the strategy it was trained with, its training languages as "seen"
    run = evaluated.output.split("stored as run ")[1].split()[0]
    assert run.startswith("evaluate-hybrid-xquad-r-") and run.endswith("/hybrid")
    from db import queries
    from db.session import make_engine

    stored = queries.runs(make_engine(read_only=True)).set_index("name").loc[run]
    assert stored["status"] == "completed" and stored["seen_languages"] == "ar,de,en,es,hi,vi,zh"
    assert stored["config"]["train"]["steps"] == 3 and stored["config"]["strategies"] == ["hybrid"]


def test_training_on_the_evaluation_set_is_stopped(tiny_model, shared_data, tmp_path):
    args = [
        sys.executable,
        "-m",
        "flows.cli",
        "train",
        "--model",
        str(tiny_model),
        "--train",
        "xquad-r",
        "--steps",
        "1",
        "--batch-size",
        "4",
        "--out",
        str(tmp_path / "leaky"),
        "--eval",
        "xquad-r",
        "--precision",
        "fp32",
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 2 and "training data overlaps xquad-r: 13090 queries" in done.stderr
    assert not (tmp_path / "leaky").exists()
    forced = subprocess.run(args + ["--allow-overlap"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "leaky" / "training.json").read_text())["leakage"][0]["query_overlap"] == 13090


def test_second_evaluation_reuses_the_result_and_no_cache_recomputes_it(tiny_model, shared_data, tmp_path):
    args = evaluate_de_el(tiny_model)
    first = invoke(*args, "--out", str(tmp_path / "1"))
    second = invoke(*args, "--out", str(tmp_path / "2"))
    third = invoke(*args, "--no-cache", "--out", str(tmp_path / "3"))
    assert "tokens/s" in first.output and "reused the stored result" in second.output and "tokens/s" in third.output
    one, two, three = (json.loads((tmp_path / str(i) / "summary.json").read_text()) for i in (1, 2, 3))
    assert one["summary"] == two["summary"] == three["summary"] and three["tokens_encoded"] > 0


def test_compare_groups_languages_by_coverage(tmp_path):
    def record(mono_en, mono_th):
        groups = [
            {
                "setting": "mono",
                "query_lang": "en",
                "candidate_lang": "en",
                "n_queries": 1,
                "metrics": {"map": mono_en},
            },
            {
                "setting": "mono",
                "query_lang": "th",
                "candidate_lang": "th",
                "n_queries": 1,
                "metrics": {"map": mono_th},
            },
            {
                "setting": "multi",
                "query_lang": "en",
                "candidate_lang": "all",
                "n_queries": 1,
                "metrics": {"map": 0.5, "rank_distance": 10.0},
            },
        ]
        card = {"card": "test", "file": "test.json", "sha256": "0" * 64, "supervised": [], "pretraining": ["en", "th"]}
        return {"groups": groups, "exposure": card}

    for name, figures in (("a", record(0.8, 0.4)), ("b", record(0.9, 0.6))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(figures))
    out = invoke("compare", f"ref={tmp_path / 'a'}", f"hybrid={tmp_path / 'b' / 'summary.json'}", "--seen", "en").output
    assert "Mo: 2 groups of 1 queries against a pool of unrecorded size" in out  # results written before pools were
    for expected in (
        r"ref\s+all languages\s+0\.600",
        r"seen in fine-tuning\s+0\.800",
        r"documented pretraining\s+0\.400",
        r"hybrid\s+all languages\s+0\.750",
        r"documented pretraining\s+0\.600",
    ):
        assert re.search(expected, out), (expected, out)


def test_evaluate_afriqa_prints_languages_with_their_coverage(tiny_model, shared_data, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    stage = {"stage": "contrastive_pretraining", "name": "t", "source": "this test"}
    corpora = [{"name": "c", "languages": ["en", "hau"], "source": "this test"}]
    (model / "exposure_card.json").write_text(json.dumps({"model": "tiny", "stages": [{**stage, "corpora": corpora}]}))
    (model / "pretraining_languages.json").write_text('{"languages": ["en", "hau"], "source": "this test"}')
    out = invoke(
        "evaluate",
        "--model",
        str(model),
        "--dataset",
        "afriqa",
        "--languages",
        "hau,yor",
        "--precision",
        "fp32",
        "--out",
        str(tmp_path / "r"),
    ).output
    assert re.search(r"ha\s+documented pretraining", out) and re.search(r"yo\s+no documented exposure", out)
    assert "questions_left_out: {'ha': 0, 'yo': 1}" in out and "pool_passages: 6191" in out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["format"] == "afriqa" and summary["pretraining_languages"] == ["en", "ha"]  # the old scheme's list
    assert summary["exposure"]["pretraining"] == ["en", "ha"] and summary["exposure"]["card"] == "tiny"
    assert {(g["setting"], g["query_lang"]) for g in summary["groups"]} == {
        (s, x) for s in ("native", "translated") for x in ("ha", "yo")
    }


def test_store_import_brings_result_folders_made_elsewhere_into_the_store(
    tiny_model, shared_data, tmp_path, monkeypatch
):
    from db import queries
    from db.session import make_engine
    from hybridcore.analysis.figures import macro

    made = invoke(
        *evaluate_de_el(tiny_model),
        "--no-store",
        "--out",
        str(tmp_path / "elsewhere" / "r1"),
    )
    assert "stored as run" not in made.output
    monkeypatch.setenv("HYBRID_EVAL_DB_URL", f"duckdb:///{tmp_path / 'team.duckdb'}")
    imported = invoke("store", "import", str(tmp_path / "elsewhere")).output
    run = imported.split("-> run ")[1].split()[0]
    engine = make_engine(read_only=True)
    runs = queries.runs(engine).set_index("name")
    assert list(runs.index) == [run] and runs.loc[run, "strategy"] == "reference"
    summary = json.loads((tmp_path / "elsewhere" / "r1" / "summary.json").read_text())
    stored = macro(queries.metrics(engine, runs["id"].tolist())).set_index(["setting", "metric"])["value"]
    assert stored[("multi", "map")] == pytest.approx(summary["summary"]["multi"]["map"])
    spec = json.loads(invoke("store", "spec", run).output)
    assert spec["model"] == str(tiny_model) and spec["eval_sets"] == ["xquad-r"]
