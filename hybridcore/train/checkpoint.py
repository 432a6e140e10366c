"""Training checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint holds the model weights, the AdamW moments, the torch RNG state (dropout) and a
JSON record of the step, the sampler position and the early-stopping state, so a killed run
resumes exactly where the last checkpoint left it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from hybridcore.files import atomic_folder

STATE_FILE = "trainer_state.json"


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors = {
        f"{pid}.{name}": value.detach().clone().contiguous()
        for pid, slots in state["state"].items()
        for name, value in slots.items()
        if torch.is_tensor(value)
    }
    return tensors, {"param_groups": state["param_groups"]}


def save_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, record: dict) -> Path:
    """Write the checkpoint to ``folder`` atomically (a crash mid-write keeps the old one)."""
    with atomic_folder(folder) as tmp:
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
        tensors, groups = _optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        save_file(_rng_state(), str(tmp / "rng.safetensors"))
        (tmp / STATE_FILE).write_text(json.dumps({**record, "optimizer": groups}, indent=1))
    return folder


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Restore model, optimizer and RNG from ``folder``; return the JSON record."""
    record = json.loads((folder / STATE_FILE).read_text())
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in load_file(str(folder / "optimizer.safetensors")).items():
        pid, name = key.split(".", 1)
        slots.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": slots, "param_groups": record.pop("optimizer")["param_groups"]})
    _set_rng_state(load_file(str(folder / "rng.safetensors")))
    return record


def _rng_state() -> dict[str, torch.Tensor]:
    # each GPU has its own generator (dropout on GPU draws from it), so resuming needs them too
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {"torch": torch.get_rng_state(), **{f"cuda.{i}": state for i, state in enumerate(cuda)}}


def _set_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch"])
    for device in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        if f"cuda.{device}" in state:
            torch.cuda.set_rng_state(state[f"cuda.{device}"], device)
