"""Preparing training data and guarding the zero-shot evaluation."""

from __future__ import annotations

from dataclasses import replace

from prefect import task

from hybridcore.config.spec import RunSpec
from hybridcore.run import pipeline, preflight
from hybridcore.run.artifacts import localize, publish
from hybridcore.run.pipeline import PreparedData
from tasks.retry import transient_only


@task
def check_spec(spec: RunSpec) -> None:
    """Every dataset, the training data and the model of ``spec`` resolve (before any work)."""
    preflight.check_resolvable(spec)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=transient_only)
def prepare_training_data(source: str, candidate_context: bool = False) -> PreparedData:
    """Training pairs as a content-named JSONL file, published to the artifact root."""
    data = pipeline.prepare_training_data(source, candidate_context)
    return replace(data, path=publish(data.path, "data"))


def local_copy(data: PreparedData) -> PreparedData:
    """``data`` with its file on this machine (fetched from the artifact root on first use)."""
    return replace(data, path=str(localize(data.path)))


@task
def zero_shot_guard(data: PreparedData, eval_sets: list[str], allow_overlap: bool = False) -> list[dict]:
    """Overlap of the training data with every evaluation set; fails the run on any."""
    return pipeline.zero_shot_guard(local_copy(data), eval_sets, allow_overlap)
