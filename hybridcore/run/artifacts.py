"""Artifacts that flow runs hand to each other, readable from every machine.

Prepared training data, trained models and evaluation results are made in a machine's own
cache (``HYBRID_EVAL_HOME``). With ``HYBRID_EVAL_ARTIFACTS`` set to a URL every machine can
read (a shared folder, ``file:///mnt/team/hybrid-eval``, or object storage such as
``s3://bucket/hybrid-eval`` through fsspec), each is also published there, and what passes
between flow runs is its URL; another machine fetches it once into its own cache. Without the
setting, references are local paths, as on one machine.

Every artifact is named by a content hash of its inputs, so publishing is idempotent and a
fetched copy never goes stale. A ``<name>.complete`` marker is written last: a publisher
killed half-way leaves no artifact that readers would take for whole. The marker holds the
artifact's checksum (``checksum``: a file's SHA-256, a folder's seal) and the machine that
published it; every read checks the local copy against it. A copy that fails (a partial
transfer, a damaged file on the shared root) is fetched once more, then is an error naming
the artifact and its publisher.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fsspec

from hybridcore.config.paths import home_dir
from hybridcore.errors import DataError
from hybridcore.files import CHECKSUMS, VERIFIED, content_hash, discard, file_hash, folder_problem, recorded_checksums
from hybridcore.run.compute import machine_name

KINDS = ("data", "models", "evaluations")


def artifact_root() -> str | None:
    """``HYBRID_EVAL_ARTIFACTS``, or None (one machine: local paths)."""
    return os.environ.get("HYBRID_EVAL_ARTIFACTS") or None


def _is_shared(ref: str) -> bool:
    root = artifact_root()
    return root is not None and ref.startswith(root.rstrip("/") + "/")


def checksum(local: Path) -> str:
    """A file's SHA-256, or a sealed folder's checksum (the hash of its seal, which names
    every file's hash); an unsealed folder has none."""
    if local.is_dir():
        seal = recorded_checksums(local)
        if seal is None:
            raise DataError(local, "artifact", f"no {CHECKSUMS}: only sealed folders are published")
        return content_hash(seal)
    return file_hash(local)


def copy_problem(local: Path, expected: str) -> str | None:
    """None if the local copy is whole: a file hashing to ``expected``, or a folder whose seal
    hashes to it and whose files match their seal."""
    if not local.exists():
        return "missing"
    if local.is_dir():
        seal = recorded_checksums(local)
        if seal is None or content_hash(seal) != expected:
            return f"its {CHECKSUMS} is not the one published"
        return folder_problem(local)
    started = time.perf_counter()
    actual = file_hash(local)
    VERIFIED.add(1, local.stat().st_size, time.perf_counter() - started)
    return None if actual == expected else "checksum differs from the published one"


def marker_of(fs, path: str) -> dict | None:
    """The ``.complete`` marker of an artifact (None: not complete); older code wrote it empty."""
    try:
        raw = fs.cat_file(f"{path}.complete")
    except FileNotFoundError:
        return None
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


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
    expected = checksum(local)
    marker = marker_of(fs, path)
    if marker is None or marker.get("checksum") != expected:  # absent, half-published, or older code's
        if fs.exists(path):
            fs.rm(path, recursive=True)
        fs.makedirs(str(Path(path).parent), exist_ok=True)
        if local.is_dir():
            fs.put(str(local), path, recursive=True)
        else:
            fs.put_file(str(local), path)
        record = {"checksum": expected, "machine": machine_name(), "published": datetime.now(UTC).isoformat()}
        fs.pipe_file(f"{path}.complete", json.dumps(record).encode())
    return url


def localize(ref: str) -> Path:
    """A local path for ``ref``: the path itself, or the cached copy of a published artifact,
    checked against the checksum it was published with (fetched on first use, into a
    temporary name then renamed, so a half fetch is never used; a copy that fails its check is
    fetched once more)."""
    if not _is_shared(ref):
        return Path(ref)
    root = artifact_root().rstrip("/")
    relative = ref[len(root) + 1 :]
    local = home_dir() / "artifacts" / relative
    fs, path = fsspec.core.url_to_fs(ref)
    marker = marker_of(fs, path)
    if marker is None:
        raise FileNotFoundError(f"{ref}: not a complete artifact (no {Path(path).name}.complete beside it)")
    if "checksum" not in marker:
        raise DataError(ref, "artifact", "published without a checksum by older code: publish it again")
    problem = copy_problem(local, marker["checksum"]) if local.exists() else "missing"
    for _ in range(2):
        if problem is None:
            return local
        if local.exists():
            discard(local, problem, "fetching it again")
        _fetch(fs, path, local)
        problem = copy_problem(local, marker["checksum"])
    published = f"published by {marker.get('machine', 'an unknown machine')} at {marker.get('published', '?')}"
    raise DataError(ref, f"artifact {published}", f"{problem}, after fetching it twice")


def _fetch(fs, path: str, local: Path) -> None:
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
