"""Runs started outside the flow (``hybrid-eval evaluate``, ``train``, ``store import``),
stored the way the flow stores its own, so the dashboard shows whatever a user ran."""

from __future__ import annotations

from pathlib import Path

from db import store
from db.session import make_engine
from hybridcore.eval.results import load_evaluation, read_summary
from hybridcore.run.naming import run_fields, utc_stamp
from hybridcore.run.pipeline import PreparedData, TrainedModel, training_record
from hybridcore.run.spec import Arm, EncoderSettings, RunSpec


def store_evaluation(folder: str | Path, origin: str = "evaluate", db_url: str | None = None) -> str:
    """Store a result folder as a run of its own experiment; returns the run's name. A model
    this project trained is stored under its strategy and training spec, any other as
    ``reference``."""
    summary = read_summary(folder)
    trained = training_record(summary.get("model_path", ""))
    if trained is not None and "spec" in trained:
        spec = RunSpec.from_dict(trained["spec"])
        config = trained["config"]
        arm = Arm(config["strategy"], config["seed"], config["alpha"] if config["strategy"] == "hybrid" else None)
        seen, leakage = trained.get("train_languages", []), trained.get("leakage", [])
    else:
        spec = RunSpec(model=summary["model"], train_set="", eval_sets=(summary.get("reference", summary["dataset"]),), strategies=(),
                       profile=origin, candidate_context=summary["candidate_context"],
                       encoder=EncoderSettings(**summary["encoder"]))
        arm, seen, leakage = None, [], []
    experiment = f"{origin}-{Path(summary['model']).name}-{summary['dataset']}-{utc_stamp()}"
    name = f"{experiment}/{arm.strategy if arm else 'reference'}"
    fields = run_fields(spec, arm, experiment, seen, leakage, eval_sets=[summary.get("reference", summary["dataset"])])
    timings = {f"evaluate:{summary['dataset']}": summary.get("seconds", 0.0)}
    store.record_run(make_engine(db_url), name, fields, [load_evaluation(folder)], [("evaluation", str(folder))], timings)
    return name


def store_training(spec: RunSpec, data: PreparedData, leakage: list[dict], trained: TrainedModel,
                   db_url: str | None = None) -> str:
    """Store a training run (its model, no figures yet); returns the run's name."""
    strategy = spec.strategies[0]
    arm = Arm(strategy, spec.train.seed, spec.train.alpha if strategy == "hybrid" else None)
    experiment = f"train-{Path(spec.model).name}-{Path(spec.train_set).name}-{utc_stamp()}"
    name = f"{experiment}/{strategy}"
    fields = run_fields(spec, arm, experiment, data.languages, leakage, eval_sets=[])
    timings = {"train": trained.seconds, "train_examples_per_second": trained.examples_per_second}
    store.record_run(make_engine(db_url), name, fields, [], [("model", trained.path)], timings)
    return name
