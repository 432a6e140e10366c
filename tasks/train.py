"""Training one model with one batch strategy."""

from __future__ import annotations

from dataclasses import replace

from prefect import task

from hybridcore.config.spec import Arm, RunSpec
from hybridcore.run import pipeline
from hybridcore.run.artifacts import publish
from hybridcore.run.pipeline import PreparedData, TrainedModel
from tasks.compute import machine_slot
from tasks.data import local_copy


@task
def train_model(spec: RunSpec, arm: Arm, data: PreparedData, record: dict | None = None) -> TrainedModel:
    """Fine-tune, or reuse the model already trained on the same model, data and config;
    returns the model and its ``export_at`` checkpoints (published to the artifact root) and
    the seconds spent waiting for a compute slot."""
    with machine_slot(f"train {spec.run_suffix(arm)}") as waited:
        trained = pipeline.train_model(spec, arm, local_copy(data), record)
    checkpoints = tuple((step, publish(path, "models")) for step, path in trained.checkpoints)
    return replace(trained, path=publish(trained.path, "models"), slot_wait_seconds=waited, checkpoints=checkpoints)
