"""Training one model with one batch strategy."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task

from hybridcore import pipeline
from hybridcore.trainer import TrainConfig
from tasks.compute import machine_slot


@task
def train_model(base_model: str, data: dict, config: dict, record: dict | None = None) -> dict:
    """Fine-tune, or reuse the model already trained on the same model, data and config."""
    with machine_slot("train") as waited:
        trained = pipeline.train_model(base_model, pipeline.PreparedData(**data), TrainConfig(**config), record)
    return {**asdict(trained), "slot_wait_seconds": waited}
