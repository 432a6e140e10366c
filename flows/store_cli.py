"""``hybrid-eval store``: bring result folders made elsewhere into the store, read back a
run's specification to run it again, and compare two stores' figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

store_app = typer.Typer(help="The store of runs and figures (HYBRID_EVAL_DB_URL).", no_args_is_help=True)


@store_app.command("import")
def import_results(
    folder: Annotated[
        Path, typer.Argument(help="A result folder (summary.json + per_query.parquet), or a folder of them.")
    ],
) -> None:
    """Store result folders (for example copied from another machine's evaluations/) as runs."""
    from flows.recording import store_evaluation

    folders = (
        [folder] if (folder / "summary.json").is_file() else sorted(p.parent for p in folder.glob("*/summary.json"))
    )
    if not folders:
        raise FileNotFoundError(f"{folder}: no summary.json in it or in its sub-folders")
    for result in folders:
        typer.echo(f"{result} -> run {store_evaluation(result, origin='import')}")


@store_app.command("spec")
def show_spec(
    run: Annotated[str, typer.Argument(help="The run's name, <experiment>/<strategy>.")],
) -> None:
    """Print a stored run's specification as JSON: `hybrid-eval experiment --spec FILE` runs it again."""
    from db import queries
    from db.session import make_engine

    config = queries.run_config(make_engine(read_only=True), run)
    if config is None:
        raise FileNotFoundError(f"no run named {run!r} in the store")
    typer.echo(json.dumps(config, indent=1))


@store_app.command("upgrade")
def upgrade() -> None:
    """Convert a store written by older code to the current layout, losing nothing (per-query
    values become packed arrays; a DuckDB file is then compacted, the old file kept beside it)."""
    from db.session import make_engine
    from db.upgrade import upgrade_store

    report = upgrade_store(make_engine())
    if not report["upgraded"]:
        typer.echo("the store is already in the current layout")
        return
    typer.echo(f"moved {report['values']:,} per-query values of {report['runs']} runs into packed arrays")
    if "kept" in report:
        typer.echo(f"the file before the upgrade is kept as {report['kept']}: remove it once you are satisfied")


@store_app.command("compare")
def compare_stores(
    first: Annotated[str, typer.Argument(help="A store: a SQLAlchemy URL or a DuckDB file.")],
    second: Annotated[str, typer.Argument(help="The other store.")],
) -> None:
    """Whether two stores hold the same figures and per-query scores, bit for bit, for the runs
    they share (matched by their name within the experiment: reference, mono, hybrid, ...)."""
    import pandas as pd

    from db import queries
    from db.session import make_engine
    from hybridcore.analysis.same_figures import compare, run_key

    sides = []
    for store in (first, second):
        engine = make_engine(store if "://" in store else f"duckdb:///{Path(store).resolve()}", read_only=True)
        runs = queries.runs(engine, status="completed")
        key = dict(zip(runs["id"], runs["name"].map(run_key)))
        figures = queries.metrics(engine, list(key))
        figures["run"] = figures["run_id"].map(key)
        pairs = figures[["dataset", "metric"]].drop_duplicates().itertuples(index=False)
        scores = [queries.query_scores(engine, list(key), dataset, metric) for dataset, metric in pairs]
        scores = pd.concat(scores, ignore_index=True)
        scores["run"] = scores["run_id"].map(key)
        sides.append((figures, scores))
    result = compare(sides[0][0], sides[1][0], sides[0][1], sides[1][1])
    typer.echo(
        f"{result.runs} runs in both; {result.figures:,} figures and {result.scores:,} per-query scores compared: "
        f"{result.differing_figures} figures and {result.differing_scores} scores differ, "
        f"{result.only_in_one} rows or runs in one store only"
    )
    if not result.same:
        typer.echo(result.differences.to_string(index=False))
        raise typer.Exit(1)
