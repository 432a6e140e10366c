"""The bench's defaults, declared once: the command line and ``bench.run.main`` read them."""

from __future__ import annotations

from dataclasses import dataclass

from hybridcore.config.spec import TrainConfig


@dataclass(frozen=True)
class BenchSettings:
    dataset: str = "xquad-r"  # the LAReQA set of the encoding sample and the bf16/fp32 check
    questions: int = 160  # in the encoding sample: whole parallel groups, with their answers
    train_steps: int = 8  # timed steps for each trainer, after two warm-up steps
    batch_size: int = TrainConfig().batch_size


BENCH = BenchSettings()
