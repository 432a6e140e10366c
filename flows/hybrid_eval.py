"""The hybrid-eval flow: the method of arXiv 2408.10536, evaluated with the LAReQA protocol.

0. Check that the run can run: its datasets, training data and model resolve, and the store
   answers (the spec's types and ranges were checked when it was built).
1. Prepare the multilingual training pairs and check that no evaluation set overlaps them.
2. Evaluate the untrained model: the reference every strategy is compared with.
3. For each batch strategy (X-X-mono, X-Y cross, hybrid with alpha) and training seed, and
   for hybrid's alpha sweep, fine-tune one model and evaluate it zero-shot; each is its own
   flow run, so the workers of a pool share the experiment. Models and evaluations are kept
   by content hash, so an interrupted experiment started again resumes where it stopped.
   With ``train.export_at``, the weights at those shares of the steps are evaluated too:
   each arm's learning curve, stored as the experiment's ``-curve`` runs.
4. Store every figure per language and language pair, print the summary and write the
   report (``hybrid-eval report``): figures over seeds, tested differences, the paper's claims.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.runtime import deployment as current_deployment

from hybridcore.analysis.nightly import CHECKPOINT, curve_experiment
from hybridcore.config.spec import Arm, RunSpec, profile_spec
from hybridcore.run.naming import checkpoint_run_name, experiment_name, run_fields, run_name
from hybridcore.run.pipeline import PreparedData
from hybridcore.run.watching import watched_key
from tasks.data import check_spec, prepare_training_data, zero_shot_guard
from tasks.evaluate import evaluate_model
from tasks.store import check_store, mark_failed, open_run, store_results
from tasks.train import train_model

STRATEGY_DEPLOYMENT = "train-and-evaluate/worker"


@flow(name="train-and-evaluate", log_prints=True)
def train_and_evaluate(
    experiment: str,
    strategy: str,
    spec: RunSpec,
    data: PreparedData,
    leakage: list[dict],
    db_url: str | None = None,
    seed: int | None = None,
    alpha: float | None = None,
) -> dict:
    """One arm (strategy, seed, alpha): fine-tune (unless ``reference``), evaluate on every
    set, store."""
    arm = None if strategy == "reference" else Arm.of(strategy, spec.train.seed if seed is None else seed, alpha)
    name = run_name(experiment, spec, arm)
    run_id = open_run(name, run_fields(spec, arm, experiment, data.languages, leakage), db_url)
    timings: dict[str, float] = {}
    training = None
    try:
        artifacts: list[tuple[str, str]] = []
        model = spec.model
        if arm is not None:
            started = time.perf_counter()
            trained = train_model(spec, arm, data, {"experiment": experiment, "leakage": leakage})
            timings["wait:train"] = trained.slot_wait_seconds
            timings["train"] = time.perf_counter() - started - trained.slot_wait_seconds
            timings["train_examples_per_second"] = trained.examples_per_second
            training = trained.selection
            model = trained.path
            artifacts.append(("model", trained.path))
        folders = evaluate_sets(model, spec, timings)
        artifacts += [("evaluation", folder) for folder in folders]
        store_results(run_id, folders, artifacts, timings, db_url, training)
    except BaseException as err:
        mark_failed(run_id, f"{type(err).__name__}: {err}", db_url)
        raise
    if arm is not None and trained.checkpoints:
        fields = run_fields(spec, arm, curve_experiment(experiment), data.languages, leakage)
        for step, checkpoint in trained.checkpoints:
            evaluate_checkpoint(name, step, checkpoint, fields, spec, db_url)
    return {"run": name, "run_id": run_id, "timings": timings}


def run_on_pool(deployment: str, parameter_sets: list[dict], what: str) -> list:
    """One flow run of ``deployment`` per parameter set, all at once, for any worker of the
    pool to take; waits for all, and raises naming those that did not complete."""
    with ThreadPoolExecutor(len(parameter_sets)) as pool:
        flow_runs = list(
            pool.map(lambda parameters: run_deployment(deployment, parameters=parameters, timeout=None), parameter_sets)
        )
    failed = [r.name for r in flow_runs if not r.state.is_completed()]
    if failed:
        raise RuntimeError(f"{what} did not complete: {failed}")
    return flow_runs


def evaluate_sets(model: str, spec: RunSpec, timings: dict[str, float], code_bound: bool = False) -> list[str]:
    """``model`` evaluated on every set of ``spec`` (each set's seconds and slot wait into
    ``timings``): the result folders. Every flow evaluates through it."""
    folders = []
    for dataset in spec.eval_sets:
        started = time.perf_counter()
        result = evaluate_model(model, dataset, spec, code_bound=code_bound)
        timings[f"wait:evaluate:{dataset}"] = result.slot_wait_seconds
        timings[f"evaluate:{dataset}"] = time.perf_counter() - started - result.slot_wait_seconds
        folders.append(result.path)
    return folders


def evaluate_checkpoint(series: str, step: int, model: str, fields: dict, spec: RunSpec, db_url: str | None) -> None:
    """One exported checkpoint of an arm (``train.export_at``) as a run of its own, a point of
    the arm's learning curve: evaluated on every set, stored with its step in the arm's series."""
    run_id = open_run(checkpoint_run_name(series, step), {**fields, "model": model}, db_url)
    try:
        timings: dict[str, float] = {}
        folders = evaluate_sets(model, spec, timings)
        point = {
            "series": series,
            "kind": CHECKPOINT,
            "step": step,
            "revision": None,
            "appeared_at": datetime.now(UTC),
            "model_key": watched_key(series, model, spec),
            "night": None,
        }
        store_results(run_id, folders, [("evaluation", f) for f in folders], timings, db_url, point=point)
    except BaseException as err:
        mark_failed(run_id, f"{type(err).__name__}: {err}", db_url)
        raise


@flow(name="hybrid-eval", log_prints=True)
def hybrid_eval(
    profile: str = "quick",
    spec: RunSpec | None = None,
    experiment: str | None = None,
    work_pool: bool = False,
    db_url: str | None = None,
    log_summary: bool = True,
) -> dict:
    """Reference plus one fine-tuned model per arm (strategy, seed, alpha), all evaluated
    zero-shot and stored. ``spec`` is the whole run specification; without it, the profile's.
    ``log_summary`` off: the summary tables are returned, not logged (the command line
    prints them once itself)."""
    logger = get_run_logger()
    spec = spec or profile_spec(profile)
    # Runs of a deployment carry its name ("nightly-...") so the dashboard can follow a schedule over time.
    experiment = experiment or experiment_name(current_deployment.name or "local", spec)

    # 0. A run that cannot run stops here, before anything is prepared, trained or stored.
    check_spec(spec)
    check_store(db_url)

    # 1. Training pairs, and the guarantee that evaluation stays zero-shot. A spec without
    #    strategies (as `hybrid-eval evaluate` stores) evaluates the reference alone: nothing
    #    is trained, so there is nothing to prepare or guard.
    if spec.strategies:
        data = prepare_training_data(spec.train_set, spec.train.candidate_context)
        leakage = zero_shot_guard(data, list(spec.eval_sets), spec.allow_overlap)
    else:
        data, leakage = PreparedData(path="", fingerprint="", n_examples=0, languages=[]), []

    # 2-3. The untrained reference (once: it has no seed), then one model per arm.
    common = dict(experiment=experiment, spec=spec, data=data, leakage=leakage, db_url=db_url)
    runs = [train_and_evaluate(strategy="reference", **common)]
    arms = [dict(strategy=a.strategy, seed=a.seed, alpha=a.alpha) for a in spec.arms()]
    if work_pool and arms:
        # Each arm is a flow run of its own deployment: any worker of the pool may take it.
        flow_runs = run_on_pool(STRATEGY_DEPLOYMENT, [{**common, **arm} for arm in arms], "arm runs")
        runs += [{"run": run_name(experiment, spec, a), "flow_run": str(r.id)} for a, r in zip(spec.arms(), flow_runs)]
    else:
        runs += [train_and_evaluate(**arm, **common) for arm in arms]

    # 4. What the experiment found.
    from flows.report import experiment_report
    from flows.summary import experiment_summary

    table = experiment_summary(experiment, db_url)
    page, _ = experiment_report(experiment, db_url)
    if log_summary:
        logger.info("experiment %s\n%s\nreport: %s", experiment, table, page)
    else:
        logger.info("experiment %s stored; report: %s", experiment, page)
    return {"experiment": experiment, "runs": runs, "summary": table, "report": str(page)}
