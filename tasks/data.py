"""Preparing training data and guarding the zero-shot evaluation."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task

from hybridcore import pipeline


@task(retries=2, retry_delay_seconds=2)
def prepare_training_data(source: str, with_context: bool = False) -> dict:
    """Training pairs as a content-named JSONL file."""
    return asdict(pipeline.prepare_training_data(source, with_context))


@task
def zero_shot_guard(data: dict, eval_sets: list[str], allow_overlap: bool = False) -> list[dict]:
    """Overlap of the training data with every LAReQA evaluation set; fails the run on any."""
    return pipeline.zero_shot_guard(pipeline.PreparedData(**data), eval_sets, allow_overlap)
