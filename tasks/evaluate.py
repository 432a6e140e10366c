"""Encoding and evaluating one model on one dataset."""

from __future__ import annotations

from dataclasses import asdict

from prefect import task

from hybridcore import pipeline
from hybridcore.encoder import EncoderSettings
from tasks.compute import machine_slot


@task(retries=1, retry_delay_seconds=5)
def evaluate_model(model: str, dataset: str, encoder: dict | None = None, with_context: bool = True,
                   beir_lang: str | None = None) -> dict:
    """Encode through the embedding cache and evaluate; returns the results folder."""
    settings = EncoderSettings(**(encoder or {}))
    with machine_slot(f"evaluate {dataset}") as waited:
        files = pipeline.evaluate_model(model, dataset, settings, with_context, beir_lang)
    return {**asdict(files), "slot_wait_seconds": waited}
