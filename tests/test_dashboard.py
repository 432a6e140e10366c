"""The dashboard: every view under AppTest on a store seeded with runs on real e5-small
embeddings of XQuAD-R, the messages for a missing, empty or locked store, and a real browser."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from db import queries, store
from db.models import Run
from db.session import make_engine
from hybridcore.analysis.coverage import ALL_LANGUAGES, CC100, DOCUMENTED, FINE_TUNING, NEVER, PRETRAINING, SUPERVISED
from hybridcore.config.spec import RunSpec
from hybridcore.model.exposure import exposure_record
from hybridcore.model.pretraining import XLM_R
from tests.helpers import free_port

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
STRATEGIES = ("reference", "mono", "cross", "hybrid")
SEEN = "ar,de,en,es,hi,vi,zh"  # MLQA-R's languages: en and de seen in fine-tuning, th in XLM-R's pretraining only
PRETRAINED = ",".join(XLM_R)
CARD = exposure_record("e5-small")


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _seed(
    url: str, q: np.ndarray, c: np.ndarray, data, experiments: list[tuple[str, datetime]], underrepresented=()
) -> None:
    """Four runs per experiment: the reference is the real e5-small, the strategies are its
    embeddings moved by seeded noise (so every figure is real-shaped)."""
    engine = make_engine(url)
    store.init_store(engine)
    for night, (experiment, start) in enumerate(experiments):
        for k, strategy in enumerate(STRATEGIES):
            rng = np.random.default_rng(100 * night + k)
            scale = 0.0 if strategy == "reference" else 0.015
            evaluation = data.evaluate(
                _normalised(q + scale * rng.normal(size=q.shape)), _normalised(c + scale * rng.normal(size=c.shape))
            )
            run_id = store.start_run(
                engine,
                f"{experiment}/{strategy}",
                experiment=experiment,
                strategy=strategy,
                alpha=0.5 if strategy == "hybrid" else None,
                model="e5-small",
                train_set="mlqa-r",
                eval_sets="xquad-r",
                seen_languages=SEEN,
                pretraining_languages=PRETRAINED,
                exposure=CARD,
                config={"profile": "quick"},
                seed=42,
                code_version="test",
            )
            extra = [
                data.evaluate(*(_normalised(x + scale * rng.normal(size=x.shape)) for x in embeddings))
                for data, embeddings in underrepresented
            ]
            store.store_results(
                engine, run_id, [evaluation, *extra], [("evaluation", "/nowhere")], {"evaluate:xquad-r": 1.0}
            )
            with engine.begin() as conn:
                started = start + timedelta(minutes=k)
                conn.execute(
                    update(Run)
                    .where(Run.id == run_id)
                    .values(started_at=started, ended_at=started + timedelta(minutes=2))
                )


@pytest.fixture(scope="module")
def seeded_store(
    tmp_path_factory, real_embeddings, xquad_small, afriqa_small, afriqa_embeddings, flores_small, flores_embeddings
) -> str:
    """Two nightly experiments of four runs each (XQuAD-R, AfriQA, SIB-200), and one failed run."""
    url = f"duckdb:///{tmp_path_factory.mktemp('dashboard') / 'store.duckdb'}"
    nights = [
        (f"nightly-quick-e5-small-mlqa-r-{day}T013000Z", datetime(2026, 11, 23 + i, 1, 30, tzinfo=UTC))
        for i, day in enumerate(("20261123", "20261124"))
    ]
    _seed(
        url,
        *real_embeddings,
        xquad_small,
        nights,
        [(afriqa_small, afriqa_embeddings), (flores_small, flores_embeddings)],
    )
    engine = make_engine(url)
    # one failed run: listed, never compared
    failed = store.start_run(
        engine,
        "adhoc/broken",
        experiment="adhoc",
        strategy="hybrid",
        model="e5-small",
        eval_sets="xquad-r",
        config={},
        seen_languages=SEEN,
    )
    store.fail_run(engine, failed, "DataError: bad record")
    return url


@pytest.fixture(scope="module")
def first_run_store(
    tmp_path_factory, real_embeddings, xquad_small, afriqa_small, afriqa_embeddings, flores_small, flores_embeddings
) -> str:
    """What a new user has after one `make run`: one local experiment of four runs, no nightly."""
    url = f"duckdb:///{tmp_path_factory.mktemp('first-run') / 'store.duckdb'}"
    _seed(
        url,
        *real_embeddings,
        xquad_small,
        [("local-quick-e5-small-mlqa-r-20261125T140000Z", datetime.now(UTC))],
        [(afriqa_small, afriqa_embeddings), (flores_small, flores_embeddings)],
    )
    return url


NIGHTLY_SETS = ("xquad-r?languages=en,de,ar&sample=60&pool=sampled",)


@pytest.fixture(scope="module")
def nightly_store(tmp_path_factory, tiny_model, shared_data) -> str:
    """Two watched series over three nights, made by `hybrid-eval nightly` itself: a
    training job whose checkpoints move a little each night (its exposure card e5-small's)
    and whose third is broken on purpose, and a second job that only moves a little."""
    from tests.helpers import write_checkpoint

    folder = tmp_path_factory.mktemp("nightly-store")
    url = f"duckdb:///{folder / 'store.duckdb'}"
    jobs = {"job-a": folder / "job-a", "job-b": folder / "job-b"}
    watch = {
        "series": [
            {"series": "job-a", "folder": str(jobs["job-a"]), "base": "e5-small"},
            {"series": "job-b", "glob": str(jobs["job-b"] / "checkpoint-*")},
        ],
        "settle_seconds": 0,
    }
    spec = {"model": str(tiny_model), "strategies": [], "eval_sets": list(NIGHTLY_SETS), "watch": watch}
    spec_file = folder / "spec.json"
    spec_file.write_text(json.dumps(RunSpec.from_dict(spec).to_dict()))
    for night in range(3):
        step = 100 * (night + 1)
        for name, job in jobs.items():
            broken = name == "job-a" and night == 2
            write_checkpoint(tiny_model, job / f"checkpoint-{step}", noise=1e-3 * night, broken=broken, seed=night)
        # `hybrid-eval nightly`, each night its own process, as a scheduled run is
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "nightly", "--spec", str(spec_file)],
            env={**os.environ, "HYBRID_EVAL_DB_URL": url},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"night local-nightly-quick-{tiny_model.name}" in done.stdout
    return url


# Each view and a text that only it shows once it has drawn its figures.
VIEWS = {
    "runs": ("/", "Scheduled evaluations over time"),
    "compare": ("/compare", "Download comparison.csv"),
    "pairs": ("/pairs", "Download pairs-difference.csv"),
    "bias": ("/bias", "Multilingual mAP per query language"),
    "coverage": ("/coverage", "minus each other run"),
    "underrepresented": ("/underrepresented", "Download sib-200-languages.csv"),
    "significance": ("/significance", "Significant rows"),
    "nightly": ("/nightly", "The night's report"),
    "arms": ("/arms", "Learning curves"),
}


def _app(url: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("HYBRID_EVAL_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def _page(at: AppTest, view: str) -> AppTest:
    at.switch_page(f"views/{view}.py").run()
    assert not at.exception, at.exception
    return at


def _downloads(at: AppTest) -> list[str]:
    return [node.proto.label for node in at.get("download_button")]


def test_runs_view_lists_and_filters_runs_and_shows_the_nightly_series(seeded_store, monkeypatch):
    at = _app(seeded_store, monkeypatch)
    assert not at.exception and at.title[0].value == "Runs"
    table = at.dataframe[0].value
    # one row per run and evaluation set (XQuAD-R, AfriQA, SIB-200), the failed run once
    assert len(table) == 8 * 3 + 1 and set(table["status"]) == {"completed", "failed"}
    assert {"Mo mAP", "Cr mAP", "Mul mAP", "Mul rank dist", "X→pivot nDCG@10", "bitext P@1"} <= set(table.columns)
    hybrid = table[
        (table["name"] == "nightly-quick-e5-small-mlqa-r-20261124T013000Z/hybrid") & (table["dataset"] == "xquad-r")
    ].iloc[0]
    assert 0 < hybrid["Mul mAP"] < 1
    series = at.dataframe[1].value
    assert len(series) == 8 and series["experiment_start"].is_monotonic_increasing
    assert series["experiment_start"].nunique() == 2  # a night's runs share one point in time
    assert "Download runs.csv" in _downloads(at) and "Download series.csv" in _downloads(at)

    at.multiselect(key="runs-strategy").set_value(["hybrid"]).run()
    assert set(at.dataframe[0].value["strategy"]) == {"hybrid"} and len(at.dataframe[0].value) == 2 * 3 + 1
    at.multiselect(key="runs-status").set_value(["failed"]).run()
    assert at.dataframe[0].value["name"].tolist() == ["adhoc/broken"]
    at.multiselect(key="runs-status").set_value([]).run()
    at.multiselect(key="runs-strategy").set_value([]).run()
    at.date_input(key="runs-dates").set_value((datetime(2026, 11, 24).date(), datetime(2026, 11, 24).date())).run()
    assert len(at.dataframe[0].value) == 4 * 3  # the second night only (the failed run started today), three sets each


def test_runs_view_builds_an_experiment_s_report(seeded_store, monkeypatch):
    at = _app(seeded_store, monkeypatch)
    assert "Download the report (HTML)" not in _downloads(at)  # built on request only
    at.button(key="report-build").click().run()
    assert not at.exception, at.exception
    assert "Download the report (HTML)" in _downloads(at)


def test_every_view_renders_on_the_store_a_first_make_run_leaves(first_run_store, monkeypatch):
    for view in VIEWS:
        at = _app(first_run_store, monkeypatch)
        if view != "runs":
            at = _page(at, view)
        assert not at.exception and not at.error, view
        if view == "nightly":  # no nightly has run: each section says so in words
            infos = [i.value for i in at.info]
            assert any(i.startswith("No watched series yet") for i in infos), infos
            assert any(i.startswith("No nightly has run yet") for i in infos), infos
            continue
        drawn = [len(frame.value) for frame in at.dataframe] + [1 for _ in at.get("vega_lite_chart")]
        assert drawn and all(n > 0 for n in drawn), view  # figures, not an empty page
    at = _page(_app(first_run_store, monkeypatch), "arms")
    assert any(i.value.startswith("This experiment exported no checkpoints") for i in at.info)
    at = _app(first_run_store, monkeypatch)
    assert len(at.dataframe[0].value) == 4 * 3 and len(at.dataframe) == 1  # no nightly series to show
    assert not [w for w in at.warning if "sampled pool" in w.value]  # whole pools: no caveat
    assert "No completed runs of experiments starting with 'nightly'" in at.info[0].value


def test_nightly_view_shows_each_series_along_its_steps_with_the_flagged_regression(nightly_store, monkeypatch):
    engine = make_engine(nightly_store, read_only=True)
    nights = queries.nightly_reports(engine)
    assert len(nights) == 3 and nights["regressions"].tolist()[0] > 0 and nights["regressions"].tolist()[1:] == [0, 0]
    at = _page(_app(nightly_store, monkeypatch), "nightly")
    assert at.title[0].value == "Nightly evaluations"
    assert at.sidebar.selectbox(key="nightly-series").options == ["job-a", "job-b", "reference-tiny-model0"]
    curve = at.dataframe[0].value
    assert curve["step"].drop_duplicates().tolist() == [100, 200, 300]
    # job-a carries e5-small's card: the overall figure and its exposure groups, each a line
    assert {"all languages", "supervised retrieval data"} <= set(curve["languages"])
    assert curve.loc[curve["regression"], "step"].unique().tolist() == [300]
    compared = at.dataframe[1].value
    assert compared["regression"].any() and set(compared["against"]) == {"previous", "first"}
    assert at.get("vega_lite_chart")
    # the newest night's report beside it, as the artifact said
    assert any("## Regressions:" in m.value and "checkpoint-300" in m.value for m in at.markdown)

    at.sidebar.selectbox(key="nightly-series").set_value("job-b").run()
    curve = at.dataframe[0].value
    assert not curve["regression"].any() and set(curve["languages"]) == {"all languages", "unknown"}  # no card
    # its first checkpoint has job-a's weights: the same model is a point of both series
    assert curve["step"].drop_duplicates().tolist() == [100, 200, 300]
    at.selectbox(key="nightly-night").set_value(nights["night"].iloc[-1]).run()
    shown = [m.value for m in at.markdown]
    assert any("Evaluated 3 new model(s)" in m for m in shown)  # night 1: two jobs and the reference


def test_arms_view_shows_the_report_s_means_intervals_and_seeds(seeded_store, monkeypatch):
    from hybridcore.analysis.report import build_report, figure_table

    at = _page(_app(seeded_store, monkeypatch), "arms")
    experiment = at.sidebar.selectbox(key="arms-experiment").value
    assert experiment == "nightly-quick-e5-small-mlqa-r-20261124T013000Z"  # the newest with trained arms
    shown = at.dataframe[0].value
    engine = make_engine(seeded_store, read_only=True)
    runs = queries.runs(engine, experiment=experiment)
    ids = runs["id"].tolist()
    report = build_report(
        experiment, runs, queries.metrics(engine, ids), lambda d, m: queries.query_scores(engine, ids, d, m)
    )
    # the report's own table, cell for cell: the dashboard and the report never disagree
    assert shown.astype(str).equals(
        figure_table(report.sections[0].figures, report.sections[0].value_formats).astype(str)
    )
    assert {"reference", "mono", "cross"} <= set(shown["arm"])


def test_compare_view_puts_runs_side_by_side_with_differences(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "compare")
    table = at.dataframe[0].value
    newest = "nightly-quick-e5-small-mlqa-r-20261124T013000Z"
    captions = " ".join(c.value for c in at.caption)
    assert f"experiment `{newest}`" in captions  # runs of one experiment are labelled by strategy
    assert "Mul: 3 groups of 177 queries against 352 candidates" in captions  # what the figures were measured on
    assert [c for c in table.columns if c.startswith("Δ ")] == ["Δ mono", "Δ cross", "Δ hybrid"]
    row = table[(table["setting"] == "Mul") & (table["metric"] == "map")].iloc[0]
    assert row["Δ hybrid"] == pytest.approx(row["hybrid"] - row["reference"])
    assert set(table["setting"]) == {"Mo", "Cr", "Mul"}  # headline figures only
    assert len(at.get("vega_lite_chart")) == 1 and "Download comparison.csv" in _downloads(at)

    # two nights' hybrid runs against the first night's reference: full names
    first = "nightly-quick-e5-small-mlqa-r-20261123T013000Z"
    at.multiselect(key="compare-runs").set_value([f"{first}/reference", f"{first}/hybrid", f"{newest}/hybrid"]).run()
    table = at.dataframe[0].value
    assert [c for c in table.columns if c.startswith("Δ ")] == [f"Δ {first}/hybrid", f"Δ {newest}/hybrid"]


def test_pairs_view_draws_the_heatmap_and_the_difference_with_significance(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "pairs")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2
    assert "(* significant)" in charts[1].proto.spec
    assert {"Download pairs.csv", "Download pairs-difference.csv"} <= set(_downloads(at))


def test_bias_view_shows_rank_distance_per_language_and_overall(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "bias")
    table = at.dataframe[0].value
    assert list(table.index) == ["de", "en", "th", ALL_LANGUAGES]
    assert table.loc[ALL_LANGUAGES].iloc[0] == pytest.approx(table.iloc[:3, 0].mean())
    assert any(c.startswith("Δ ") for c in table.columns)
    mean, median = at.dataframe[1].value, at.dataframe[2].value  # the normalised distance: 0 adjacent, 1 random
    assert list(mean.index) == list(median.index) == ["de", "en", "th", ALL_LANGUAGES]
    assert mean.iloc[:3, 0].between(0, 1.2).all() and median.iloc[:3, 0].between(0, 1.2).all()
    assert any("mean rank of that answer in the pool of every language" in c.value for c in at.caption)
    assert "Download mean-rank-matrix.csv" in _downloads(at)
    assert any(re.search(r"Mul: 3 groups of [\d,]+ queries against [\d,]+ candidates", c.value) for c in at.caption)


def test_coverage_view_groups_languages_and_tests_the_differences(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "coverage")
    assert any("Seen in fine-tuning: ar, de, en" in c.value for c in at.caption)
    assert any("Same source: XQuAD's paragraphs are SQuAD v1.1 dev" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert set(table["languages"]) == {ALL_LANGUAGES, FINE_TUNING, SUPERVISED} and len(table) == 12  # th: Mr. TyDi
    tests = at.dataframe[2].value
    assert set(tests["coverage"]) == {FINE_TUNING, SUPERVISED} and tests["p_adjusted"].between(0, 1).all()
    at.radio(key="coverage-scheme").set_value(CC100).run()  # the old three groups, for comparison
    assert set(at.dataframe[0].value["languages"]) == {ALL_LANGUAGES, FINE_TUNING, PRETRAINING}


def test_underrepresented_view_shows_the_afriqa_gap_and_sib200_by_coverage(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "underrepresented")
    assert not at.exception
    gap = at.dataframe[0].value
    assert set(gap["language"]) == {"ha", "yo"} and set(gap["coverage"]) == {DOCUMENTED}
    assert np.allclose(gap["gap"], gap["translated"] - gap["native"])
    tests = at.dataframe[1].value
    assert (
        set(tests["query_lang"]) == {"ha", "yo"}
        and set(tests["setting"]) == {"gap"}
        and tests["p_adjusted"].between(0, 1).all()
    )
    sib = at.dataframe[2].value
    assert list(dict.fromkeys(sib["coverage"])) == [FINE_TUNING, SUPERVISED, DOCUMENTED]  # best covered first
    assert set(sib["language"]) == {"en", "de", "sw", "yo"} and sib["bitext P@1"].dropna().between(0, 1).all()
    flags = dict(zip(sib["language"], sib["exposure flag"]))
    assert flags == {"en": "possibly seen", "de": "", "sw": "possibly seen", "yo": "possibly seen"}  # xP3's FLORES
    assert any("sib-200: Possibly seen" in w.value for w in at.warning)
    at.radio(key="coverage-scheme").set_value(CC100).run()
    assert set(at.dataframe[0].value["coverage"]) == {PRETRAINING, NEVER}
    assert {"Download afriqa-gap.csv", "Download sib-200-languages.csv"} <= set(_downloads(at))


def test_significance_view_tests_per_language_pair_and_overall(seeded_store, monkeypatch):
    at = _page(_app(seeded_store, monkeypatch), "significance")
    table = at.dataframe[0].value
    assert set(table["setting"]) == {"mono", "cross", "multi"} and len(table) == 9
    assert (table["p_adjusted"] >= table["p"]).all()
    at.radio(key="sig-level").set_value("pair").run()
    assert len(at.dataframe[0].value) == 3 + 6 + 3 and len(at.get("vega_lite_chart")) == 1
    at.radio(key="sig-level").set_value("overall").run()
    at.radio(key="sig-correction").set_value("bh").run()
    assert len(at.dataframe[0].value) == 3 and any("Benjamini-Hochberg" in c.value for c in at.caption)
    at.selectbox(key="sig-b").set_value(at.selectbox(key="sig-a").value).run()
    assert "two different runs" in at.info[0].value


def test_missing_and_empty_stores_give_a_message(tmp_path, monkeypatch):
    missing = f"duckdb:///{tmp_path / 'nothing.duckdb'}"
    for view in ("runs", "compare", "pairs", "bias", "coverage", "underrepresented", "significance"):
        at = _app(missing, monkeypatch)
        if view != "runs":
            at = _page(at, view)
        assert not at.exception and "No store at" in at.info[0].value
    assert not (tmp_path / "nothing.duckdb").exists()  # reading never creates a store

    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    at = _page(_app(f"duckdb:///{tmp_path / 'empty.duckdb'}", monkeypatch), "compare")
    assert "is empty" in at.info[0].value


def test_a_store_locked_by_a_writer_gives_a_message(seeded_store, tmp_path, monkeypatch):
    path = seeded_store.removeprefix("duckdb:///")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time\ncon = duckdb.connect({path!r})\nprint('locked', flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        st.cache_data.clear()  # what earlier tests read of this store would still be served
        at = _app(seeded_store, monkeypatch)
        assert not at.exception and "being written" in at.info[0].value
    finally:
        writer.kill()
        writer.wait()


def test_every_view_reads_a_postgresql_store_while_a_run_writes(
    postgres,
    real_embeddings,
    xquad_small,
    afriqa_small,
    afriqa_embeddings,
    flores_small,
    flores_embeddings,
    monkeypatch,
):
    """On PostgreSQL a writer's open transaction blocks no reader: every view draws the
    committed runs, with no lock message, and never the half-written one."""
    url = postgres.new_database()
    _seed(
        url,
        *real_embeddings,
        xquad_small,
        [("local-quick-e5-small-mlqa-r-20261125T140000Z", datetime.now(UTC))],
        [(afriqa_small, afriqa_embeddings), (flores_small, flores_embeddings)],
    )
    engine = make_engine(url)
    writing = store.start_run(
        engine,
        "in-flight/hybrid",
        experiment="in-flight",
        strategy="hybrid",
        model="e5-small",
        eval_sets="xquad-r",
        config={},
    )
    evaluation = xquad_small.evaluate(*real_embeddings)
    with engine.connect() as writer:
        transaction = writer.begin()
        store._bulk_insert(writer, store.MetricRow.__table__, evaluation.figures().assign(run_id=writing))
        st.cache_data.clear()
        for view in VIEWS:
            at = _app(url, monkeypatch)
            if view != "runs":
                at = _page(at, view)
            assert not at.exception and not at.error, view
            assert not any("being written" in info.value for info in at.info), view
        table = _app(url, monkeypatch).dataframe[0].value
        # the four runs on three sets each, and the one in flight listed as running, without figures
        assert len(table) == 4 * 3 + 1 and list(table.loc[table["status"] == "running", "name"]) == ["in-flight/hybrid"]
        transaction.rollback()
    assert queries.metrics(engine, [writing]).empty


@pytest.mark.real
@pytest.mark.parametrize("which", ["seeded_store", "first_run_store", "nightly_store"])
def test_every_view_renders_in_a_real_browser(which, request, tmp_path):
    """Streamlit served on loopback, Chromium headless: each view's own text in the DOM and a
    screenshot with something drawn on it, on the rich store and on a new user's first one."""
    url = request.getfixturevalue(which)
    from dashboard.snapshot import Browser

    port = free_port()
    env = {**os.environ, "HYBRID_EVAL_DB_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            APP,
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        views = VIEWS
        if which == "nightly_store":  # watched models only: no arms, which the Arms view says in words
            views = {
                "runs": VIEWS["runs"],
                "nightly": VIEWS["nightly"],
                "arms": ("/arms", "No experiment with trained"),
            }
        with Browser() as browser:
            for name, (path, expected) in views.items():
                shot = browser.snapshot(base + path, expected, timeout=120)
                assert "Traceback" not in shot.text and "Error" not in shot.text.split("\n")[0]
                assert shot.png[:8] == b"\x89PNG\r\n\x1a\n" and len(shot.png) > 40_000, name
                (tmp_path / f"{name}.png").write_bytes(shot.png)
        runs_before = {"seeded_store": 9, "first_run_store": 4, "nightly_store": 7}[which]
        assert queries.row_counts(make_engine(url, read_only=True))["runs"] == runs_before  # nothing written
    finally:
        server.terminate()
        server.wait(timeout=20)
