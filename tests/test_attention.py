"""The written-out attention for CPU bf16 training computes what autograd's eager form does."""

from __future__ import annotations

import pytest
import torch

from hybridcore.model.attention import DropoutAttention, attend


def _inputs(dtype, rows=3, heads=2, width=7, size=4):
    torch.manual_seed(0)
    q, k, v = (torch.randn(rows, heads, width, size, dtype=dtype, requires_grad=True) for _ in range(3))
    key_mask = torch.ones(rows, 1, 1, width, dtype=torch.bool)
    key_mask[0, ..., 4:] = False
    key_mask[2, ..., 1:] = False
    keep = torch.rand(rows, heads, width, width) >= 0.3
    return q, k, v, key_mask, keep


def _eager(q, k, v, key_mask, keep, dropout, scale):
    scores = (q @ k.transpose(-1, -2)) * scale
    scores = scores.masked_fill(~key_mask, torch.finfo(q.dtype).min)
    return (torch.softmax(scores, -1) * keep / (1 - dropout)) @ v


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float64, 1e-12), (torch.float32, 1e-5), (torch.bfloat16, 0.05)])
def test_forward_and_gradients_equal_autograd_of_the_eager_form(dtype, atol):
    q, k, v, key_mask, keep = _inputs(dtype)
    weights = torch.randn(q.shape, dtype=dtype)
    ours = DropoutAttention.apply(q, k, v, key_mask, 0.3, 0.5, keep)
    ours_grads = torch.autograd.grad((ours * weights).sum(), (q, k, v))
    ref = _eager(q, k, v, key_mask, keep, 0.3, 0.5)
    ref_grads = torch.autograd.grad((ref * weights).sum(), (q, k, v))
    torch.testing.assert_close(ours, ref, rtol=0, atol=atol)
    for got, want in zip(ours_grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=0, atol=atol)


def test_the_drawn_mask_keeps_one_minus_the_dropout_rate():
    q, k, v, key_mask, _ = _inputs(torch.bfloat16, rows=64, heads=12, width=40, size=8)
    key_mask[:] = True
    ones = torch.ones_like(v)
    # with values all one, each output is the kept probability mass / (1 - p): its mean is 1
    out = attend(q.detach(), k.detach(), ones, key_mask, 0.1, 1.0)
    assert abs(out.float().mean().item() - 1.0) < 0.01
    again = attend(q.detach(), k.detach(), ones, key_mask, 0.1, 1.0)
    assert not torch.equal(out, again)  # a fresh mask each call


def test_masked_keys_get_no_weight():
    q, k, v, key_mask, _ = _inputs(torch.bfloat16)
    out = attend(q, k, v, key_mask, 0.1, 0.5)
    out.sum().backward()
    assert v.grad[0, :, 4:].abs().max() == 0 and v.grad[2, :, 1:].abs().max() == 0
    assert torch.isfinite(out).all() and torch.isfinite(q.grad).all()


def test_without_dropout_or_in_fp32_the_fused_kernel_runs_unchanged():
    for dtype, dropout in ((torch.bfloat16, 0.0), (torch.float32, 0.0)):
        q, k, v, key_mask, _ = _inputs(dtype)
        want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, scale=0.5)
        assert torch.equal(attend(q, k, v, key_mask, dropout, 0.5), want)
    q, k, v, key_mask, _ = _inputs(torch.float32)
    out = attend(q, k, v, key_mask, 0.1, 0.5)
    assert out.grad_fn is not None and "DropoutAttention" not in type(out.grad_fn).__name__
