"""A year of nightly experiments in the store: its size, insert time, and the dashboard's reads.

Takes one real experiment from a store (by default the latest in ``HYBRID_EVAL_DB_URL``'s
store, as ``make run`` wrote it: its runs' specifications and result folders), and stores it
``--nights`` times into a new store, one experiment per night, under new names and dates, the
way the nightly schedule would. Then, in the same run, it measures:

- the store's size, every ``--every`` nights and at the end;
- the time to store one run (``start_run`` + ``store_results``), first nights against last;
- the dashboard's reads (``db.queries``, no cache): the runs list, filtered by experiment
  prefix and date, and by strategy; one run's figures; per-query scores of two runs for a
  paired test (XQuAD-R mAP, the largest);
- re-storing one run (a re-run replaces its rows): the size before and after.

    python -m bench.nightlies                           # 365 nights into results/nightlies/
    python -m bench.nightlies --nights 30 --every 10    # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import queries, store
from db.session import default_url, make_engine
from hybridcore.config.provenance import cpu
from hybridcore.eval.results import Evaluation, load_evaluation

TARGETS = {"store_gib": 10.0, "query_s": 1.0}


def source_experiment(url: str) -> list[tuple[dict, list[Evaluation]]]:
    """The latest experiment whose runs all completed: each run's fields and evaluations."""
    engine = make_engine(url, read_only=True)
    runs = queries.runs(engine)
    complete = runs.groupby("experiment")["status"].agg(lambda s: (s == "completed").all())
    experiment = runs[runs["experiment"].isin(complete[complete].index)].iloc[0]["experiment"]
    chosen = runs[runs["experiment"] == experiment]
    files = queries.artifacts(engine, chosen["id"].tolist())
    out = []
    for run in chosen.itertuples(index=False):
        folders = files[(files["run_id"] == run.id) & (files["kind"] == "evaluation")]["path"]
        fields = {f: _plain(getattr(run, f)) for f in store.RUN_FIELDS}
        out.append((fields, [load_evaluation(folder) for folder in folders]))
    return out


def _plain(value):
    """A DataFrame cell as the store takes it: NaN (pandas' missing) as None, numpy scalars as Python's."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _timed(read, repeats: int = 5) -> float:
    """Median seconds of ``repeats`` calls."""
    seconds = []
    for _ in range(repeats):
        clock = time.perf_counter()
        read()
        seconds.append(time.perf_counter() - clock)
    return statistics.median(seconds)


def _size(path: Path) -> int:
    return path.stat().st_size + (
        path.with_suffix(path.suffix + ".wal").stat().st_size if path.with_suffix(path.suffix + ".wal").exists() else 0
    )


def main(source_url: str, out: Path, nights: int, every: int) -> dict:
    experiment = source_experiment(source_url)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "store.duckdb"
    path.unlink(missing_ok=True)
    url = f"duckdb:///{path}"
    engine = make_engine(url)
    store.init_store(engine)
    first_night = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    insert_s: list[float] = []
    # CPU seconds of this process (all its threads) as well as wall seconds: on a shared
    # machine another process's load changes the wall time, hardly the CPU time.
    insert_cpu_s: list[float] = []
    sizes = []
    for night in range(nights):
        started = first_night + timedelta(days=night)
        name = f"nightly-{started:%Y%m%d}"
        for fields, evaluations in experiment:
            clock, cpu_clock = time.perf_counter(), time.process_time()
            run_id = store.start_run(
                engine, f"{name}/{fields['strategy']}", started_at=started, **{**fields, "experiment": name}
            )
            store.store_results(engine, run_id, evaluations, ended_at=started + timedelta(minutes=80))
            insert_s.append(time.perf_counter() - clock)
            insert_cpu_s.append(time.process_time() - cpu_clock)
        if (night + 1) % every == 0 or night + 1 == nights:
            window = insert_s[(sizes[-1]["runs"] if sizes else 0) :]
            sizes.append(
                {
                    "nights": night + 1,
                    "runs": len(insert_s),
                    "bytes": _size(path),
                    "insert_s_median": statistics.median(window),
                }
            )
            print(
                f"night {night + 1}: {sizes[-1]['bytes'] / 2**20:,.0f} MiB, "
                f"median {sizes[-1]['insert_s_median']:.2f} s to store a run since the last line",
                flush=True,
            )

    reader = make_engine(url, read_only=True)
    last = first_night + timedelta(days=nights - 1)
    latest = queries.runs(reader, experiment=f"nightly-{last:%Y%m%d}")
    a, b = (int(latest.set_index("strategy").loc[s, "id"]) for s in ("reference", "hybrid"))
    reads = {
        "runs: all": lambda: queries.runs(reader),
        "runs: nightly, last 30 days": lambda: queries.runs(
            reader, experiment_prefix="nightly-", since=last - timedelta(days=30)
        ),
        "runs: hybrid only": lambda: queries.runs(reader, strategy="hybrid"),
        "one run's figures": lambda: queries.metrics(reader, [b]),
        "per-query scores, 2 runs (xquad-r mAP)": lambda: queries.query_scores(reader, [a, b], "xquad-r", "map"),
    }
    read_s = {label: _timed(read) for label, read in reads.items()}

    fields, evaluations = experiment[-1]
    before = _size(path)
    clock = time.perf_counter()
    run_id = store.start_run(
        engine, f"nightly-{last:%Y%m%d}/{fields['strategy']}", **{**fields, "experiment": f"nightly-{last:%Y%m%d}"}
    )
    store.store_results(engine, run_id, evaluations)
    restore_s = time.perf_counter() - clock
    after = _size(path)

    window = max(1, len(insert_s) // 10)
    first, last_ = statistics.median(insert_s[:window]), statistics.median(insert_s[-window:])
    first_cpu, last_cpu = statistics.median(insert_cpu_s[:window]), statistics.median(insert_cpu_s[-window:])
    report = {
        "cpu": cpu(),
        "source": source_url,
        "nights": nights,
        "runs": len(insert_s),
        "per_query_values_per_run": queries.per_query_values(reader) // len(insert_s),
        "store_bytes": sizes[-1]["bytes"],
        "store_gib": sizes[-1]["bytes"] / 2**30,
        "sizes": sizes,
        "insert_s_first_tenth": first,
        "insert_s_last_tenth": last_,
        "insert_growth": last_ / first,
        "insert_cpu_s_first_tenth": first_cpu,
        "insert_cpu_s_last_tenth": last_cpu,
        "insert_cpu_growth": last_cpu / first_cpu,
        "read_s": read_s,
        "restore": {"bytes_before": before, "bytes_after": after, "seconds": restore_s},
        "targets": TARGETS,
        "met": {
            "store": sizes[-1]["bytes"] / 2**30 < TARGETS["store_gib"],
            "reads": max(read_s.values()) < TARGETS["query_s"],
        },
    }
    (out / "nightlies.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def print_table(report: dict) -> None:
    print(
        f"\n{report['nights']} nights, {report['runs']} runs, "
        f"{report['per_query_values_per_run']:,} per-query values each "
        f"(CPU: {report['cpu']['model']}, matrix ISA {report['cpu']['matrix_isa']})"
    )
    print(f"{'store size':<44}{report['store_gib']:>10.2f} GiB   (target < {TARGETS['store_gib']:.0f})")
    print(f"{'store one run, median: first tenth of runs':<44}{report['insert_s_first_tenth']:>10.2f} s")
    print(
        f"{'store one run, median: last tenth of runs':<44}{report['insert_s_last_tenth']:>10.2f} s   "
        f"(x{report['insert_growth']:.2f})"
    )
    print(
        f"{'  CPU seconds: first tenth, last tenth':<44}{report['insert_cpu_s_first_tenth']:>10.2f} s, "
        f"{report['insert_cpu_s_last_tenth']:.2f} s (x{report['insert_cpu_growth']:.2f})"
    )
    for label, seconds in report["read_s"].items():
        print(f"{label:<44}{seconds:>10.3f} s     (target < {TARGETS['query_s']:.0f})")
    restore = report["restore"]
    print(
        f"{'re-store one run: size before -> after':<44}{restore['bytes_before'] / 2**20:>10,.0f} -> "
        f"{restore['bytes_after'] / 2**20:,.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        default=os.environ.get("HYBRID_EVAL_DB_URL") or default_url(),
        help="the store holding the experiment to copy (default: HYBRID_EVAL_DB_URL's)",
    )
    parser.add_argument("--out", type=Path, default=Path("results/nightlies"))
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--every", type=int, default=30, help="measure the size every N nights")
    args = parser.parse_args()
    print_table(main(args.source, args.out, args.nights, args.every))
