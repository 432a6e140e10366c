"""Encoding and evaluating one model on one dataset."""

from __future__ import annotations

from dataclasses import replace

from prefect import task

from hybridcore.config.spec import RunSpec
from hybridcore.run import pipeline
from hybridcore.run.artifacts import localize, publish
from hybridcore.run.pipeline import EvaluationFiles
from tasks.compute import machine_slot
from tasks.retry import transient_only


@task(retries=1, retry_delay_seconds=5, retry_condition_fn=transient_only)
def evaluate_model(model: str, dataset: str, spec: RunSpec, code_bound: bool = False) -> EvaluationFiles:
    """Encode through the embedding cache and evaluate ``model`` (a name, a path, or a model
    published to the artifact root) as ``spec`` says; returns the results folder (published
    too) and the seconds spent waiting for a compute slot. ``code_bound``: see
    ``pipeline.evaluate_model`` (the nightly's reference)."""
    with machine_slot(f"evaluate {dataset}") as waited:
        files = pipeline.evaluate_model(
            str(localize(model)),
            dataset,
            spec.encoder,
            spec.candidate_context,
            trust_remote_code=spec.trust_remote_code,
            spec=spec,
            code_bound=code_bound,
        )
    return replace(files, path=publish(files.path, "evaluations"), slot_wait_seconds=waited)
