"""Choose the compute precision: bf16 where the hardware runs it fast, fp32 elsewhere."""

from __future__ import annotations

import torch

from hybridcore.config.provenance import cpu
from hybridcore.config.spec import Precision


def cpu_has_fast_bf16() -> bool:
    """True on CPUs with AMX or AVX512-BF16, where bf16 matrix products beat fp32 several-fold."""
    return cpu()["matrix_isa"] in ("AMX", "AVX512-BF16")


def resolve_dtype(precision: Precision, device: torch.device) -> torch.dtype:
    """Map a precision setting to a torch dtype for ``device``."""
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r}: use 'auto', 'bf16' or 'fp32'")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bf16() else torch.float32
