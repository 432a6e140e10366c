"""Which device computes: the setting ``HYBRID_EVAL_DEVICE`` (``auto``, ``cpu``, ``cuda`` or
``cuda:N``; default ``auto``: the first GPU torch sees, else the CPU).

One rule for the encoder and the trainer, so a run never trains on one device and encodes on
another; a bad value or a GPU asked for where torch sees none is refused before any work.
"""

from __future__ import annotations

import os

import torch

from hybridcore.errors import SettingError

DEVICE_SETTING = "HYBRID_EVAL_DEVICE"


def compute_device(requested: str | None = None) -> torch.device:
    """``requested``, else the setting, as a torch device that exists here."""
    value = requested or os.environ.get(DEVICE_SETTING) or "auto"
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(value)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise SettingError(DEVICE_SETTING, value, "not a device: use auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SettingError(DEVICE_SETTING, value, "torch sees no CUDA device on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SettingError(DEVICE_SETTING, value, f"torch sees {torch.cuda.device_count()} CUDA device(s)")
    return device
