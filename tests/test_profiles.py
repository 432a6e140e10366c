"""The quick profile's size: what keeps `make run` a smoke test of minutes."""

from __future__ import annotations

from dataclasses import replace

from hybridcore.config.spec import profile_spec
from hybridcore.data.formats.registry import load_dataset
from hybridcore.model.encoder import Encoder

# make run's 15 minutes on a 2-core Zen 3 in fp32 leave about 170k tokens a model to encode
# (README, "Set-up, run, test"); the quick profile is sized at about 165k.
QUICK_TOKENS_PER_MODEL = (150_000, 170_000)


def test_the_quick_profile_encodes_about_165k_tokens_a_model(tiny_model):
    # The tiny model carries the real tokenizer, and the encoder counts the real tokens it encodes.
    spec = profile_spec("quick")
    encoder = Encoder(str(tiny_model), replace(spec.encoder, precision="fp32"))
    for reference in spec.eval_sets:
        load_dataset(reference).encode(encoder, candidate_context=spec.candidate_context)
    low, high = QUICK_TOKENS_PER_MODEL
    assert low <= encoder.stats.tokens <= high, encoder.stats.tokens
