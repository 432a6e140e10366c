"""Encoding and evaluating one model on one dataset."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task

from hybridcore.run import pipeline
from hybridcore.run.artifacts import localize, publish
from hybridcore.run.spec import EncoderSettings
from tasks.compute import machine_slot
from tasks.retry import transient_only


@task(retries=1, retry_delay_seconds=5, retry_condition_fn=transient_only)
def evaluate_model(model: str, dataset: str, settings: EncoderSettings, candidate_context: bool,
                   trust_remote_code: bool = False) -> dict:
    """Encode through the embedding cache and evaluate ``model`` (a name, a path, or a model
    published to the artifact root); returns the results folder (published too) and the
    seconds spent waiting for a compute slot."""
    with machine_slot(f"evaluate {dataset}") as waited:
        files = pipeline.evaluate_model(str(localize(model)), dataset, settings, candidate_context, trust_remote_code=trust_remote_code)
    return {**asdict(files), "path": publish(files.path, "evaluations"), "slot_wait_seconds": waited}
