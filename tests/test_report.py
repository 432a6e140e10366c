"""The experiment report on a store of real-shaped runs (real e5-small embeddings of XQuAD-R,
each strategy at three seeds moved by seeded noise): its figures equal the store's, its
differences equal the per-query scores', it renders in a real browser, and the command
writes it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from db import queries, store
from db.session import make_engine
from flows.cli import app
from flows.report import experiment_report
from hybridcore.analysis.coverage import ALL_LANGUAGES
from hybridcore.analysis.experiment import paper_scope
from hybridcore.analysis.report import build_report
from hybridcore.data.formats.lareqa import METADATA as LAREQA
from hybridcore.data.formats.sib200 import METADATA as SIB200
from hybridcore.model.exposure import exposure_record
from hybridcore.model.pretraining import XLM_R

LAREQA_PAPER, SIB_PAPER = LAREQA.paper, SIB200.paper

SEEN = "ar,de,en,es,hi,vi,zh"
ARMS = [("reference", None, None)] + [
    (s, seed, 0.5 if s == "hybrid" else None) for seed in (1, 2, 3) for s in ("mono", "cross", "hybrid")
]


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def report_store(tmp_path_factory, real_embeddings, xquad_small) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('report') / 'store.duckdb'}"
    engine = make_engine(url)
    store.init_store(engine)
    q, c = real_embeddings
    for k, (strategy, seed, alpha) in enumerate(ARMS):
        rng = np.random.default_rng(k)
        scale = 0.0 if strategy == "reference" else 0.015
        shift = {"reference": 0.0, "mono": 0.0, "cross": 0.002, "hybrid": 0.004}[strategy]  # a small true effect
        evaluation = xquad_small.evaluate(
            _normalised(q + scale * rng.normal(size=q.shape) + shift), _normalised(c + scale * rng.normal(size=c.shape))
        )
        name = "grid/reference" if seed is None else f"grid/{strategy}-seed{seed}"
        run_id = store.start_run(
            engine,
            name,
            experiment="grid",
            strategy=strategy,
            alpha=alpha,
            model="e5-small",
            train_set="mlqa-r",
            eval_sets="xquad-r",
            seen_languages=SEEN,
            pretraining_languages=",".join(XLM_R),
            exposure=exposure_record("e5-small"),
            seed=seed,
            code_version="test",
            machine={"cpu": "test CPU", "matrix_isa": "none"},
            config={
                "model": "e5-small",
                "train_set": "mlqa-r",
                "eval_sets": ["xquad-r"],
                "profile": "standard",
                "train": {"steps": 40, "batch_size": 16},
            },
            leakage=[{"eval_set": "xquad-r", "query_overlap": 0, "passage_overlap": 0}],
        )
        store.store_results(engine, run_id, [evaluation], [], {"train": 60.0, "evaluate:xquad-r": 30.0})
    return url


def _report(url: str):
    engine = make_engine(url, read_only=True)
    runs = queries.runs(engine, experiment="grid")
    ids = runs["id"].tolist()
    return runs, build_report(
        "grid", runs, queries.metrics(engine, ids), lambda d, m: queries.query_scores(engine, ids, d, m)
    )


def test_the_report_s_figures_equal_the_store_s(report_store):
    runs, report = _report(report_store)
    engine = make_engine(report_store, read_only=True)
    [section] = report.sections
    assert section.name == "xquad-r"
    figures = section.figures.set_index(["languages", "column", "arm"])
    stored = queries.metrics(engine, runs["id"].tolist(), dataset="xquad-r", setting="mono", metric="map")
    per_run = stored.groupby("run_id")["value"].mean()  # Mo: one group per language, so the macro is the plain mean
    for strategy in ("mono", "cross", "hybrid"):
        values = per_run[runs.loc[runs["strategy"] == strategy, "id"]].to_numpy()
        row = figures.loc[(ALL_LANGUAGES, "Mo mAP", strategy)]
        assert row["seeds"] == 3 and row["mean"] == pytest.approx(values.mean())
        assert row["sd"] == pytest.approx(values.std(ddof=1))
        assert row["low"] < row["mean"] < row["high"]
    assert figures.loc[(ALL_LANGUAGES, "Mo mAP", "reference"), "seeds"] == 1

    # hybrid - mono on Mul mAP over all languages: the difference of the seed-averaged questions
    scores = queries.query_scores(engine, runs["id"].tolist(), "xquad-r", "map", setting="multi")
    per_question = scores.groupby(["run_id", "query_id"])["value"].mean().unstack("query_id")
    mean_of = {s: per_question.loc[runs.loc[runs["strategy"] == s, "id"]].mean(axis=0) for s in ("mono", "hybrid")}
    row = section.differences.set_index(["comparison", "figure", "languages"]).loc[
        ("hybrid - mono", "Mul mAP", ALL_LANGUAGES)
    ]
    assert row["difference"] == pytest.approx((mean_of["hybrid"] - mean_of["mono"]).mean())
    assert row["questions"] == per_question.shape[1] and row["seeds"] == "3 vs 3"
    assert set(section.differences["comparison"]) == {"hybrid - mono", "hybrid - cross", "hybrid - reference"}
    assert set(section.agreement["figure"]) == {"Mo mAP", "Cr mAP", "Mul mAP", "Mul rank dist"}
    verdicts = {v.split(":")[0] for v in section.agreement["verdict"]}
    assert verdicts <= {"agrees", "disagrees", "undecided", "not shown", "no verdict"}
    assert report.primary.empty  # this store's spec declared no hypothesis: nothing is declared after the fact
    setup = dict(report.setup)
    assert setup["seeds"] == "1, 2, 3" and "test CPU" in setup["machine"] and "0 query" in setup["zero-shot guard"]


def test_the_command_writes_a_page_that_renders_in_a_real_browser(report_store, tmp_path, monkeypatch):
    from dashboard.snapshot import Browser

    monkeypatch.setenv("HYBRID_EVAL_DB_URL", report_store)
    result = CliRunner().invoke(app, ["report", "grid", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page, markdown = tmp_path / "grid.html", tmp_path / "grid.md"
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 1 and "Against the paper" in text  # self-contained
    assert "(grid-xquad-r.png)" in markdown.read_text() and (tmp_path / "grid-xquad-r.png").stat().st_size > 10_000
    md = markdown.read_text()
    assert "from the exposure card of multilingual-e5-small" in md  # what the coverage labels rest on
    assert "Same source: XQuAD's paragraphs are SQuAD v1.1 dev" in md  # the set's exposure flag
    assert re.search(r"Mul: 3 groups of [\d,]+ queries against [\d,]+ candidates", md)  # pool and queries
    with Browser() as browser:
        shot = browser.snapshot(page.as_uri(), "Against the paper", timeout=60)
    assert "hybrid - mono" in shot.text and "Mul rank dist" in shot.text and len(shot.png) > 40_000

    bad = CliRunner().invoke(app, ["report", "no-such-experiment", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "no completed run" in bad.output
    again = experiment_report("grid", report_store, tmp_path / "again")[0].read_text()
    assert re.findall(r"<h2>([^<]*)</h2>", again) == ["Set-up", "Primary hypotheses", "xquad-r"]
    assert "The spec declared no primary hypothesis: every test below is exploratory." in again


def test_the_report_says_which_datasets_the_paper_reported():
    checked = pd.DataFrame({"figure": ["Mul mAP", "Mul rank dist"]})
    assert "on xquad-r: its claims are checked on the same figures" in paper_scope("xquad-r", checked, LAREQA_PAPER)
    assert "Mul mAP, Mul rank dist on XQuAD-R and MLQA-R only" in paper_scope("sib-200", checked, SIB_PAPER)
    assert "did not evaluate" in paper_scope("sib-200", checked, SIB_PAPER)
    assert "no claim of the paper to check" in paper_scope("afriqa", checked.iloc[:0], None)


def test_summary_dashboard_and_report_print_the_same_all_languages_figure(report_store, monkeypatch):
    """One aggregation: a run's Cr mAP over all languages (the macro over its 110-pair kind of
    groups, here 6 pairs) is the same number in the printed summary, the dashboard's Runs view
    and the report."""
    from streamlit.testing.v1 import AppTest

    from flows.summary import experiment_summary

    engine = make_engine(report_store, read_only=True)
    runs = queries.runs(engine, experiment="grid")
    reference = int(runs.loc[runs["name"] == "grid/reference", "id"].iloc[0])
    cross = queries.metrics(engine, [reference], dataset="xquad-r", setting="cross", metric="map")["value"]
    expected = cross.mean()  # every language pair weighs the same
    assert (
        f"{expected:.3f}" in experiment_summary("grid", report_store).split("mono")[0]
    )  # the reference's rows come first
    _, report = _report(report_store)
    row = (
        report.sections[0].figures.set_index(["languages", "column", "arm"]).loc[(ALL_LANGUAGES, "Cr mAP", "reference")]
    )
    assert row["mean"] == pytest.approx(expected, abs=1e-12)
    monkeypatch.setenv("HYBRID_EVAL_DB_URL", report_store)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=120)
    app.run()
    table = app.dataframe[0].value
    assert table.loc[table["name"] == "grid/reference", "Cr mAP"].iloc[0] == pytest.approx(expected, abs=1e-12)
