"""``hybrid-eval store``: bring result folders made elsewhere into the store, read back a
run's specification to run it again, compare two stores' figures, and verify everything kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

store_app = typer.Typer(help="The store of runs and figures (HYBRID_EVAL_DB_URL).", no_args_is_help=True)


@store_app.command("import")
def import_results(
    folders: Annotated[
        list[Path], typer.Argument(help="Result folders (summary.json + per_query.parquet), or folders of them.")
    ],
) -> None:
    """Store result folders (for example copied from another machine's evaluations/) as runs.
    Every folder is checked against its checksums first: a damaged one stores nothing."""
    from db.session import make_engine
    from db.store import check_store
    from flows.recording import store_evaluation
    from hybridcore.errors import DataError
    from hybridcore.files import folder_problem

    results = []
    for folder in folders:
        found = (
            [folder] if (folder / "summary.json").is_file() else sorted(p.parent for p in folder.glob("*/summary.json"))
        )
        if not found:
            raise FileNotFoundError(f"{folder}: no summary.json in it or in its sub-folders")
        results += found
    for result in results:
        if (problem := folder_problem(result)) is not None:
            raise DataError(result, "result folder", f"{problem}; nothing was imported")
    check_store(make_engine())
    for result in results:
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


@store_app.command("verify")
def verify(
    repair: Annotated[
        bool,
        typer.Option(help="Remove what is damaged (it is made again when next needed); store runs' figures again."),
    ] = False,
) -> None:
    """Check everything kept: embeddings, result folders, models, prepared data and artifacts
    (HYBRID_EVAL_HOME and HYBRID_EVAL_ARTIFACTS) against their checksums, and every stored
    run's figures against the result folders they came from. Exit 1 if anything is damaged."""
    import pandas as pd

    from db.session import make_engine
    from db.store import check_store
    from flows.verification import check_runs
    from hybridcore.config.paths import home_dir
    from hybridcore.files import VERIFIED
    from hybridcore.run.artifacts import artifact_root
    from hybridcore.run.inventory import check_home, check_root
    from hybridcore.run.inventory import repair as remove

    engine = make_engine()
    check_store(engine)
    findings = list(check_home(home_dir()))
    if (root := artifact_root()) is not None:
        findings += list(check_root(root))
    for finding in findings:
        if finding.damaged and repair:
            remove(finding)
    findings += list(check_runs(engine, repair))
    damaged = [f for f in findings if f.damaged]
    for f in damaged:
        typer.echo(
            f"{'removed' if repair and f.kind != 'stored run' else 'damaged'} {f.kind}: {f.location}: {f.problem}"
        )
    counts = pd.Series([f.kind for f in findings]).value_counts() if findings else pd.Series(dtype=int)
    plural = {kind: kind if n == 1 or kind.endswith("data") else f"{kind}s" for kind, n in counts.items()}
    typer.echo(
        f"checked {', '.join(f'{n} {plural[kind]}' for kind, n in counts.items()) or 'nothing'} "
        f"({VERIFIED.bytes / 1e9:.2f} GB in {VERIFIED.seconds:.1f} s): {len(damaged)} damaged"
    )
    if damaged and not repair:
        typer.echo("run `hybrid-eval store verify --repair` to remove them; the next run makes them again")
        raise typer.Exit(1)


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
