"""Writing runs and their figures to the store. No Prefect retries here: ``db`` already
retries while another process holds the store's lock, and other failures would repeat."""

from __future__ import annotations

from prefect import task

from db import store
from db.session import make_engine
from hybridcore.eval.results import load_evaluation
from hybridcore.run.artifacts import localize


@task
def open_run(name: str, fields: dict, db_url: str | None = None) -> int:
    engine = make_engine(db_url)
    store.init_store(engine)
    return store.start_run(engine, name, **fields)


@task
def store_results(
    run_id: int, result_folders: list[str], artifacts: list[tuple[str, str]], timings: dict, db_url: str | None = None
) -> None:
    """All of a run's figures in one transaction (result folders local or in the artifact root)."""
    evaluations = [load_evaluation(localize(folder)) for folder in result_folders]
    store.store_results(make_engine(db_url), run_id, evaluations, artifacts, timings)


@task
def mark_failed(run_id: int, error: str, db_url: str | None = None) -> None:
    store.fail_run(make_engine(db_url), run_id, error)
