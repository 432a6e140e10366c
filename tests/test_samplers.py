"""Batch samplers: the method's invariants, property-based, and the hybrid mix statistically."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from hybridcore.data.pairs import TrainingExample
from hybridcore.train.samplers import (
    CrossStrategy,
    HybridStrategy,
    MonoStrategy,
    ParallelBatchSampler,
    exact_schedule,
    make_strategy,
)
from tests.helpers import assert_no_shared_answer, positives_by_group


def sampler_or_reject(examples, strategy, batch_size: int, seed: int) -> ParallelBatchSampler:
    """The sampler, or (for too few groups to fill one batch, which it must refuse in so many
    words rather than degrade) a rejected example that hypothesis replaces."""
    try:
        return ParallelBatchSampler(examples, strategy, batch_size, seed)
    except ValueError as err:
        assert "cannot fill" in str(err), err
        assume(False)
        raise


LANGS = ["ar", "de", "en", "es", "hi", "vi", "zh"]


def make_examples(group_langs: list[list[str]]) -> list[TrainingExample]:
    return [
        TrainingExample(f"g{g}", lang, f"q{g}{lang}", f"p{g}{lang}")
        for g, langs in enumerate(group_langs)
        for lang in langs
    ]


group_structures = st.lists(
    st.lists(st.sampled_from(LANGS), min_size=1, max_size=4, unique=True), min_size=8, max_size=60
)


def check_batch(batch, examples, batch_size):
    assert len(batch.pairs) == batch_size
    groups = [examples[q].parallel_id for q, _ in batch.pairs]
    assert len(set(groups)) == len(groups), "two examples of one parallel group in a batch"
    for q, p in batch.pairs:
        assert examples[q].parallel_id == examples[p].parallel_id
    langs = [(examples[q].lang, examples[p].lang) for q, p in batch.pairs]
    if batch.kind == "mono":
        assert len({x for pair in langs for x in pair}) == 1
    else:
        assert all(x != y for x, y in langs)


@settings(max_examples=60, deadline=None)
@given(group_structures, st.sampled_from(["mono", "cross", "hybrid"]), st.integers(2, 6), st.integers(0, 10_000))
def test_every_batch_keeps_the_invariants(structure, name, batch_size, seed):
    examples = make_examples(structure)
    sampler = sampler_or_reject(examples, make_strategy(name, 0.5), batch_size, seed)
    for batch in itertools.islice(sampler, 40):
        check_batch(batch, examples, batch_size)
        assert name == "hybrid" or batch.kind == name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(LANGS), min_size=1, max_size=4, unique=True), st.integers(0, 25)),
        min_size=8,
        max_size=60,
    ),
    st.sampled_from(["mono", "cross", "hybrid"]),
    st.integers(2, 6),
    st.integers(0, 10_000),
)
def test_groups_that_share_an_answer_never_meet_in_a_batch(structure, name, batch_size, seed):
    # several questions with one answer, as in SQuAD: group g's positive in lang is "p<answer><lang>"
    examples = [
        TrainingExample(f"g{g}", lang, f"q{g}{lang}", f"p{answer}{lang}")
        for g, (langs, answer) in enumerate(structure)
        for lang in langs
    ]
    sampler = sampler_or_reject(examples, make_strategy(name, 0.5), batch_size, seed)
    positives = positives_by_group(examples)
    for batch in itertools.islice(sampler, 40):
        check_batch(batch, examples, batch_size)
        assert_no_shared_answer(batch, examples, positives)


@settings(max_examples=40, deadline=None)
@given(group_structures, st.integers(2, 5), st.integers(0, 10_000))
def test_an_epoch_uses_each_group_at_most_once(structure, batch_size, seed):
    examples = make_examples(structure)
    sampler = sampler_or_reject(examples, HybridStrategy(0.5), batch_size, seed)
    used = [examples[q].parallel_id for b in sampler.epoch_plan(0) for q, _ in b.pairs]
    assert len(used) == len(set(used))


@settings(max_examples=40, deadline=None)
@given(group_structures, st.integers(2, 5), st.integers(0, 10_000), st.integers(0, 30))
def test_seeded_and_resumable_mid_epoch(structure, batch_size, seed, cut):
    examples = make_examples(structure)
    first = sampler_or_reject(examples, HybridStrategy(0.5), batch_size, seed)
    straight = list(itertools.islice(first, 40))
    again = list(itertools.islice(ParallelBatchSampler(examples, HybridStrategy(0.5), batch_size, seed), 40))
    assert straight == again
    interrupted = ParallelBatchSampler(examples, HybridStrategy(0.5), batch_size, seed)
    head = list(itertools.islice(interrupted, cut))
    resumed = ParallelBatchSampler(examples, HybridStrategy(0.5), batch_size, seed)
    resumed.load_state_dict(interrupted.state_dict())
    assert head + list(itertools.islice(resumed, 40 - cut)) == straight


def test_epochs_differ_and_are_counted():
    examples = make_examples([LANGS[:3]] * 20)
    sampler = ParallelBatchSampler(examples, CrossStrategy(), 4, seed=1)
    per_epoch = len(sampler.epoch_plan(0))
    batches = list(itertools.islice(sampler, per_epoch + 1))
    assert sampler.state_dict()["epoch"] == 1
    assert sampler.epoch_plan(0) != sampler.epoch_plan(1)
    assert len(batches) == per_epoch + 1


def test_mono_language_is_uniform_and_cross_pairs_cover_the_group():
    examples = make_examples([LANGS[:4]] * 400)
    sampler = ParallelBatchSampler(examples, MonoStrategy(), 8, seed=3)
    langs = [examples[b.pairs[0][0]].lang for b in itertools.islice(sampler, 2000)]
    counts = [langs.count(lang) for lang in LANGS[:4]]
    assert min(counts) > 0.2 * len(langs)  # 0.25 expected for each of 4
    cross = ParallelBatchSampler(examples, CrossStrategy(), 8, seed=3)
    seen = {(examples[q].lang, examples[p].lang) for b in itertools.islice(cross, 300) for q, p in b.pairs}
    assert seen == set(itertools.permutations(LANGS[:4], 2))


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.8])
def test_hybrid_share_of_mono_batches_matches_alpha(alpha):
    examples = make_examples([LANGS[:3]] * 300)
    sampler = ParallelBatchSampler(examples, HybridStrategy(alpha), 4, seed=11)
    kinds = [b.kind for b in itertools.islice(sampler, 3000)]
    result = binomtest(kinds.count("mono"), len(kinds), alpha)
    assert result.pvalue > 0.001, (alpha, kinds.count("mono") / len(kinds))


def test_bad_settings_are_refused():
    examples = make_examples([["en", "de"]] * 3)
    with pytest.raises(ValueError, match="cannot fill"):
        ParallelBatchSampler(examples, MonoStrategy(), 4)
    with pytest.raises(ValueError, match="at least 2"):
        ParallelBatchSampler(examples, MonoStrategy(), 1)
    with pytest.raises(ValueError, match="alpha"):
        HybridStrategy(1.5)
    with pytest.raises(ValueError, match="unknown strategy"):
        make_strategy("mixed")


@pytest.mark.parametrize("alpha, steps", [(0.3, 40), (0.5, 37), (0.7, 100)])
def test_an_exact_schedule_trains_exactly_round_alpha_steps_mono_batches(alpha, steps):
    """Across epochs, and the same batches again after a resume mid-way."""
    examples = make_examples([list(LANGS[:3])] * 60)
    schedule = exact_schedule(steps, alpha, seed=5)
    assert schedule.count("mono") == round(alpha * steps) and len(schedule) == steps
    assert exact_schedule(steps, alpha, seed=5) == schedule != exact_schedule(steps, alpha, seed=6)
    sampler = ParallelBatchSampler(examples, HybridStrategy(alpha, schedule), 4, seed=11)
    batches = list(itertools.islice(sampler, steps))
    assert sampler.epoch > 0  # the schedule runs on across epochs
    assert [b.kind for b in batches] == list(schedule)
    interrupted = ParallelBatchSampler(examples, HybridStrategy(alpha, schedule), 4, seed=11)
    head = list(itertools.islice(interrupted, steps // 2))
    resumed = ParallelBatchSampler(examples, HybridStrategy(alpha, schedule), 4, seed=11)
    resumed.load_state_dict(interrupted.state_dict())
    assert head + list(itertools.islice(resumed, steps - steps // 2)) == batches
