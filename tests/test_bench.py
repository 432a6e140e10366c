"""The benchmark's own arithmetic: the encoding profile and the target checks."""

from __future__ import annotations

import pytest

from bench.profile import encoding_profile, format_profile, part_of
from bench.run import TARGETS, check_targets
from hybridcore.model.encoder import Encoder, token_budget_batches
from hybridcore.run.spec import EncoderSettings

QUESTIONS = ["who wrote it?", "when did the war end, and who signed the treaty?", "why?"]
SENTENCES = ["It was written by a monk.", "The war ended in 1648.", "Because of the rain."]
CONTEXTS = ["A long time ago. It was written by a monk. Nobody knows his name.",
            "Many years of fighting. The war ended in 1648. A treaty was signed at Westphalia by many states.",
            "The harvest failed. Because of the rain. The river flooded the fields."]


def test_ops_are_sorted_into_parts():
    assert part_of("aten::_scaled_dot_product_flash_attention_for_cpu") == "attention"
    assert part_of("aten::addmm") == part_of("aten::mm") == "linear"
    assert part_of("aten::gelu") == part_of("aten::native_layer_norm") == "other"


def test_profile_counts_every_linear_flop_and_splits_the_wall_time(tiny_model):
    encoder = Encoder(str(tiny_model), EncoderSettings(precision="fp32", tokens_per_batch=64))
    prof = encoding_profile(encoder, QUESTIONS, SENTENCES, CONTEXTS)

    tok = encoder.tokenizer
    query_lengths = [len(tok("query: " + q)["input_ids"]) for q in QUESTIONS]
    passage_lengths = [len(tok("passage: " + s, c)["input_ids"]) for s, c in zip(SENTENCES, CONTEXTS)]
    padded = sum(len(b) * max(lengths[i] for i in b)
                 for lengths in (query_lengths, passage_lengths) for b in token_budget_batches(lengths, 64))
    # tiny BERT: 2 layers, width 32, feed-forward 64; per padded token and layer the Q, K, V and
    # output projections (4 x 32 x 32) and the two feed-forward products (2 x 32 x 64), 2 FLOP each
    assert prof["linear_flops"] == padded * 2 * 2 * (4 * 32 * 32 + 2 * 32 * 64)
    assert prof["real_tokens"] == sum(query_lengths) + sum(passage_lengths)

    assert prof["seconds"]["attention"] > 0 and prof["seconds"]["linear"] > 0
    assert sum(prof["seconds"].values()) == pytest.approx(prof["wall_seconds"])
    assert prof["bound_tokens_per_second"] > prof["real_tokens"] / prof["wall_seconds"]
    assert any("TFLOP/s" in line for line in format_profile(prof))


def report(tokens_per_second=30_000.0, speedup=6.0, delta=0.001, seconds=3.0, train=2.5) -> dict:
    return {"encoding": {"ours_tokens_per_second": tokens_per_second, "encode_speedup": speedup},
            "quality": {"map_delta": {"mono": delta, "cross": -delta / 2, "multi": 0.0}, "evaluation_seconds": seconds},
            "training": {"train_speedup": train}}


def test_targets_are_met_only_on_the_right_side():
    assert all(row["met"] for row in check_targets(report()).values())
    missed = check_targets(report(tokens_per_second=24_999, speedup=4.9, delta=-0.006, seconds=5.0, train=1.9))
    assert not any(row["met"] for row in missed.values())
    assert missed["map_delta"]["value"] == pytest.approx(0.006)  # the worst of the three, by magnitude
    assert {k: row["target"] for k, row in missed.items()} == TARGETS
