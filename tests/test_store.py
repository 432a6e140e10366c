"""The store, on DuckDB and on a real PostgreSQL server alike: schema, one-transaction writes,
replace-on-rerun, failures, concurrency."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from db import queries
from db.session import make_engine
from db.store import fail_run, init_store, start_run, store_results
from hybridcore.analysis.figures import macro
from tests.helpers import fake_evaluation


@pytest.fixture(params=["duckdb", "postgresql"])
def engine(request, tmp_path):
    url = (
        f"duckdb:///{tmp_path / 'store.duckdb'}"
        if request.param == "duckdb"
        else request.getfixturevalue("postgres").new_database()
    )
    engine = make_engine(url)
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
    assert counts["metrics"] == sum(len(g.per_query) for g in evaluation.groups)
    assert n_groups == 12 + 3 * 3  # and the 3 x 3 rank matrix (mul_rank)
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
    from hybridcore.data.formats.lareqa import load_lareqa

    data = load_lareqa("xquad-r", ["en", "de"])
    engine = make_engine(url)
    for i in range(3):
        run = start_run(engine, f"{name}", strategy="mono", model="m", eval_sets="xquad-r", config={"i": i})
        store_results(engine, run, [fake_evaluation(data, seed + i)])


def _reader(url: str, rounds: int, expected: int, out) -> None:
    """Reads while the writers write, as the dashboard does (a read-only engine); on PostgreSQL
    without waiting for any lock. Every completed run it sees has one full set of rows."""
    engine = make_engine(url, read_only=True)
    from db.session import with_retry

    read = (lambda f: with_retry(f)) if url.startswith("duckdb") else (lambda f: f())
    seen, incomplete = 0, 0
    for _ in range(rounds):
        ids = read(lambda: queries.runs(engine, status="completed"))["id"].tolist()
        seen = max(seen, len(ids))
        if ids:
            per_run = read(lambda ids=ids: queries.metrics(engine, ids)).groupby("run_id").size()
            incomplete += int((per_run.reindex(ids, fill_value=0) != expected).sum())
    out.put((seen, incomplete))


def test_writers_and_a_reader_at_once(engine, shared_data):
    """Two writers on DuckDB (one writing process at a time: they take turns), four on
    PostgreSQL (they write at once), each re-storing its run three times, and a reader."""
    url = engine.url.render_as_string(hide_password=False)
    writers = 2 if url.startswith("duckdb") else 4
    from hybridcore.data.formats.lareqa import load_lareqa

    one_set = sum(len(g.per_query) for g in fake_evaluation(load_lareqa("xquad-r", ["en", "de"]), 0).groups)
    ctx = mp.get_context("spawn")  # torch in the parent: never fork
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, f"w{i}", 10 * i, str(shared_data))) for i in range(writers)]
    procs.append(ctx.Process(target=_reader, args=(url, 20, one_set, results)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    seen, incomplete = results.get(timeout=5)
    assert seen <= writers and incomplete == 0
    stored = queries.runs(engine)
    assert len(stored) == writers and set(stored["status"]) == {"completed"}
    per_run = queries.metrics(engine, stored["id"].tolist()).groupby("run_id").size()
    assert len(per_run) == writers and (per_run == one_set).all()  # each run: exactly one full set of rows
    assert queries.row_counts(engine)["per_query_scores"] == writers * one_set


_KILLED_WRITER = """
import sys, time
import db.store as store
from db.session import make_engine
from hybridcore.data.formats.lareqa import load_lareqa
from tests.helpers import fake_evaluation

real_insert = store._bulk_insert
def insert_then_hang(conn, table, frame):
    real_insert(conn, table, frame)
    if table.name == "metrics":  # figures written, transaction open: be killed here
        print("inside", flush=True)
        time.sleep(600)
store._bulk_insert = insert_then_hang
engine = make_engine(sys.argv[1])
run = store.start_run(engine, "killed", strategy="mono", model="m", eval_sets="xquad-r", config={})
store.store_results(engine, run, [fake_evaluation(load_lareqa("xquad-r", ["en", "de"]), 0)])
"""


def test_a_writer_killed_while_storing_leaves_no_partial_rows(engine, shared_data):
    """SIGKILL inside the storing transaction: none of its rows stay; storing again stores once."""
    import os
    import signal
    import subprocess
    import sys

    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "HYBRID_EVAL_DATA_DIR": str(shared_data)}
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, url], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout.readline().strip() == "inside"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    engine.dispose()
    run = queries.runs(engine)
    assert list(run["status"]) == ["running"]  # opened, never completed
    counts = queries.row_counts(engine)
    assert counts["metrics"] == counts["per_query_scores"] == counts["artifacts"] == 0

    from hybridcore.data.formats.lareqa import load_lareqa

    evaluation = fake_evaluation(load_lareqa("xquad-r", ["en", "de"]), 0)
    again = start_run(engine, "killed", strategy="mono", model="m", eval_sets="xquad-r", config={})
    store_results(engine, again, [evaluation])
    counts = queries.row_counts(engine)
    assert counts["runs"] == 1 and counts["metrics"] == sum(len(g.per_query) for g in evaluation.groups)


_HOLDER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("create table held (x integer)")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.close()
"""


def test_a_reader_waits_for_a_writer_unless_it_asks_not_to(tmp_path):
    """The report step of one experiment reads while another experiment writes: it waits.
    The dashboard asks not to wait, and is told at once."""
    import subprocess
    import sys

    from sqlalchemy import text

    path = tmp_path / "store.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(Exception, match="(?i)lock"):
            with make_engine(f"duckdb:///{path}", read_only=True, wait=False).connect() as conn:
                conn.execute(text("select 1"))
        with make_engine(f"duckdb:///{path}", read_only=True).connect() as conn:
            assert conn.execute(text("select count(*) from held")).scalar() == 0
    finally:
        holder.wait(timeout=30)
