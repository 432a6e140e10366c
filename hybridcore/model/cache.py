"""Embedding cache: an unchanged model never encodes the same texts twice.

A key is the hash of the model's weights (their content, not their path), the encoding
settings, the dtype actually used, and the texts (with their contexts). Arrays are stored as
plain ``.npy`` files and read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from hybridcore.files import atomic_file


def weights_fingerprint(model: torch.nn.Module) -> str:
    """Hash of every parameter and buffer, by name, shape, dtype and bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def texts_key(parts: dict, texts: Sequence[str], contexts: Sequence[str] | None) -> str:
    """Key of one encoding job: everything that changes its output."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(json.dumps(parts, sort_keys=True).encode())
    for t in texts:
        digest.update(t.encode("utf-8") + b"\x00")
    if contexts is not None:
        digest.update(b"\x01contexts\x01")
        for c in contexts:
            digest.update(c.encode("utf-8") + b"\x00")
    return digest.hexdigest()


class EmbeddingCache:
    """Arrays on disk under ``root``, one ``<key>.npy`` each."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        self.hits += 1
        return np.load(path, allow_pickle=False)

    def put(self, key: str, array: np.ndarray) -> None:
        """Write atomically: a reader never sees half an array."""
        with atomic_file(self._path(key)) as tmp, tmp.open("wb") as handle:
            np.save(handle, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
