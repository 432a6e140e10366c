"""The hybrid-eval flow: the method of arXiv 2408.10536, evaluated with the LAReQA protocol.

1. Prepare the multilingual training pairs and check that no evaluation set overlaps them.
2. Evaluate the untrained model: the reference every strategy is compared with.
3. For each batch strategy (X-X-mono, X-Y cross, hybrid with alpha), fine-tune one model and
   evaluate it zero-shot; each strategy is its own flow run, so the workers of a pool share
   the experiment.
4. Store every figure per language and language pair, and print the summary.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.runtime import deployment as current_deployment

from hybridcore.provenance import code_version
from hybridcore.trainer import TrainConfig
from tasks.data import prepare_training_data, zero_shot_guard
from tasks.evaluate import evaluate_model
from tasks.store import mark_failed, open_run, store_results
from tasks.train import train_model

STRATEGY_DEPLOYMENT = "train-and-evaluate/worker"


@dataclass(frozen=True)
class Profile:
    """How much work a run does: ``quick`` takes minutes on 2 CPU cores, ``full`` is the
    real experiment."""

    steps: int
    batch_size: int
    candidate_context: bool
    validate_every: int


PROFILES = {
    "quick": Profile(steps=40, batch_size=16, candidate_context=False, validate_every=20),
    "full": Profile(steps=1000, batch_size=32, candidate_context=True, validate_every=100),
}


@flow(name="train-and-evaluate", log_prints=True)
def train_and_evaluate(experiment: str, strategy: str, model: str, data: dict, eval_sets: list[str],
                       beir_sets: list[str], train_config: dict, candidate_context: bool, leakage: list[dict],
                       train_set: str, db_url: str | None = None) -> dict:
    """One strategy: fine-tune (unless ``reference``), evaluate on every set, store."""
    name = f"{experiment}/{strategy}"
    fields = {"experiment": experiment, "strategy": strategy, "model": model, "train_set": train_set,
              "alpha": train_config["alpha"] if strategy == "hybrid" else None, "eval_sets": ",".join(eval_sets + beir_sets),
              "seen_languages": ",".join(data["languages"]), "config": {"train": train_config, "candidate_context": candidate_context},
              "seed": train_config["seed"], "code_version": code_version(), "leakage": leakage}
    run_id = open_run(name, fields, db_url)
    timings: dict[str, float] = {}
    try:
        artifacts: list[tuple[str, str]] = []
        encoded_model = model
        if strategy != "reference":
            started = time.perf_counter()
            trained = train_model(model, data, {**train_config, "strategy": strategy}, {"experiment": experiment})
            timings["wait:train"] = trained["slot_wait_seconds"]
            timings["train"] = time.perf_counter() - started - trained["slot_wait_seconds"]
            timings["train_examples_per_second"] = trained["examples_per_second"]
            encoded_model = trained["path"]
            artifacts.append(("model", trained["path"]))
        folders = []
        for dataset in eval_sets + beir_sets:
            started = time.perf_counter()
            result = evaluate_model(encoded_model, dataset, None, candidate_context)
            timings[f"wait:evaluate:{dataset}"] = result["slot_wait_seconds"]
            timings[f"evaluate:{dataset}"] = time.perf_counter() - started - result["slot_wait_seconds"]
            folders.append(result["path"])
            artifacts.append(("evaluation", result["path"]))
        store_results(run_id, folders, artifacts, timings, db_url)
    except BaseException as err:
        mark_failed(run_id, f"{type(err).__name__}: {err}", db_url)
        raise
    return {"run": name, "run_id": run_id, "timings": timings}


@flow(name="hybrid-eval", log_prints=True)
def hybrid_eval(model: str = "e5-small", train_set: str = "mlqa-r", eval_sets: list[str] | None = None,
                beir_sets: list[str] | None = None, strategies: list[str] | None = None, alpha: float = 0.5,
                steps: int | None = None, batch_size: int | None = None, seed: int = 42, profile: str = "quick",
                experiment: str | None = None, work_pool: bool = False, allow_overlap: bool = False,
                db_url: str | None = None) -> dict:
    """Reference plus one fine-tuned model per strategy, all evaluated zero-shot and stored."""
    logger = get_run_logger()
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use {sorted(PROFILES)}")
    plan = PROFILES[profile]
    eval_sets = eval_sets or ["xquad-r"]
    beir_sets = beir_sets or []
    strategies = strategies or ["mono", "cross", "hybrid"]
    # Runs of a deployment carry its name ("nightly-...") so the dashboard can follow a schedule over time.
    origin = current_deployment.name or "local"
    experiment = experiment or f"{origin}-{profile}-{Path(model).name}-{Path(train_set).name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    config = asdict(TrainConfig(alpha=alpha, steps=steps or plan.steps, batch_size=batch_size or plan.batch_size,
                                seed=seed, validate_every=plan.validate_every, checkpoint_every=plan.validate_every))

    # 1. Training pairs, and the guarantee that evaluation stays zero-shot.
    data = prepare_training_data(train_set)
    leakage = zero_shot_guard(data, eval_sets, allow_overlap)

    # 2-3. The untrained reference, then one model per batch strategy.
    common = dict(experiment=experiment, model=model, data=data, eval_sets=eval_sets, beir_sets=beir_sets,
                  train_config=config, candidate_context=plan.candidate_context, leakage=leakage,
                  train_set=train_set, db_url=db_url)
    runs = [train_and_evaluate(strategy="reference", **common)]
    if work_pool:
        # Each strategy is a flow run of its own deployment: any worker of the pool may take it.
        with ThreadPoolExecutor(len(strategies)) as pool:
            flow_runs = list(pool.map(lambda s: run_deployment(STRATEGY_DEPLOYMENT, parameters={**common, "strategy": s},
                                                               timeout=None), strategies))
        failed = [r.name for r in flow_runs if not r.state.is_completed()]
        if failed:
            raise RuntimeError(f"strategy runs did not complete: {failed}")
        runs += [{"run": f"{experiment}/{s}", "flow_run": str(r.id)} for s, r in zip(strategies, flow_runs)]
    else:
        runs += [train_and_evaluate(strategy=s, **common) for s in strategies]

    # 4. What the experiment found.
    from flows.summary import experiment_summary

    table = experiment_summary(experiment, db_url)
    logger.info("experiment %s\n%s", experiment, table)
    return {"experiment": experiment, "runs": runs, "summary": table}
