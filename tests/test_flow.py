"""The hybrid-eval flow in process under a temporary Prefect server, on a tiny model."""

from __future__ import annotations

import pytest
from prefect.testing.utilities import prefect_test_harness

from db import queries
from db.session import make_engine


@pytest.fixture(scope="module")
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_flow_stores_reference_and_every_strategy(prefect_server, tiny_model, shared_data, tmp_path):
    from flows.hybrid_eval import hybrid_eval

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    out = hybrid_eval(model=str(tiny_model), train_set="mlqa-r", eval_sets=["xquad-r"], strategies=["mono", "hybrid"],
                      steps=2, batch_size=4, profile="quick", experiment="t1", db_url=url)
    engine = make_engine(url)
    runs = queries.runs(engine, experiment="t1").set_index("strategy")
    assert set(runs.index) == {"reference", "mono", "hybrid"}
    assert (runs["status"] == "completed").all()
    assert runs.loc["hybrid", "alpha"] == 0.5 and runs.loc["mono", "seen_languages"] == "ar,de,en,es,hi,vi,zh"
    assert runs.loc["hybrid", "leakage"][0]["query_overlap"] == 0
    counts = queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size()
    assert len(counts) == 3 and counts.nunique() == 1  # each run: 132 groups x metrics
    assert out["experiment"] == "t1"

    # the same experiment again: every step is reused, rows replaced, not duplicated
    hybrid_eval(model=str(tiny_model), train_set="mlqa-r", eval_sets=["xquad-r"], strategies=["mono", "hybrid"],
                steps=2, batch_size=4, profile="quick", experiment="t1", db_url=url)
    assert queries.row_counts(engine)["runs"] == 3
    assert queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size().equals(counts)


def test_a_failed_rerun_is_marked_and_keeps_earlier_results(prefect_server, tiny_model, shared_data, tmp_path):
    import json

    from flows.hybrid_eval import hybrid_eval

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    args = dict(model=str(tiny_model), train_set="mlqa-r", eval_sets=["xquad-r"], strategies=["mono"], steps=2,
                batch_size=4, experiment="t2", db_url=url)
    hybrid_eval(**args)
    engine = make_engine(url)
    before = queries.row_counts(engine)

    bad = tmp_path / "bad-beir"
    (bad / "qrels").mkdir(parents=True)
    (bad / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "text": "a"}) + "\n")
    (bad / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "b"}) + "\n")
    (bad / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td9\t1\n")
    (bad / "hybrid-eval.json").write_text(json.dumps({"language": "en"}))
    with pytest.raises(Exception, match="unknown corpus id 'd9'"):
        hybrid_eval(**args, beir_sets=[str(bad)])
    runs = queries.runs(engine, experiment="t2").set_index("strategy")
    assert runs.loc["reference", "status"] == "failed" and "unknown corpus id 'd9'" in runs.loc["reference", "error"]
    assert queries.row_counts(engine) == before  # what was stored is intact


def test_the_experiment_command_runs_the_flow_and_prints_the_summary(prefect_server, tiny_model, shared_data):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["experiment", "--model", str(tiny_model), "--strategy", "hybrid", "--steps", "2",
                                      "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "experiment local-quick-" in result.output  # not a deployment's run
    summary = result.output.split("seen in training: ar,de,en,es,hi,vi,zh)")[1]
    assert "reference" in summary and "hybrid" in summary and "unseen" in summary
    assert "make dashboard" in result.output
