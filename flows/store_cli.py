"""``hybrid-eval store``: bring result folders made elsewhere into the store, and read back a
run's specification to run it again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

store_app = typer.Typer(help="The store of runs and figures (HYBRID_EVAL_DB_URL).", no_args_is_help=True)


@store_app.command("import")
def import_results(
    folder: Annotated[Path, typer.Argument(help="A result folder (summary.json + per_query.parquet), or a folder of them.")],
) -> None:
    """Store result folders (for example copied from another machine's evaluations/) as runs."""
    from flows.recording import store_evaluation

    folders = [folder] if (folder / "summary.json").is_file() else sorted(p.parent for p in folder.glob("*/summary.json"))
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
