"""Packed per-query scores: bit-exact round trip, and the upgrade of a store in the old
layout (one row per value), which must lose nothing and change no paired test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Column, Double, Integer, MetaData, String, Table, select

from db import queries
from db.models import Base, MetricRow, Run
from db.session import make_engine
from db.store import OldLayout, _bulk_insert, init_store, start_run, store_results
from db.upgrade import upgrade_store
from hybridcore.analysis.comparison import paired_tests
from tests.helpers import fake_evaluation

KEY = ["run_id", "dataset", "setting", "query_lang", "candidate_lang", "query_id", "metric"]


def _old_layout_table(metadata: MetaData) -> Table:
    """``query_scores`` as the code before packed arrays declared it."""
    return Table(
        "query_scores",
        metadata,
        Column("run_id", Integer, primary_key=True),
        Column("dataset", String, primary_key=True),
        Column("setting", String, primary_key=True),
        Column("query_lang", String, primary_key=True),
        Column("candidate_lang", String, primary_key=True),
        Column("query_id", String, primary_key=True),
        Column("metric", String, primary_key=True),
        Column("value", Double),
    )


def _write_old_store(url: str, runs: dict) -> pd.DataFrame:
    """A store as the previous code wrote it: runs and figures as now, per-query values one row
    each. Returns those rows."""
    engine = make_engine(url)
    old_metadata = MetaData()
    old_scores = _old_layout_table(old_metadata)
    Base.metadata.create_all(engine, tables=[Run.__table__, MetricRow.__table__])
    old_metadata.create_all(engine)
    rows = []
    for name, evaluations in runs.items():
        run_id = start_run(
            engine, name, strategy=name, model="e5-small", eval_sets="xquad-r,afriqa", config={"seed": 0}
        )
        figures = pd.concat([e.figures() for e in evaluations], ignore_index=True).assign(run_id=run_id)
        scores = pd.concat([pd.DataFrame(e.per_query_columns()) for e in evaluations], ignore_index=True).assign(
            run_id=run_id
        )
        with engine.begin() as conn:
            _bulk_insert(conn, MetricRow.__table__, figures)
            _bulk_insert(conn, old_scores, scores)
        rows.append(scores)
    return pd.concat(rows, ignore_index=True)


@pytest.fixture()
def real_runs(xquad_small, real_embeddings, afriqa_small, afriqa_embeddings):
    """Two runs on real data: the real model's evaluation, and random vectors'."""
    real = [xquad_small.evaluate(*real_embeddings), afriqa_small.evaluate(*afriqa_embeddings)]
    rng = np.random.default_rng(1)
    noise = [afriqa_small.evaluate(*(rng.normal(size=e.shape).astype(np.float32) for e in afriqa_embeddings))]
    return {"reference": real, "hybrid": [fake_evaluation(xquad_small, 0), *noise]}


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_packed_scores_round_trip_bit_for_bit(backend, request, tmp_path, real_runs):
    url = (
        f"duckdb:///{tmp_path / 'store.duckdb'}"
        if backend == "duckdb"
        else request.getfixturevalue("postgres").new_database()
    )
    engine = make_engine(url)
    init_store(engine)
    for name, evaluations in real_runs.items():
        store_results(engine, start_run(engine, name, strategy=name, model="m", eval_sets="x", config={}), evaluations)
    for name, evaluations in real_runs.items():
        run_id = queries.runs(engine).set_index("name").loc[name, "id"]
        for e in evaluations:
            expected = pd.DataFrame(e.per_query_columns())
            for metric in expected["metric"].unique():
                got = queries.query_scores(engine, [run_id], e.dataset, metric)
                want = (
                    expected[expected["metric"] == metric]
                    .sort_values(["setting", "query_lang", "candidate_lang"], kind="stable")
                    .reset_index(drop=True)
                )
                pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True, check_dtype=False)
    # id lists are shared: both runs evaluated the same questions
    counts = queries.row_counts(engine)
    assert counts["query_id_lists"] < counts["per_query_scores"] / 2


def test_upgrade_loses_nothing_and_changes_no_paired_test(tmp_path, real_runs):
    path = tmp_path / "store.duckdb"
    url = f"duckdb:///{path}"
    old_rows = _write_old_store(url, real_runs)
    engine = make_engine(url)
    with pytest.raises(OldLayout, match="hybrid-eval store upgrade"):
        init_store(engine)
    figure_key = ["run_id", "dataset", "setting", "query_lang", "candidate_lang", "metric"]
    figures_before = queries.metrics(engine, [1, 2]).sort_values(figure_key)

    report = upgrade_store(engine)

    assert report["upgraded"] and report["values"] == len(old_rows) and not queries.needs_upgrade(engine)
    assert (tmp_path / "store.duckdb.before-compact").is_file()
    init_store(engine)  # the store takes writes again
    figures_after = queries.metrics(engine, [1, 2]).sort_values(figure_key)
    pd.testing.assert_frame_equal(figures_after.reset_index(drop=True), figures_before.reset_index(drop=True))
    labels = {1: "reference", 2: "hybrid"}
    for (dataset, metric), old in old_rows.groupby(["dataset", "metric"]):
        new = queries.query_scores(engine, [1, 2], dataset, metric)
        assert len(new) == len(old)
        merged = old.merge(new, on=KEY, suffixes=("_old", "_new"), validate="one_to_one")
        assert len(merged) == len(old)
        np.testing.assert_array_equal(merged["value_old"].to_numpy(), merged["value_new"].to_numpy())
        for level in ("pair", "language", "overall"):
            before = paired_tests(
                old.assign(run=old["run_id"].map(labels)), "reference", "hybrid", level=level, permutations=500
            )
            after = paired_tests(
                new.assign(run=new["run_id"].map(labels)), "reference", "hybrid", level=level, permutations=500
            )
            pd.testing.assert_frame_equal(after, before, check_exact=True)
    # the compacted file kept the run-id sequence: a new run gets a new id
    new_id = start_run(engine, "after-upgrade", strategy="mono", model="m", eval_sets="x", config={})
    assert new_id not in (1, 2)
    with engine.connect() as conn:
        assert conn.execute(select(Run.name).where(Run.id == new_id)).scalar_one() == "after-upgrade"


def test_upgrade_of_a_current_store_does_nothing(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'store.duckdb'}")
    init_store(engine)
    assert upgrade_store(engine) == {"upgraded": False}
    assert not (tmp_path / "store.duckdb.before-compact").exists()
