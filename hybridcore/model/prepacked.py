"""Linear layers for encoding on a CPU: oneDNN, weights laid out once, bias and GELU fused.

``F.linear`` on a CPU calls MKL's GEMM in fp32 (oneDNN's in bf16), adding the bias and applying
the GELU in passes of their own. An encoder's weights never change, so here each linear layer
of a BERT encoder is one oneDNN product (``mkldnn._linear_pointwise``, the path inductor's weight
freezing takes) with its weight laid out for the kernel once (``mkldnn._reorder_linear_weight``)
and the bias and the intermediate layer's GELU as post-ops. On a Zen 4 EPYC all of XQuAD-R
encoded x1.13 (fp32) and x1.19 (bf16) faster, one pass each, mostly by oneDNN's AVX-512
kernels (measured in the README). For
inference only: the laid-out weight is a second copy (85 MB for e5-small in fp32), not a
parameter, and has no gradient.

The arithmetic is another kernel's: products sum in another order, and oneDNN's GELU is its
own, so embeddings move within rounding, not bit for bit (deltas in the README). The first
layer's plain product and its product with GELU are checked against ``F.linear`` before any
layer is swapped; where the op is missing or disagrees, the model keeps its ``nn.Linear`` layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertModel

# The rows oneDNN lays the weight out for: a hint only, any number of rows works (the token
# budget of an encoding batch).
ROWS_HINT = 4096
# How far a packed layer may stray from F.linear on its check, relative to the output's scale:
# fp32 rounding of a 1,536-term sum, and bf16's 8 bits of mantissa.
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 5e-2}


class PrepackedLinear(nn.Module):
    """``linear`` (and the activation after it, ``gelu`` or none) as one oneDNN product with
    its weight packed once. ``weight`` and ``bias`` stay the original parameters, so the
    state dict, and every fingerprint of it, is the unpacked model's."""

    def __init__(self, linear: nn.Linear, activation: str = "none") -> None:
        super().__init__()
        self.weight, self.bias = linear.weight, linear.bias
        self.packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), ROWS_HINT)
        # oneDNN's post-op names: "gelu" with algorithm "none" is the exact (erf) GELU.
        self.attr, self.algorithm = ("gelu", "none") if activation == "gelu" else ("none", "")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, self.attr, [], self.algorithm)


def prepack(linear: nn.Linear, activation: str = "none") -> PrepackedLinear | None:
    """``linear`` (and ``activation`` after it) as a :class:`PrepackedLinear`, checked against
    ``F.linear`` on one input; None where oneDNN refuses it (bf16 on a CPU without AVX-512, as
    a Zen 3) or disagrees."""
    x = torch.randn(37, linear.in_features, generator=torch.Generator().manual_seed(0)).to(linear.weight.dtype)
    expected = F.linear(x, linear.weight, linear.bias).float()
    if activation == "gelu":
        expected = F.gelu(expected)
    try:
        packed = PrepackedLinear(linear, activation)
        error = (packed(x).float() - expected).abs().max().item()
    except RuntimeError:
        return None
    return packed if error <= TOLERANCE[linear.weight.dtype] * max(1.0, expected.abs().max().item()) else None


def can_prepack_on(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether PyTorch has oneDNN's linear layer for ``dtype`` on ``device`` (a CPU); whether
    this CPU runs it, :func:`prepack` finds out."""
    return (
        device.type == "cpu"
        and dtype in TOLERANCE
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


def can_prepack(model: nn.Module, device: torch.device) -> bool:
    """Whether :func:`prepack_linear_layers` applies: a BERT encoder (the only model whose
    modules it knows) in fp32 or bf16 on a CPU where PyTorch has oneDNN."""
    return type(model) is BertModel and can_prepack_on(device, next(model.parameters()).dtype)


def prepack_linear_layers(model: BertModel) -> bool:
    """Swap every linear layer of ``model``'s encoder for a :class:`PrepackedLinear`, the
    intermediate layer's with its GELU fused (where the model's activation is the exact GELU).
    The first layer's query (a plain product) and intermediate (with its activation) are
    checked first (:func:`prepack`); False, and the model untouched, where either fails."""
    fuse_gelu = model.config.hidden_act == "gelu"
    swaps = []
    for layer in model.encoder.layer:
        attn = layer.attention
        swaps += [(attn.self, "query", "none"), (attn.self, "key", "none"), (attn.self, "value", "none")]
        swaps += [(attn.output, "dense", "none"), (layer.intermediate, "dense", "gelu" if fuse_gelu else "none")]
        swaps.append((layer.output, "dense", "none"))
    checked = {i: prepack(getattr(swaps[i][0], swaps[i][1]), swaps[i][2]) for i in (0, 4)}
    if None in checked.values():
        return False
    for i, (parent, name, act) in enumerate(swaps):
        setattr(parent, name, checked.get(i) or PrepackedLinear(getattr(parent, name), act))
    if fuse_gelu:
        for layer in model.encoder.layer:
            layer.intermediate.intermediate_act_fn = nn.Identity()
    return True
