"""Preparing training data and guarding the zero-shot evaluation."""

from __future__ import annotations

from prefect import task

from hybridcore.run import pipeline
from hybridcore.run.pipeline import PreparedData
from tasks.retry import transient_only


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=transient_only)
def prepare_training_data(source: str, with_context: bool = False) -> PreparedData:
    """Training pairs as a content-named JSONL file."""
    return pipeline.prepare_training_data(source, with_context)


@task
def zero_shot_guard(data: PreparedData, eval_sets: list[str], allow_overlap: bool = False) -> list[dict]:
    """Overlap of the training data with every evaluation set; fails the run on any."""
    return pipeline.zero_shot_guard(data, eval_sets, allow_overlap)
