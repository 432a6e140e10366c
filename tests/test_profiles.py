"""The quick profile's size: what keeps `make run` a smoke test of minutes."""

from __future__ import annotations

from dataclasses import replace

from hybridcore.config.spec import profile_spec
from hybridcore.data.formats.registry import load_dataset
from hybridcore.model.encoder import Encoder

# The draw's tokens set most of make run's time (README, "Set-up, run, test"): a larger sample
# or another set in the quick profile is a decision to take there, not a drift.
QUICK_TOKENS_PER_MODEL = (150_000, 170_000)


def test_the_quick_profile_encodes_about_165k_tokens_a_model(tiny_model):
    # The tiny model carries the real tokenizer, and the encoder counts the real tokens it encodes.
    spec = profile_spec("quick")
    encoder = Encoder(str(tiny_model), replace(spec.encoder, precision="fp32"))
    for reference in spec.eval_sets:
        load_dataset(reference).encode(encoder, candidate_context=spec.candidate_context)
    low, high = QUICK_TOKENS_PER_MODEL
    assert low <= encoder.stats.tokens <= high, encoder.stats.tokens
