"""Batch samplers for monolingual, cross-lingual and hybrid training (arXiv 2408.10536).

A batch is a list of (query example, positive example) index pairs. Every batch draws each
parallel group at most once, and never two groups that share an answer (``pairs.answer_sets``),
so neither a translation of a positive nor another question's copy of it serves as a
negative: the false negatives that generic samplers miss.

- ``MonoStrategy`` (X-X-mono): one language per batch, drawn uniformly; query and positive
  in that language.
- ``CrossStrategy`` (X-Y): per pair, a (query language, positive language) pair with X != Y,
  drawn uniformly among those the group has.
- ``HybridStrategy``: per batch, mono with probability alpha, else cross (the paper's); or,
  given a schedule (``exact_schedule``), exactly round(alpha x steps) mono batches in a seeded
  order, so an alpha sweep measures alpha and not the binomial noise of the batch mix.

``ParallelBatchSampler`` turns a strategy into an endless, seeded stream of batches. An epoch
is one pass over the groups in a seeded permutation; it ends when the next batch cannot be
filled with unused groups. The plan of epoch e depends only on (seed, e), so the sampler's
state is just (epoch, batch) and a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Protocol

import numpy as np

from hybridcore.data.pairs import TrainingExample, answer_sets


@dataclass(frozen=True)
class Batch:
    kind: str  # "mono" or "cross"
    pairs: tuple[tuple[int, int], ...]  # (query example index, positive example index)


class ParallelIndex:
    """Examples grouped by parallel_id: for each group, its example index per language and
    the answer set it belongs to."""

    def __init__(self, examples: Sequence[TrainingExample]) -> None:
        groups: dict[str, dict[str, int]] = {}
        for i, e in enumerate(examples):
            groups.setdefault(e.parallel_id, {})[e.lang] = i
        self.group_ids = sorted(groups)
        self.groups = [groups[g] for g in self.group_ids]
        answer_set = answer_sets(examples)
        self.answer_set = [answer_set[g] for g in self.group_ids]
        self.languages = tuple(sorted({e.lang for e in examples}))


class Strategy(Protocol):
    name: str

    def draw(
        self, rng: np.random.Generator, index: ParallelIndex, unused: list[int], batch_size: int, number: int = 0
    ) -> Batch | None:
        """Take ``batch_size`` groups from ``unused`` (removing them) into a batch, or None;
        ``number`` is the batch's place in the whole run (0 first)."""


def _take(index: ParallelIndex, unused: list[int], eligible, batch_size: int) -> list[int] | None:
    chosen, answers = [], set()
    for pos, g in enumerate(unused):
        if eligible(g) and index.answer_set[g] not in answers:
            chosen.append(pos)
            answers.add(index.answer_set[g])
            if len(chosen) == batch_size:
                break
    if len(chosen) < batch_size:
        return None
    groups = [unused[p] for p in chosen]
    for p in reversed(chosen):
        del unused[p]
    return groups


class MonoStrategy:
    """X-X-mono: the batch language drawn uniformly among those that can still fill a batch."""

    name = "mono"

    def draw(
        self, rng: np.random.Generator, index: ParallelIndex, unused: list[int], batch_size: int, number: int = 0
    ) -> Batch | None:
        fillable = [
            lang
            for lang in index.languages
            if len({index.answer_set[g] for g in unused if lang in index.groups[g]}) >= batch_size
        ]
        if not fillable:
            return None
        lang = fillable[rng.integers(len(fillable))]
        groups = _take(index, unused, lambda g: lang in index.groups[g], batch_size)
        assert groups is not None
        return Batch("mono", tuple((index.groups[g][lang], index.groups[g][lang]) for g in groups))


class CrossStrategy:
    """X-Y: each pair's languages drawn uniformly among the ordered pairs its group offers."""

    name = "cross"

    def draw(
        self, rng: np.random.Generator, index: ParallelIndex, unused: list[int], batch_size: int, number: int = 0
    ) -> Batch | None:
        groups = _take(index, unused, lambda g: len(index.groups[g]) >= 2, batch_size)
        if groups is None:
            return None
        pairs = []
        for g in groups:
            options = list(permutations(sorted(index.groups[g]), 2))
            x, y = options[rng.integers(len(options))]
            pairs.append((index.groups[g][x], index.groups[g][y]))
        return Batch("cross", tuple(pairs))


class HybridStrategy:
    """Per batch: mono with probability ``alpha``, else cross (paper: alpha = 0.5); with a
    ``schedule`` (one kind per batch of the run), the batch's kind is the schedule's, and
    batches beyond it fall back to the draw."""

    name = "hybrid"

    def __init__(self, alpha: float = 0.5, schedule: Sequence[str] | None = None) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        self.alpha = alpha
        self.schedule = tuple(schedule or ())
        self.mono, self.cross = MonoStrategy(), CrossStrategy()

    def draw(
        self, rng: np.random.Generator, index: ParallelIndex, unused: list[int], batch_size: int, number: int = 0
    ) -> Batch | None:
        if number < len(self.schedule):
            chosen = self.mono if self.schedule[number] == "mono" else self.cross
        else:
            chosen = self.mono if rng.random() < self.alpha else self.cross
        # No fallback to the other kind when the drawn one cannot fill: the epoch ends, and
        # the share of mono batches stays alpha.
        return chosen.draw(rng, index, unused, batch_size, number)


def exact_schedule(batches: int, alpha: float, seed: int) -> tuple[str, ...]:
    """Exactly round(alpha x batches) ``mono`` and the rest ``cross``, in a seeded order."""
    mono = round(alpha * batches)
    kinds = np.array(["mono"] * mono + ["cross"] * (batches - mono))
    return tuple(kinds[np.random.default_rng([seed, 7]).permutation(batches)].tolist())


def make_strategy(name: str, alpha: float = 0.5, schedule: Sequence[str] | None = None) -> Strategy:
    """``mono``, ``cross`` or ``hybrid`` (with ``schedule``: its batches' kinds, ``exact_schedule``)."""
    if name == "mono":
        return MonoStrategy()
    if name == "cross":
        return CrossStrategy()
    if name == "hybrid":
        return HybridStrategy(alpha, schedule)
    raise ValueError(f"unknown strategy {name!r}: use mono, cross or hybrid")


class ParallelBatchSampler:
    """Endless seeded batches, epoch by epoch, resumable from ``state_dict()``."""

    def __init__(self, examples: Sequence[TrainingExample], strategy: Strategy, batch_size: int, seed: int = 0) -> None:
        if batch_size < 2:
            raise ValueError("batch_size must be at least 2: in-batch negatives need company")
        self.index = ParallelIndex(examples)
        self.strategy = strategy
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0
        self.position = 0  # batches already served from the current epoch
        self._starts = [0]  # each epoch's first batch number in the whole run, as far as known
        if not self.epoch_plan(0):
            raise ValueError(
                f"{len(self.index.groups)} parallel groups cannot fill one {strategy.name} batch of {batch_size}"
            )

    def epoch_plan(self, epoch: int) -> list[Batch]:
        """All batches of ``epoch``, a function of (seed, epoch) only (and of the earlier
        epochs' lengths, which number the batches for a schedule)."""
        while len(self._starts) <= epoch:
            last = len(self._starts) - 1
            self._starts.append(self._starts[last] + len(self._plan(last, self._starts[last])))
        return self._plan(epoch, self._starts[epoch])

    def _plan(self, epoch: int, start: int) -> list[Batch]:
        rng = np.random.default_rng([self.seed, epoch])
        unused = rng.permutation(len(self.index.groups)).tolist()
        plan: list[Batch] = []
        while (batch := self.strategy.draw(rng, self.index, unused, self.batch_size, start + len(plan))) is not None:
            plan.append(batch)
        return plan

    def __iter__(self) -> Iterator[Batch]:
        while True:
            plan = self.epoch_plan(self.epoch)
            while self.position < len(plan):
                batch = plan[self.position]
                self.position += 1
                yield batch
            self.epoch += 1
            self.position = 0

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"sampler state has seed {state['seed']}, this sampler {self.seed}")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
