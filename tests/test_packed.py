"""The packed training forward computes what the padded one does."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaModel

from hybridcore.config.spec import TrainConfig
from hybridcore.data.pairs import TrainingExample
from hybridcore.model.encoder import load_model
from hybridcore.model.packed import BLOCK_LENGTH_SHARE, attention_blocks, can_pack, packed_hidden_states
from hybridcore.train.trainer import Trainer

QUERIES = ["query: where is it?", "query: wer hat das Buch geschrieben, und wann erschien es zuerst?", "query: 東京"]
PASSAGES = [
    ("passage: Berlin is the capital.", "Germany is a country in Europe with many cities and a long history."),
    ("passage: x", "y"),
    ("passage: a long answer " * 12, "and its paragraph " * 20),
]


def _groups(path):
    tok = AutoTokenizer.from_pretrained(path)
    queries = tok(QUERIES, padding=True, return_tensors="pt")
    passages = tok([p for p, _ in PASSAGES], [c for _, c in PASSAGES], padding=True, return_tensors="pt")
    return [queries, passages]


def _check_equal(path, atol, by_length=False):
    model = load_model(path, False).eval()
    assert can_pack(model)
    groups = _groups(path)
    with torch.no_grad():
        padded = [model(**g).last_hidden_state for g in groups]
        packed = packed_hidden_states(model, groups, by_length)
    for ref, got, g in zip(padded, packed, groups):
        real = g["attention_mask"].bool()
        assert got.shape == ref.shape and (~real).any()  # some padding in every group
        torch.testing.assert_close(got[real], ref[real], rtol=0, atol=atol)
        assert not got[~real].any()


@pytest.mark.parametrize("by_length", [False, True])
def test_packed_hidden_states_equal_the_padded_forward(tiny_model, by_length):
    _check_equal(tiny_model, atol=1e-5, by_length=by_length)


@pytest.mark.parametrize("by_length", [False, True])
def test_packed_hidden_states_equal_the_padded_forward_of_e5_small(e5_path, by_length):
    _check_equal(e5_path, atol=1e-4, by_length=by_length)  # 12 layers of 384: fp32 rounding


def test_attention_blocks_cut_by_length_and_cover_every_row_once():
    lengths = [32, 159, 40, 100, 120, 41, 31, 5]
    assert attention_blocks(lengths, by_length=False) == [list(range(8))]
    blocks = attention_blocks(lengths, by_length=True)
    assert blocks == [[1, 4], [3], [5, 2, 0, 6], [7]]  # 159, 120 | 100 | 41, 40, 32, 31 | 5
    for block in blocks:
        assert all(lengths[r] >= BLOCK_LENGTH_SHARE * lengths[block[0]] for r in block)


def test_left_padding_is_refused(tiny_model):
    model = load_model(tiny_model, False)
    g = _groups(tiny_model)[0]
    g = {k: v.flip(1) for k, v in g.items()}
    with pytest.raises(ValueError, match="right-padded"):
        packed_hidden_states(model, [g])


def test_models_other_than_plain_bert_take_their_own_forward():
    roberta = XLMRobertaModel(
        XLMRobertaConfig(
            vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
    )
    assert not can_pack(roberta)


def _examples():
    langs = ("en", "de", "es")
    return [
        TrainingExample(
            parallel_id=f"q{i}",
            lang=lang,
            query=f"question {i} in {lang} " * (1 + i % 4),
            positive=f"the answer number {i} " * (1 + (i * 7) % 9),
        )
        for i in range(40)
        for lang in langs
    ]


def _weights_after(tiny_model, tmp_path, packed: bool, steps: int) -> dict[str, torch.Tensor]:
    config = TrainConfig(batch_size=6, steps=steps, packed=packed, precision="fp32")
    trainer = Trainer(str(tiny_model), _examples(), config, tmp_path / f"model-{packed}")
    assert trainer.packed is packed
    for module in trainer.model.modules():  # dropout draws differ between the two: switched off
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    for step, batch in enumerate(trainer.sampler.epoch_plan(0)[:steps]):
        trainer.train_step(batch, step)
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def test_packed_training_reaches_the_padded_trainers_weights(tiny_model, tmp_path):
    steps = 6
    padded = _weights_after(tiny_model, tmp_path, packed=False, steps=steps)
    packed = _weights_after(tiny_model, tmp_path, packed=True, steps=steps)
    initial = load_model(tiny_model, False).state_dict()
    moved = max((padded[k] - initial[k]).abs().max().item() for k in padded)
    assert moved > 1e-4  # it trained
    for name in padded:
        torch.testing.assert_close(packed[name], padded[name], rtol=0, atol=1e-6, msg=name)


def test_kept_gradients_reach_the_weights_of_plain_autograd(tiny_model, tmp_path):
    """The trainer keeps its gradients between steps and takes the word embedding's as a
    sparse one; a plain step (dense embedding gradient, gradients freed each step) must land
    on the same weights."""
    steps = 4
    kept = _weights_after(tiny_model, tmp_path, packed=True, steps=steps)
    config = TrainConfig(batch_size=6, steps=steps, packed=True, precision="fp32")
    trainer = Trainer(str(tiny_model), _examples(), config, tmp_path / "plain")
    embedding = trainer.model.get_input_embeddings()
    assert embedding.sparse and embedding.weight.grad is not None
    embedding.sparse = False
    trainer.optimizer.zero_grad(set_to_none=True)
    for module in trainer.model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    for step, batch in enumerate(trainer.sampler.epoch_plan(0)[:steps]):
        for group in trainer.optimizer.param_groups:
            group["lr"] = trainer.learning_rate(step)
        trainer.batch_loss(batch, trainer.train_tokens).backward()
        assert not embedding.weight.grad.is_sparse
        torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), config.max_grad_norm)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(kept[name], value, rtol=0, atol=1e-6, msg=name)
