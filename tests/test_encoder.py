"""Encoder mechanics on a tiny random model: batching, order, pooling, prefixes, context."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from hybridcore.config.spec import EncoderSettings
from hybridcore.model.encoder import Encoder, pool, token_budget_batches
from hybridcore.model.precision import resolve_dtype

TEXTS = [
    "short",
    "a somewhat longer sentence with more words in it",
    "mid length text here",
    "x",
    "another one, of medium size",
    "the longest text of them all, by quite a margin, it goes on",
]


@given(st.lists(st.integers(1, 600), min_size=1, max_size=200), st.integers(1, 5000))
def test_token_budget_batches_cover_every_text_once_within_budget(lengths, budget):
    batches = token_budget_batches(lengths, budget)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert len(b) == 1 or len(b) * longest <= budget


@pytest.fixture(scope="module")
def tiny(tiny_model):
    return Encoder(str(tiny_model), EncoderSettings(precision="fp32", tokens_per_batch=64))


def test_output_is_normalised_float32_in_input_order(tiny):
    out = tiny.encode_queries(TEXTS)
    assert out.dtype == np.float32 and out.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    one_by_one = np.stack([tiny.encode_queries([t])[0] for t in TEXTS])
    np.testing.assert_allclose(out, one_by_one, atol=1e-5)


def test_prefixes_are_applied(tiny):
    q = tiny.encode_queries(["hello world"])
    p = tiny.encode_passages(["hello world"])
    assert not np.allclose(q, p)
    manual = Encoder(str(tiny.path), EncoderSettings(precision="fp32", query_prefix="", passage_prefix=""))
    np.testing.assert_allclose(manual.encode_queries(["query: hello world"]), q, atol=1e-5)


def test_context_changes_the_candidate_vector(tiny):
    alone = tiny.encode_passages(["The answer."])
    with_context = tiny.encode_passages(["The answer."], ["Some paragraph. The answer. More text."])
    assert not np.allclose(alone, with_context)
    with pytest.raises(ValueError, match="1 passages but 2 contexts"):
        tiny.encode_passages(["a"], ["b", "c"])


def test_cls_and_mean_pooling():
    hidden = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])
    mask = torch.tensor([[1, 1, 0]])
    np.testing.assert_allclose(pool(hidden, mask, "mean").numpy(), [[2**-0.5, 2**-0.5]], rtol=1e-6)
    np.testing.assert_allclose(pool(hidden, mask, "cls").numpy(), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(hidden, mask, "max")  # type: ignore[arg-type]


def test_precision_setting():
    cpu = torch.device("cpu")
    assert resolve_dtype("fp32", cpu) == torch.float32
    assert resolve_dtype("bf16", cpu) == torch.bfloat16
    assert resolve_dtype("auto", cpu) in (torch.float32, torch.bfloat16)
    with pytest.raises(ValueError):
        resolve_dtype("fp8", cpu)  # type: ignore[arg-type]


def test_stats_count_real_tokens(tiny):
    before = tiny.stats.tokens
    tiny.encode_queries(["a b c"])
    n = len(tiny.tokenizer("query: a b c")["input_ids"])
    assert tiny.stats.tokens - before == n


def _padded_and_packed(path, texts, contexts, budget):
    out = {}
    for packed in (False, True):
        # PyTorch's own linear layers: the claim is about packing, not oneDNN's kernel
        settings = EncoderSettings(precision="fp32", tokens_per_batch=budget, packed=packed, prepacked=False)
        encoder = Encoder(str(path), settings)
        assert encoder.packed is packed
        prefixed = [encoder.settings.passage_prefix + t for t in texts]
        batches = [ids for ids, _, _ in encoder.batches(encoder.tokenize(prefixed, contexts))]
        assert any(len(ids) > 1 for ids in batches) and len(batches) > 1  # padding, and several batches
        out[packed] = encoder.encode_passages(texts, contexts)
    return out[False], out[True]


def test_packed_encoding_gives_the_padded_forwards_embeddings(tiny_model):
    padded, packed = _padded_and_packed(tiny_model, TEXTS, [t[::-1] for t in TEXTS], budget=64)
    np.testing.assert_allclose(packed, padded, rtol=0, atol=1e-6)


def test_packed_encoding_is_bit_for_bit_on_e5_small_and_real_paragraphs(e5_path, xquad_small):
    # The claim of EncoderSettings.packed: fp32 embeddings of real XQuAD-R candidates with
    # their paragraphs, several batches of the token budget, equal to the last bit.
    candidates = xquad_small.candidates[:40]
    padded, packed = _padded_and_packed(
        e5_path, [c.sentence for c in candidates], [c.context for c in candidates], budget=2048
    )
    assert np.array_equal(packed, padded)
