"""The DuckDB store: schema, one-transaction writes, replace-on-rerun, failures, concurrency."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from db import queries
from db.session import make_engine
from db.store import fail_run, init_store, start_run, store_results
from hybridcore.analysis.figures import macro
from tests.helpers import fake_evaluation


@pytest.fixture()
def engine(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'store.duckdb'}")
    init_store(engine)
    return engine


def test_store_and_read_back(engine, xquad_small):
    evaluation = fake_evaluation(xquad_small, 0)
    run = start_run(engine, "ref", strategy="reference", model="e5-small", eval_sets="xquad-r", config={"a": 1}, seed=1)
    store_results(engine, run, [evaluation], artifacts=[("results", "/tmp/r.json")], timings={"encode": 1.0})
    listed = queries.runs(engine)
    assert listed.loc[0, "status"] == "completed" and listed.loc[0, "config"] == {"a": 1}
    summary = macro(queries.metrics(engine, [run])).set_index(["setting", "metric"])["value"]
    for setting, values in evaluation.summary().items():
        for metric, value in values.items():
            assert summary[(setting, metric)] == pytest.approx(value)
    counts = queries.row_counts(engine)
    n_groups = len(evaluation.groups)
    assert counts["metrics"] == sum(len(g.per_query) for g in evaluation.groups) and n_groups == 12
    assert counts["per_query_scores"] == counts["metrics"]  # one packed array per figure
    assert queries.per_query_values(engine) == sum(len(g.query_ids) * len(g.per_query) for g in evaluation.groups)


def test_rerun_replaces_rows(engine, xquad_small):
    for seed in (0, 1):
        run = start_run(engine, "hybrid-a", strategy="hybrid", model="m", eval_sets="xquad-r", config={})
        store_results(engine, run, [fake_evaluation(xquad_small, seed)])
    counts = queries.row_counts(engine)
    assert counts["runs"] == 1
    expected = fake_evaluation(xquad_small, 1).summary()["mono"]["map"]
    got = macro(queries.metrics(engine, [run])).query("setting == 'mono' and metric == 'map'")["value"].item()
    assert got == pytest.approx(expected)


def test_failed_rerun_keeps_stored_results(engine, xquad_small):
    run = start_run(engine, "x", strategy="mono", model="m", eval_sets="xquad-r", config={})
    store_results(engine, run, [fake_evaluation(xquad_small, 0)])
    before = queries.row_counts(engine)
    again = start_run(engine, "x", strategy="mono", model="m", eval_sets="xquad-r", config={})
    fail_run(engine, again, "RuntimeError: out of memory")
    row = queries.runs(engine).iloc[0]
    assert (row["status"], row["error"]) == ("failed", "RuntimeError: out of memory")
    assert queries.row_counts(engine) == before


def _writer(url: str, name: str, seed: int, data_dir: str) -> None:
    import os

    os.environ["HYBRID_EVAL_DATA_DIR"] = data_dir
    from hybridcore.data.lareqa import load_lareqa

    data = load_lareqa("xquad-r", ["en", "de"])
    engine = make_engine(url)
    for i in range(3):
        run = start_run(engine, f"{name}", strategy="mono", model="m", eval_sets="xquad-r", config={"i": i})
        store_results(engine, run, [fake_evaluation(data, seed + i)])


def _reader(url: str, rounds: int, out) -> None:
    engine = make_engine(url)
    from db.session import with_retry

    seen = 0
    for _ in range(rounds):
        seen = max(seen, with_retry(lambda: queries.row_counts(engine))["runs"])
    out.put(seen)


def test_two_writers_and_a_reader_at_once(engine, tmp_path, shared_data):
    url = str(engine.url)
    ctx = mp.get_context("spawn")  # torch in the parent: never fork
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, "w1", 0, str(shared_data))),
             ctx.Process(target=_writer, args=(url, "w2", 10, str(shared_data))),
             ctx.Process(target=_reader, args=(url, 20, results))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    counts = queries.row_counts(engine)
    assert counts["runs"] == 2
    per_run = queries.metrics(engine, [1, 2]).groupby("run_id").size()
    from hybridcore.data.lareqa import load_lareqa

    one_set = sum(len(g.per_query) for g in fake_evaluation(load_lareqa("xquad-r", ["en", "de"]), 0).groups)
    assert len(per_run) == 2 and (per_run == one_set).all()  # each run: exactly one full set of rows
