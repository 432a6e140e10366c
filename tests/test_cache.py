"""Embedding cache: keyed by weights content, texts and settings; never re-encodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hybridcore.config.spec import EncoderSettings
from hybridcore.model.cache import EmbeddingCache, weights_fingerprint
from hybridcore.model.encoder import Encoder

TEXTS = ["Wer hat das Buch geschrieben?", "What is the capital?", "Кто написал книгу?"]


@pytest.fixture()
def cache(tmp_path):
    return EmbeddingCache(tmp_path / "emb")


def test_second_encoding_is_served_from_the_cache(tiny_model, cache):
    encoder = Encoder(str(tiny_model), EncoderSettings(precision="fp32"), cache=cache)
    first = encoder.encode_passages(TEXTS, ["ctx a", "ctx b", "ctx c"])
    tokens = encoder.stats.tokens
    again = Encoder(str(tiny_model), EncoderSettings(precision="fp32"), cache=cache)
    second = again.encode_passages(TEXTS, ["ctx a", "ctx b", "ctx c"])
    np.testing.assert_array_equal(first, second)
    assert again.stats.tokens == 0 and cache.hits == 1 and tokens > 0


def test_key_changes_with_texts_context_settings_and_weights(tiny_model, cache):
    encoder = Encoder(str(tiny_model), EncoderSettings(precision="fp32"), cache=cache)
    encoder.encode_passages(TEXTS)
    encoder.encode_passages(TEXTS, ["c"] * 3)  # context
    encoder.encode_queries(TEXTS)  # prefix
    encoder.encode_passages(TEXTS[:2])  # texts
    Encoder(str(tiny_model), EncoderSettings(precision="fp32", pooling="cls"), cache=cache).encode_passages(TEXTS)
    assert (cache.hits, cache.misses) == (0, 5)
    changed = Encoder(str(tiny_model), EncoderSettings(precision="fp32"), cache=cache)
    with torch.no_grad():
        next(changed.model.parameters()).add_(1e-3)
    changed._fingerprint = None
    changed.encode_passages(TEXTS)
    assert cache.hits == 0


def test_fingerprint_is_content_not_path(tiny_model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    a = Encoder(str(tiny_model), EncoderSettings(precision="fp32"))
    b = Encoder(str(copy), EncoderSettings(precision="fp32"))
    assert weights_fingerprint(a.model) == weights_fingerprint(b.model)


def test_cached_files_are_safetensors_that_carry_their_checksum(cache):
    from safetensors import safe_open

    cache.put("ab" * 20, np.ones((2, 3), dtype=np.float32))
    path = next(cache.root.rglob("*.safetensors"))
    with safe_open(str(path), framework="np") as handle:
        assert handle.get_tensor("embeddings").shape == (2, 3) and len(handle.metadata()["sha256"]) == 64
    assert not list(cache.root.rglob("*.partial*"))


def test_packed_and_padded_embeddings_share_entries_only_where_they_are_bit_for_bit(tiny_model, cache):
    def encode(precision: str, packed: bool, prepacked: bool = False) -> None:
        settings = EncoderSettings(precision=precision, packed=packed, prepacked=prepacked)  # type: ignore[arg-type]
        Encoder(str(tiny_model), settings, cache=cache).encode_passages(TEXTS)

    encode("fp32", packed=False)
    encode("fp32", packed=True)  # fp32 on CPU: the same embeddings, the same entry
    assert (cache.hits, cache.misses) == (1, 1)
    encode("bf16", packed=False)
    encode("bf16", packed=True)  # not shown to be bit for bit: its own entry
    assert (cache.hits, cache.misses) == (1, 3)
    encode("fp32", packed=False, prepacked=True)  # oneDNN's products: within rounding, apart
    encode("fp32", packed=True, prepacked=True)  # and packed apart from padded there too
    assert (cache.hits, cache.misses) == (1, 5)
