"""Encoding and evaluating one model on one dataset."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task

from hybridcore.run import pipeline
from hybridcore.run.spec import EncoderSettings
from tasks.compute import machine_slot
from tasks.retry import transient_only


@task(retries=1, retry_delay_seconds=5, retry_condition_fn=transient_only)
def evaluate_model(model: str, dataset: str, settings: EncoderSettings, candidate_context: bool,
                   trust_remote_code: bool = False) -> dict:
    """Encode through the embedding cache and evaluate; returns the results folder and the
    seconds spent waiting for a compute slot."""
    with machine_slot(f"evaluate {dataset}") as waited:
        files = pipeline.evaluate_model(model, dataset, settings, candidate_context, trust_remote_code=trust_remote_code)
    return {**asdict(files), "slot_wait_seconds": waited}
