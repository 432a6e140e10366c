"""Runs started outside the flow (``hybrid-eval evaluate``, ``train``, ``store import``),
stored the way the flow stores its own, so the dashboard shows whatever a user ran."""

from __future__ import annotations

from pathlib import Path

from db import store
from db.session import make_engine
from hybridcore.config.spec import Arm, EncoderSettings, RunSpec
from hybridcore.eval.results import load_evaluation, read_summary
from hybridcore.run.naming import evaluation_experiment, run_fields, run_name, training_experiment
from hybridcore.run.pipeline import PreparedData, TrainedModel, training_record


def store_evaluation(folder: str | Path, origin: str = "evaluate", db_url: str | None = None) -> str:
    """Store a result folder as a run of its own experiment; returns the run's name. A model
    this project trained is stored under its strategy and training spec, any other as
    ``reference``."""
    summary = read_summary(folder)
    trained = training_record(summary.get("model_path", ""))
    if trained is not None and "spec" in trained:
        spec = RunSpec.from_dict(trained["spec"])
        config = trained["config"]
        arm = Arm.of(config["strategy"], config["seed"], config["alpha"])
        seen, leakage = trained.get("train_languages", []), trained.get("leakage", [])
    else:
        recorded = summary.get("spec")  # result folders before the spec was written into them have none
        spec = (
            RunSpec.from_dict(recorded)
            if recorded
            else RunSpec(
                model=summary["model"],
                train_set="",
                eval_sets=(summary.get("reference", summary["dataset"]),),
                strategies=(),
                profile=origin,
                candidate_context=summary["candidate_context"],
                encoder=EncoderSettings(**summary["encoder"]),
            )
        )
        arm, seen, leakage = None, [], []
    experiment = evaluation_experiment(origin, summary["model"], summary["dataset"], folder)
    name = run_name(experiment, spec, arm)
    fields = run_fields(spec, arm, experiment, seen, leakage, eval_sets=[summary.get("reference", summary["dataset"])])
    timings = {f"evaluate:{summary['dataset']}": summary.get("seconds", 0.0)}
    store.record_run(
        make_engine(db_url), name, fields, [load_evaluation(folder)], [("evaluation", str(folder))], timings
    )
    return name


def store_training(
    spec: RunSpec, data: PreparedData, leakage: list[dict], trained: TrainedModel, db_url: str | None = None
) -> str:
    """Store a training run (its model, no figures yet); returns the run's name."""
    arm = spec.arm(spec.strategies[0])
    experiment = training_experiment(spec)
    name = run_name(experiment, spec, arm)
    fields = run_fields(spec, arm, experiment, data.languages, leakage, eval_sets=[])
    timings = {"train": trained.seconds, "train_examples_per_second": trained.examples_per_second}
    store.record_run(make_engine(db_url), name, fields, [], [("model", trained.path)], timings)
    return name
