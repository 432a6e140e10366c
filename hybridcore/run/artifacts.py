"""Artifacts that flow runs hand to each other, readable from every machine.

Prepared training data, trained models and evaluation results are made in a machine's own
cache (``HYBRID_EVAL_HOME``). With ``HYBRID_EVAL_ARTIFACTS`` set to a URL every machine can
read (a shared folder, ``file:///mnt/team/hybrid-eval``, or object storage such as
``s3://bucket/hybrid-eval`` through fsspec), each is also published there, and what passes
between flow runs is its URL; another machine fetches it once into its own cache. Without the
setting, references are local paths, as on one machine.

Every artifact is named by a content hash of its inputs, so publishing is idempotent and a
fetched copy never goes stale. A ``<name>.complete`` marker is written last: a publisher
killed half-way leaves no artifact that readers would take for whole.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import fsspec

from hybridcore.config.paths import home_dir

KINDS = ("data", "models", "evaluations")


def artifact_root() -> str | None:
    """``HYBRID_EVAL_ARTIFACTS``, or None (one machine: local paths)."""
    return os.environ.get("HYBRID_EVAL_ARTIFACTS") or None


def _is_shared(ref: str) -> bool:
    root = artifact_root()
    return root is not None and ref.startswith(root.rstrip("/") + "/")


def publish(local: str | Path, kind: str) -> str:
    """Copy a finished artifact (file or folder) to the artifact root, unless it is there
    already, and return its URL; without an artifact root, the local path itself."""
    if kind not in KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}: use one of {KINDS}")
    local = Path(local)
    root = artifact_root()
    if root is None:
        return str(local)
    url = f"{root.rstrip('/')}/{kind}/{local.name}"
    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(f"{path}.complete"):
        if fs.exists(path):  # a publisher died half-way: start over
            fs.rm(path, recursive=True)
        fs.makedirs(str(Path(path).parent), exist_ok=True)
        if local.is_dir():
            fs.put(str(local), path, recursive=True)
        else:
            fs.put_file(str(local), path)
        fs.pipe_file(f"{path}.complete", b"")
    return url


def localize(ref: str) -> Path:
    """A local path for ``ref``: the path itself, or the cached copy of a published artifact
    (fetched on first use, into a temporary name then renamed, so a half fetch is never used)."""
    if not _is_shared(ref):
        return Path(ref)
    root = artifact_root().rstrip("/")
    relative = ref[len(root) + 1 :]
    local = home_dir() / "artifacts" / relative
    if local.exists():
        return local
    fs, path = fsspec.core.url_to_fs(ref)
    if not fs.exists(f"{path}.complete"):
        raise FileNotFoundError(f"{ref}: not a complete artifact (no {Path(path).name}.complete beside it)")
    partial = local.with_name(f"{local.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(partial), recursive=True)
        else:
            fs.get_file(path, str(partial))
        try:
            os.replace(partial, local)
        except OSError:
            if not local.exists():  # another process fetching the same artifact got there first
                raise
    finally:
        if partial.exists():
            shutil.rmtree(partial) if partial.is_dir() else partial.unlink()
    return local
