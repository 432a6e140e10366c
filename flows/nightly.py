"""The nightly evaluation: what changed since yesterday, evaluated once and compared.

0. Check the spec, its watch list (and the file it names) and the store, before any work.
1. Find the watched models (a training job's checkpoints, a hub model's revisions) that no
   stored run has evaluated, by the content of their weights and settings; and the
   reference (the untrained base model) when the code or the data changed since its last
   evaluation.
2. Evaluate each new model on the spec's sets, each its own flow run, so the pool's workers
   share the night; store it with its series, its step or revision, and when it appeared.
3. Compare every new model with the previous and the first model of its series on the
   declared primary figures, overall and per exposure group (run-level paired tests, Holm
   over the night's tests); a drop beyond the watch list's margin is a regression, and a
   moved reference says the evaluation itself changed.
4. Publish the night: a markdown artifact, the same text in the store (the dashboard's
   Nightly view), and on a regression a tag on this flow run and the configured hooks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.runtime import deployment as current_deployment

from flows.hybrid_eval import evaluate_sets, run_on_pool
from hybridcore.analysis import nightly as analysis
from hybridcore.config.spec import RunSpec, profile_spec
from hybridcore.config.watch import WatchList, watch_file_setting
from hybridcore.run.naming import experiment_name, watched_run_name
from hybridcore.run.watching import WatchedModel, watched_fields
from tasks.data import check_spec
from tasks.nightly import new_models, night_changes, night_points, publish_night
from tasks.store import check_store, mark_failed, open_run, store_results

MODEL_DEPLOYMENT = "evaluate-watched/worker"


@flow(name="evaluate-watched", log_prints=True)
def evaluate_watched(night: str, found: dict, spec: RunSpec, db_url: str | None = None) -> dict:
    """One new model of a series: evaluate it on every set of ``spec``, store it with its
    place in the series (in the same transaction as its figures)."""
    kind, base, key = found["kind"], found["base"], found["key"]
    model = WatchedModel(**{k: v for k, v in found.items() if k not in ("kind", "base", "key")})
    name = watched_run_name(night, model.series, model.label)
    run_id = open_run(name, watched_fields(spec, model, base, night, kind), db_url)
    timings: dict[str, float] = {}
    try:
        folders = evaluate_sets(model.model, spec, timings, code_bound=kind == analysis.REFERENCE)
        artifacts = [("evaluation", folder) for folder in folders]
        point = {
            "series": model.series,
            "kind": kind,
            "step": model.step,
            "revision": model.revision,
            "appeared_at": datetime.fromisoformat(model.appeared_at),
            "model_key": key,
            "night": night,
        }
        store_results(run_id, folders, artifacts, timings, db_url, point=point)
    except BaseException as err:
        mark_failed(run_id, f"{type(err).__name__}: {err}", db_url)
        raise
    return {"run": name, "run_id": run_id, "series": model.series, "step": model.step, "kind": kind}


# Named as the experiment flow is, so its deployment stays `hybrid-eval/nightly`, what users
# schedule and start; Prefect keeps each deployment's own entrypoint.
@flow(name="hybrid-eval", log_prints=True)
def nightly(
    profile: str = "quick",
    spec: RunSpec | None = None,
    watch_file: str | None = None,
    work_pool: bool = False,
    db_url: str | None = None,
) -> dict:
    """Evaluate what is new in the watched series (and the reference, when the evaluation
    changed), compare it with what came before, and publish the night. ``watch_file``: a
    JSON watch list, added to the spec's (default: ``HYBRID_EVAL_WATCH``)."""
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    spec = spec or profile_spec(profile)
    file = watch_file or spec.watch.file or watch_file_setting()
    watch = replace(spec.watch, file=file).resolved()
    night = experiment_name(current_deployment.name or "local-nightly", spec)

    # 0. Nothing starts for a spec, watch list or store that cannot run.
    check_spec(spec)
    check_store(db_url)

    # 1. What is new tonight.
    fresh, skipped = new_models(spec, watch, db_url)
    for line in skipped:
        logger.info("left aside: %s", line)
    logger.info("%d new model(s) to evaluate: %s", len(fresh), ", ".join(f"{m['series']}/{m['label']}" for m in fresh))

    # 2. Each new model is a flow run of its own; with a pool, any worker may take it. Its
    #    stored spec says how it was evaluated, not what the nightly watches (nor its hooks).
    spec = replace(spec, watch=WatchList())
    if work_pool and fresh:
        parameter_sets = [dict(night=night, found=found, spec=spec, db_url=db_url) for found in fresh]
        run_on_pool(MODEL_DEPLOYMENT, parameter_sets, "model evaluations")
    else:
        for found in fresh:
            evaluate_watched(night, found, spec, db_url)

    # 3-4. What changed (read back from the store, whichever worker stored it), told once.
    evaluated = night_points(night, db_url)
    changes = night_changes(spec, watch, evaluated["run_id"].tolist(), db_url)
    return publish_night(night, started_at, watch, evaluated, changes, skipped, db_url)
