"""Dropout with a cheaper mask on CPU.

On CPU, ``bernoulli_`` (which ``F.dropout`` uses) draws about 8 ns an element on 2 threads;
an int32 ``random_()`` compared against a threshold gives the same Bernoulli draws (to
2**-31 in the rate) in a third of the time (measured on a Zen 4: 6.3-7.4 ms against 2.6 ms
for a million elements). In the packed training pass that was 74 ms of a 1.3 s fp32 step.
On CUDA, ``F.dropout`` is fused and is used unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MASK_BITS = 31  # an int32 ``random_()`` draws uniformly from [0, 2**31)


def keep_mask(shape: torch.Size | tuple[int, ...], p: float, device: torch.device) -> torch.Tensor:
    """Booleans of ``shape``, each True with probability ``1 - p``, independently."""
    threshold = round(p * 2**MASK_BITS)
    return torch.empty(shape, dtype=torch.int32, device=device).random_() >= threshold


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout(x, p, training)``, with :func:`keep_mask` on CPU."""
    if not training or p == 0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, training)
    return x * (keep_mask(x.shape, p, x.device).to(x.dtype) * (1.0 / (1.0 - p)))
