"""Attention for the packed training pass: PyTorch's fused kernel, except where it falls back.

With dropout on the attention probabilities, ``scaled_dot_product_attention`` on CPU has no
fused kernel: it takes its unfused math path, which in bf16 runs about twice as slow as the
same products and softmax written out (measured on a Zen 4 with AVX512-BF16, fp32 and bf16,
texts of 24-300 tokens: bf16 x1.3-2.4 faster, fp32 no faster, so fp32 keeps the kernel).
:class:`DropoutAttention` is that written-out form with its own backward: one batched
product per matrix, the softmax, and a dropout mask from ``hybridcore.model.dropout`` kept
as booleans for the backward. On CUDA, in eval and without
dropout the fused kernel is used unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hybridcore.model.dropout import keep_mask


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor, dropout: float, scale: float
) -> torch.Tensor:
    """Attention of ``(rows, heads, width, size)`` queries, keys and values, keys masked where
    ``key_mask`` (``(rows, 1, 1, width)``, True on real keys) is False, probabilities dropped
    with probability ``dropout``."""
    if dropout > 0 and q.device.type == "cpu" and q.dtype == torch.bfloat16:
        return DropoutAttention.apply(q, k, v, key_mask, dropout, scale, None)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout, scale=scale)


class DropoutAttention(torch.autograd.Function):
    """``dropout(softmax(q k^T * scale + mask)) v`` and its gradient; ``keep`` (booleans, the
    probabilities' shape) fixes the dropout mask, else it is drawn."""

    @staticmethod
    def forward(ctx, q, k, v, key_mask, dropout, scale, keep):  # type: ignore[override]
        rows, heads, width, size = q.shape
        q3, k3, v3 = (x.reshape(rows * heads, width, size) for x in (q, k, v))
        bias = torch.zeros(key_mask.shape, dtype=q.dtype, device=q.device)
        bias = bias.masked_fill(~key_mask, torch.finfo(q.dtype).min).expand(rows, heads, 1, width)
        scores = torch.baddbmm(bias.reshape(rows * heads, 1, width), q3, k3.transpose(1, 2), alpha=scale)
        probs = torch.softmax(scores, -1)
        keep = keep_mask(probs.shape, dropout, q.device) if keep is None else keep.reshape(probs.shape)
        dropped = probs * keep * (1.0 / (1.0 - dropout))
        ctx.save_for_backward(q3, k3, v3, probs, dropped, keep)
        ctx.dropout, ctx.scale = dropout, scale
        return torch.bmm(dropped, v3).view(rows, heads, width, size)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        q3, k3, v3, probs, dropped, keep = ctx.saved_tensors
        shape = grad.shape
        grad = grad.reshape(q3.shape)
        grad_v = torch.bmm(dropped.transpose(1, 2), grad)
        grad_probs = torch.bmm(grad, v3.transpose(1, 2)) * keep * (1.0 / (1.0 - ctx.dropout))
        grad_scores = torch._softmax_backward_data(grad_probs, probs, -1, probs.dtype)
        grad_q = torch.bmm(grad_scores, k3) * ctx.scale
        grad_k = torch.bmm(grad_scores.transpose(1, 2), q3) * ctx.scale
        return grad_q.view(shape), grad_k.view(shape), grad_v.view(shape), None, None, None, None
