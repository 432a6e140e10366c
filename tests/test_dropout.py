"""The CPU dropout draws what ``F.dropout`` draws: the same rate, scale and gradient."""

from __future__ import annotations

import torch

from hybridcore.model.dropout import dropout, keep_mask


def test_the_mask_keeps_one_minus_p_independently():
    keep = keep_mask((2000, 1000), 0.1, torch.device("cpu")).double()
    assert abs(keep.mean().item() - 0.9) < 0.001  # 2e6 draws: the standard error is 2e-4
    # neighbouring draws are independent: P(both kept) = 0.81
    assert abs((keep[:, 1:] * keep[:, :-1]).mean().item() - 0.81) < 0.002
    assert not torch.equal(keep, keep_mask((2000, 1000), 0.1, torch.device("cpu")).double())


def test_dropout_scales_what_it_keeps_and_its_gradient_follows_the_mask():
    x = torch.randn(500, 384, requires_grad=True)
    y = dropout(x, 0.25, training=True)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.75)
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.75)


def test_dropout_is_the_identity_in_eval_or_at_zero():
    x = torch.randn(10, 4)
    assert dropout(x, 0.1, training=False) is x and dropout(x, 0.0, training=True) is x
