"""The peer a user would pick instead of us: sentence-transformers, used the way its
documentation shows, on the same texts, pairs, batch size and precision as our code.

- ``st_encode``: ``SentenceTransformer.encode`` (it sorts texts by length; batch 32, its
  default), fp32 by default or bf16 through ``model_kwargs={"torch_dtype": ...}``.
- ``st_train``: ``SentenceTransformerTrainer`` with ``MultipleNegativesRankingLoss`` (its
  scale 20 is our temperature 0.05) and the no-duplicates batch sampler, timed step by step.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from transformers import TrainerCallback


@contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers frames a "LOAD REPORT ... MISSING pooler" box, and a progress bar, each time
    sentence-transformers loads e5-small: the pooler is one e5 never had (sentence-transformers
    pools itself), so the box is harmless and alarming. Errors still show."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def st_model(path: str, dtype: torch.dtype, max_length: int):
    from sentence_transformers import SentenceTransformer

    with quiet_loading():
        model = SentenceTransformer(
            path, device="cpu" if not torch.cuda.is_available() else "cuda", model_kwargs={"torch_dtype": dtype}
        )
    model.max_seq_length = max_length
    return model


def st_encode(model, texts: list[str | tuple[str, str]], batch_size: int = 32) -> tuple[np.ndarray, float]:
    """Normalised float32 embeddings of ``texts`` by the SentenceTransformer ``model`` (a pair
    is a sentence with its paragraph) and the seconds ``encode`` took, after a warm-up call."""
    model.encode(texts[:batch_size], batch_size=batch_size)
    started = time.perf_counter()
    out = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True)
    return np.asarray(out, dtype=np.float32), time.perf_counter() - started


class _StepTimer(TrainerCallback):
    """Each step's seconds from the end of the one before: the trainer fetches and collates
    (tokenises) a batch before its step begins, and that is part of training's cost."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        now = time.perf_counter()
        self.seconds.append(now - self._last)
        self._last = now


def st_train(
    path: str,
    pairs: list[tuple[str, str]],
    batch_size: int,
    steps: int,
    learning_rate: float,
    bf16: bool,
    seed: int,
    max_length: int = 256,
) -> tuple[torch.nn.Module, list[float]]:
    """Train on ``pairs`` (query, passage, prefixes included) for ``steps`` steps; returns the
    trained transformer and each step's seconds."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = st_model(path, torch.float32, max_length)
    data = Dataset.from_dict({"anchor": [q for q, _ in pairs], "positive": [p for _, p in pairs]})
    timer = _StepTimer()
    with tempfile.TemporaryDirectory() as out:
        args = SentenceTransformerTrainingArguments(
            output_dir=out,
            per_device_train_batch_size=batch_size,
            max_steps=steps,
            learning_rate=learning_rate,
            warmup_steps=0.1,
            weight_decay=0.01,
            max_grad_norm=1.0,
            bf16=bf16,
            use_cpu=not torch.cuda.is_available(),
            seed=seed,
            batch_sampler=BatchSamplers.NO_DUPLICATES,
            dataloader_drop_last=True,
            save_strategy="no",
            report_to="none",
            logging_steps=max(1, steps),
            disable_tqdm=True,
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=data, loss=MultipleNegativesRankingLoss(model), callbacks=[timer]
        )
        trainer.train()
    return model[0].auto_model, timer.seconds
