"""Linear layers for encoding on a CPU: oneDNN, weights packed once, bias and GELU fused.

PyTorch's ``F.linear`` on a CPU calls MKL's GEMM in fp32 (and oneDNN in bf16), which lays the
weight out for its kernel again at every call and adds the bias and the GELU in passes of
their own. An encoder's weights never change, so here each linear layer's weight is laid out
once for oneDNN's kernel (``mkldnn._reorder_linear_weight``, the path inductor's weight
freezing takes) and the bias and the intermediate layer's GELU ride on the product as
post-ops (``mkldnn._linear_pointwise``). For inference only: the packed weight is not a
parameter and has no gradient.

The arithmetic is another kernel's: products sum in another order, and oneDNN's GELU is its
own, so embeddings move within fp32 rounding, not bit for bit (measured deltas in the README).
Each packed layer is checked against ``F.linear`` on one input when it is made; a CPU or a
PyTorch where the op is missing or disagrees keeps its ``nn.Linear`` layers.
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


def _agrees(packed: PrepackedLinear, linear: nn.Linear, activation: str) -> bool:
    x = torch.randn(37, linear.in_features, generator=torch.Generator().manual_seed(0)).to(linear.weight.dtype)
    expected = F.linear(x, linear.weight, linear.bias).float()
    if activation == "gelu":
        expected = F.gelu(expected)
    error = (packed(x).float() - expected).abs().max().item()
    return error <= TOLERANCE[linear.weight.dtype] * max(1.0, expected.abs().max().item())


def can_prepack_on(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether PyTorch has oneDNN's linear layer for ``dtype`` on ``device`` (a CPU)."""
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
    Checks the first layer's two kinds against ``F.linear`` first; False, and the model
    untouched, where they disagree or the op fails."""
    fuse_gelu = model.config.hidden_act == "gelu"
    swaps = []
    for layer in model.encoder.layer:
        attn = layer.attention
        swaps += [(attn.self, "query", "none"), (attn.self, "key", "none"), (attn.self, "value", "none")]
        swaps += [(attn.output, "dense", "none"), (layer.intermediate, "dense", "gelu" if fuse_gelu else "none")]
        swaps.append((layer.output, "dense", "none"))
    try:
        packed = [PrepackedLinear(getattr(parent, name), act) for parent, name, act in swaps]
        # the first layer's query (a plain product) and intermediate (with its activation)
        if not all(_agrees(packed[i], getattr(swaps[i][0], swaps[i][1]), swaps[i][2]) for i in (0, 4)):
            return False
    except RuntimeError:
        return False
    for (parent, name, _), module in zip(swaps, packed):
        setattr(parent, name, module)
    if fuse_gelu:
        for layer in model.encoder.layer:
            layer.intermediate.intermediate_act_fn = nn.Identity()
    return True
