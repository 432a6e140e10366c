"""Embedding cache: an unchanged model never encodes the same texts twice.

A key is the hash of the model's weights (their content, not their path), the encoding
settings, the dtype actually used, and the texts (with their contexts). Arrays are stored as
safetensors files (no pickle) whose header carries the checksum of the array's bytes, written
in the same file and so in the same rename; a read whose checksum, shape or header is wrong
(bit flips, a truncated copy) is a miss: the entry is removed, one line names it, and the
texts are encoded again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from hybridcore.files import atomic_file, bytes_hash, bytes_problem, discard

SUFFIX = ".safetensors"


def weights_fingerprint(model: torch.nn.Module) -> str:
    """Hash of every parameter and buffer, by name, shape, dtype and bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        if t.numel():
            digest.update(memoryview(t.view(torch.uint8).numpy()))  # the bytes, without copying them
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


def read_entry(path: Path) -> tuple[np.ndarray | None, str | None]:
    """The array of one cache file and None, or None and what is wrong with the file."""
    try:
        with safe_open(str(path), framework="np") as handle:
            expected = (handle.metadata() or {}).get("sha256")
            array = handle.get_tensor("embeddings")
    except (SafetensorError, OSError, ValueError) as err:
        return None, f"unreadable ({str(err).splitlines()[0][:120]})"
    if expected is None:
        return None, "no checksum in its header"
    problem = bytes_problem(array.tobytes(), expected)
    return (None, problem) if problem else (array, None)


class EmbeddingCache:
    """Arrays on disk under ``root``, one ``<key>.safetensors`` each, verified when read."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self.damaged = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        array, problem = read_entry(path)
        if problem is not None:
            self.damaged += 1
            self.misses += 1
            discard(path, problem)
            return None
        self.hits += 1
        return array

    def put(self, key: str, array: np.ndarray) -> None:
        """Write atomically, the checksum in the header: a reader never sees half an array,
        and sees a damaged one as damaged."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        with atomic_file(self._path(key)) as tmp:
            save_file({"embeddings": array}, str(tmp), metadata={"sha256": bytes_hash(array.tobytes())})
