"""Trainer on a tiny model and real MLQA-R pairs: loss, resume, early stopping, export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from hybridcore.config.spec import EncoderSettings, TrainConfig
from hybridcore.data.formats.lareqa import load_lareqa
from hybridcore.data.pairs import examples_from_lareqa
from hybridcore.model.encoder import Encoder
from hybridcore.train.losses import info_nce
from hybridcore.train.samplers import exact_schedule
from hybridcore.train.trainer import Trainer


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def mlqa_examples(shared_data):
    examples = examples_from_lareqa(load_lareqa("mlqa-r"))
    groups = sorted({e.parallel_id for e in examples})[:120]
    return [e for e in examples if e.parallel_id in set(groups)]


def tiny_config(**overrides) -> TrainConfig:
    base = dict(
        strategy="hybrid",
        batch_size=8,
        steps=6,
        validate_every=2,
        checkpoint_every=2,
        patience=10,
        learning_rate=1e-3,
        validation_fraction=0.2,
        passage_max_length=48,
        query_max_length=24,
        seed=7,
    )
    return TrainConfig(**{**base, **overrides})


def test_info_nce_matches_a_hand_computation():
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(3, 4), dim=-1)
    p = torch.nn.functional.normalize(torch.randn(3, 4), dim=-1)
    n = torch.nn.functional.normalize(torch.randn(2, 4), dim=-1)
    logits = torch.cat([q @ p.T, q @ n.T], 1) / 0.05
    expected = -torch.log_softmax(logits, 1).diagonal().mean()
    assert info_nce(q, p, n, 0.05).item() == pytest.approx(expected.item(), rel=1e-6)
    perfect = info_nce(q, q, None, 0.01)
    assert perfect.item() < info_nce(q, p, None, 0.01).item()


def test_killed_run_resumes_to_the_same_weights(tiny_model, mlqa_examples, tmp_path):
    straight = Trainer(tiny_model, mlqa_examples, tiny_config(), tmp_path / "straight").train(progress=False)

    def kill_at_step_3(step: int) -> None:
        if step == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        Trainer(tiny_model, mlqa_examples, tiny_config(), tmp_path / "killed", on_step=kill_at_step_3).train(
            progress=False
        )
    assert (tmp_path / "killed.work" / "checkpoint" / "trainer_state.json").is_file()
    resumed = Trainer(tiny_model, mlqa_examples, tiny_config(), tmp_path / "killed").train(progress=False)

    assert resumed.steps_done == straight.steps_done == 6
    a = load_file(str(straight.model_dir / "model.safetensors"))
    b = load_file(str(resumed.model_dir / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in straight.history]
    assert not (tmp_path / "killed.work").exists()  # cleaned up after success
    record = json.loads((resumed.model_dir / "training.json").read_text())
    assert record["config"]["strategy"] == "hybrid" and record["steps_done"] == 6


def test_training_lowers_the_loss_and_keeps_the_best_validated_step(tiny_model, mlqa_examples, tmp_path):
    result = Trainer(
        tiny_model,
        mlqa_examples,
        tiny_config(steps=30, validate_every=3, patience=20, learning_rate=2e-3),
        tmp_path / "run",
    ).train(progress=False)
    vals = [h["validation_loss"] for h in result.history if "validation_loss" in h]
    assert result.best_validation_loss == min(vals)
    assert vals[result.best_step // 3 - 1] == result.best_validation_loss  # the kept step is the best one
    losses = [h["loss"] for h in result.history]
    assert sum(losses[-5:]) < sum(losses[:5])  # it learned something (the random tiny model overfits its 108 groups)
    assert result.examples_per_second > 0


def test_early_stopping_stops_after_patience_and_exports_the_best_weights(
    tiny_model, mlqa_examples, tmp_path, monkeypatch
):
    scripted = iter([3.0, 2.0, 2.5, 2.6, 1.0])  # best at the 2nd validation; 2 worse ones end it
    snapshots = []

    def scripted_validation(self):
        snapshots.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(Trainer, "validation_loss", scripted_validation)
    result = Trainer(
        tiny_model, mlqa_examples, tiny_config(steps=30, validate_every=2, patience=2), tmp_path / "run"
    ).train(progress=False)
    assert result.stopped_early and result.steps_done == 8 and len(snapshots) == 4
    assert result.best_validation_loss == 2.0
    exported = load_file(str(result.model_dir / "model.safetensors"))
    best, last = snapshots[1], snapshots[3]
    assert exported.keys() == best.keys()
    assert all(torch.equal(exported[k], best[k]) for k in best)  # the best weights, not the last ones
    assert not all(torch.equal(exported[k], last[k]) for k in last)


def test_exported_model_loads_in_sentence_transformers_and_our_encoder(tiny_model, mlqa_examples, tmp_path):
    from sentence_transformers import SentenceTransformer

    result = Trainer(tiny_model, mlqa_examples, tiny_config(steps=2), tmp_path / "run").train(progress=False)
    texts = ["Wer schrieb den Roman?", "What is the capital of Vietnam?"]
    ours = Encoder(str(result.model_dir), EncoderSettings(precision="fp32"))
    st = SentenceTransformer(str(result.model_dir), device="cpu")
    np.testing.assert_allclose(st.encode(texts, prompt_name="query"), ours.encode_queries(texts), atol=1e-5)
    np.testing.assert_allclose(st.encode(texts, prompt_name="passage"), ours.encode_passages(texts), atol=1e-5)
    assert not list(result.model_dir.glob("*.bin"))


def test_hard_negatives_enter_the_loss(tiny_model, mlqa_examples, tmp_path):
    from dataclasses import replace

    with_negs = [replace(e, negatives=("An unrelated sentence about weather.",)) for e in mlqa_examples]
    trainer = Trainer(tiny_model, with_negs, tiny_config(), tmp_path / "negs")
    batch = trainer.sampler.epoch_plan(0)[0]
    plain = Trainer(tiny_model, mlqa_examples, tiny_config(), tmp_path / "plain")
    with torch.no_grad():
        trainer.model.eval(), plain.model.eval()
        assert (
            trainer.batch_loss(batch, trainer.train_tokens).item() > plain.batch_loss(batch, plain.train_tokens).item()
        )


def test_every_arm_and_seed_is_selected_on_the_same_validation_batches(tiny_model, mlqa_examples, tmp_path):
    """One held-out split and one plan (mono and cross in turn) whatever the strategy or seed."""
    plans = {}
    for strategy, seed in (("mono", 1), ("cross", 2), ("hybrid", 3)):
        trainer = Trainer(tiny_model, mlqa_examples, tiny_config(strategy=strategy, seed=seed), tmp_path / strategy)
        plans[strategy] = (trainer.val_batches, [e.parallel_id for e in trainer.val_examples])
    assert plans["mono"] == plans["cross"] == plans["hybrid"]
    kinds = [b.kind for b in plans["mono"][0]]
    assert kinds[:2] == ["mono", "cross"] and abs(kinds.count("mono") - kinds.count("cross")) <= 1


def test_the_kept_step_and_the_realised_batch_mix_are_recorded(tiny_model, mlqa_examples, tmp_path, monkeypatch):
    scripted = iter([3.0, 2.0, 2.5, 2.6])
    monkeypatch.setattr(Trainer, "validation_loss", lambda self: next(scripted))
    result = Trainer(
        tiny_model, mlqa_examples, tiny_config(steps=20, validate_every=2, patience=2, alpha=0.3), tmp_path / "run"
    ).train(progress=False)
    assert result.best_step == 4 and result.stopped_early and result.steps_done == 8
    schedule = exact_schedule(20, 0.3, 7)  # the exact mix (tiny_config: seed 7): its first 8 batches were trained
    assert result.mono_share == pytest.approx(schedule[:8].count("mono") / 8)
    record = json.loads((result.model_dir / "training.json").read_text())
    assert record["best_step"] == 4 and record["mono_share"] == result.mono_share
