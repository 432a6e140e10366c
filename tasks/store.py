"""Writing runs and their figures to the store. No Prefect retries here: ``db`` already
retries while another process holds the store's lock, and other failures would repeat."""

from __future__ import annotations

from prefect import get_run_logger, task

from db import store
from db.session import make_engine
from hybridcore.eval.results import load_evaluation
from hybridcore.run.artifacts import localize


@task
def check_store(db_url: str | None = None) -> None:
    """The store answers and is in a layout this code writes (before any work)."""
    store.check_store(make_engine(db_url))


@task
def open_run(name: str, fields: dict, db_url: str | None = None) -> int:
    engine = make_engine(db_url)
    store.init_store(engine)
    return store.start_run(engine, name, **fields)


@task
def store_results(
    run_id: int,
    result_folders: list[str],
    artifacts: list[tuple[str, str]],
    timings: dict,
    db_url: str | None = None,
    training: dict | None = None,
    point: dict | None = None,
) -> None:
    """All of a run's figures in one transaction (result folders local or in the artifact
    root), with its series point if it has one. A store that fails now, after the work, is
    one line naming the folders kept."""
    evaluations = [load_evaluation(localize(folder)) for folder in result_folders]
    engine = make_engine(db_url)
    try:
        store.store_results(engine, run_id, evaluations, artifacts, timings, training=training, point=point)
    except Exception as err:
        if not store.is_store_failure(err):
            raise
        raise store.StoreUnavailable(
            f"store {store.describe(engine)} failed after the work was done ({str(err).splitlines()[0][:200]}); "
            f"the result folders are kept: hybrid-eval store import {' '.join(result_folders)} "
            "(or run the experiment again under the same name, which reuses them)"
        ) from None


@task
def mark_failed(run_id: int, error: str, db_url: str | None = None) -> None:
    """Record the run's failure; a store that is down cannot, and the failure says so already."""
    try:
        store.fail_run(make_engine(db_url), run_id, error)
    except Exception as err:
        if not store.is_store_failure(err):
            raise
        get_run_logger().warning("could not mark run %s failed: the store failed too", run_id)
