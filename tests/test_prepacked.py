"""oneDNN's prepacked linear layers for CPU encoding: the same function within rounding, the
same parameters, and the model left alone where the kernel is missing or disagrees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertModel

from hybridcore.config.spec import EncoderSettings
from hybridcore.model import prepacked
from hybridcore.model.cache import weights_fingerprint
from hybridcore.model.encoder import Encoder
from hybridcore.model.precision import cpu_has_fast_bf16
from hybridcore.model.prepacked import PrepackedLinear, can_prepack, prepack, prepack_linear_layers

pytestmark = pytest.mark.skipif(
    not prepacked.can_prepack_on(torch.device("cpu"), torch.float32), reason="this PyTorch has no oneDNN linear"
)


def _bert(folder, hidden_act: str = "gelu", dtype: torch.dtype = torch.float32) -> BertModel:
    """The tiny random BERT of the fixtures, with ``hidden_act`` as its activation."""
    model = BertModel.from_pretrained(folder, hidden_act=hidden_act, add_pooling_layer=False, use_safetensors=True)
    return model.to(dtype).eval()


def _hidden(model: BertModel, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=mask).last_hidden_state.float()


@pytest.mark.parametrize("hidden_act", ["gelu", "gelu_new"])
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 1e-5), (torch.bfloat16, 0.1)])
def test_prepacked_model_gives_the_same_hidden_states_within_rounding(tiny_model, hidden_act, dtype, atol):
    ids = torch.randint(5, 100, (3, 11), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    model = _bert(tiny_model, hidden_act, dtype)
    expected = _hidden(model, ids, mask)
    swapped = prepack_linear_layers(model)
    layer = model.encoder.layer[0]
    # oneDNN's bf16 product needs AVX-512 (or AVX-NE-CONVERT): a Zen 3 refuses it, and the
    # model keeps its own layers there
    assert swapped or (dtype == torch.bfloat16 and not cpu_has_fast_bf16())
    assert isinstance(layer.attention.self.query, PrepackedLinear) is swapped
    if swapped:  # the exact GELU rides on the product; an approximate one stays a module of its own
        fused = hidden_act == "gelu"
        assert layer.intermediate.dense.attr == ("gelu" if fused else "none")
        assert isinstance(layer.intermediate.intermediate_act_fn, torch.nn.Identity) is fused
    torch.testing.assert_close(_hidden(model, ids, mask), expected, rtol=0, atol=atol)


def test_prepacking_keeps_the_parameters_and_their_fingerprint(tiny_model):
    model = _bert(tiny_model)
    names, fingerprint = list(model.state_dict()), weights_fingerprint(model)
    assert prepack_linear_layers(model)
    assert list(model.state_dict()) == names
    assert weights_fingerprint(model) == fingerprint


def test_a_kernel_that_disagrees_or_fails_leaves_the_model_alone(tiny_model, monkeypatch):
    model = _bert(tiny_model)
    before = type(model.encoder.layer[0].attention.self.query)
    monkeypatch.setitem(prepacked.TOLERANCE, torch.float32, -1.0)  # nothing agrees within a negative bound
    assert not prepack_linear_layers(model)
    assert type(model.encoder.layer[0].attention.self.query) is before

    def broken(*args, **kwargs):
        raise RuntimeError("no kernel for this CPU")

    monkeypatch.undo()
    monkeypatch.setattr(PrepackedLinear, "forward", broken)
    assert not prepack_linear_layers(model)
    assert type(model.encoder.layer[0].intermediate.dense) is torch.nn.Linear
    assert not isinstance(model.encoder.layer[0].intermediate.intermediate_act_fn, torch.nn.Identity)


def test_only_bert_encoders_on_a_cpu_are_prepacked(tiny_model):
    model = _bert(tiny_model)
    assert can_prepack(model, torch.device("cpu"))
    assert not can_prepack(model, torch.device("cuda"))
    assert not can_prepack(torch.nn.Sequential(torch.nn.Linear(4, 4)), torch.device("cpu"))


def test_the_encoder_prepacks_by_default_and_not_when_asked(tiny_model):
    on = Encoder(str(tiny_model), EncoderSettings(precision="fp32"))
    off = Encoder(str(tiny_model), EncoderSettings(precision="fp32", prepacked=False))
    assert on.prepacked and not off.prepacked
    assert isinstance(on.model.encoder.layer[0].attention.self.query, PrepackedLinear)
    assert type(off.model.encoder.layer[0].attention.self.query) is torch.nn.Linear
    texts = ["a short one", "a somewhat longer text about the weather in Lagos", "x"]
    np.testing.assert_allclose(on.encode_passages(texts), off.encode_passages(texts), rtol=0, atol=1e-6)


def test_e5_small_embeddings_of_real_paragraphs_move_within_rounding(e5_path, xquad_small):
    # What EncoderSettings.prepacked claims of the real model: real XQuAD-R candidates with
    # their paragraphs, several batches, within fp32 rounding of PyTorch's own linear layers.
    candidates = xquad_small.candidates[:40]
    texts, contexts = [c.sentence for c in candidates], [c.context for c in candidates]
    out = {}
    for on in (False, True):
        encoder = Encoder(str(e5_path), EncoderSettings(precision="fp32", tokens_per_batch=2048, prepacked=on))
        assert encoder.prepacked is on
        out[on] = encoder.encode_passages(texts, contexts)
    np.testing.assert_allclose(out[True], out[False], rtol=0, atol=1e-5)
    assert float((out[True] * out[False]).sum(1).min()) > 0.99999


def test_a_layer_onednn_refuses_is_none_and_the_bench_probe_keeps_torch_mm(monkeypatch):
    from bench import peak

    a, b = torch.randn(4, 8), torch.randn(8, 8)
    assert len(peak._products(a, b)) == 2 and prepack(torch.nn.Linear(8, 8)) is not None

    def refuse(self, *args, **kwargs):  # as oneDNN refuses bf16 on a CPU without AVX-512
        raise RuntimeError("mkldnn_reorder_linear_weight: bf16 path needs the cpu support avx512bw")

    monkeypatch.setattr(PrepackedLinear, "__init__", refuse)
    assert prepack(torch.nn.Linear(8, 8)) is None
    assert len(peak._products(a, b)) == 1
