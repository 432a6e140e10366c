"""Everything the product keeps on disk, checked: ``hybrid-eval store verify``.

Walks ``HYBRID_EVAL_HOME`` (embeddings, result folders, trained models and their unfinished
training, the built e5-small, prepared data, fetched artifacts) and the artifact root, and
checks each entry the way its reader would: a folder against its seal, an embedding against
the checksum in its header, prepared data against the fingerprint it is named by, an
artifact against the checksum its ``.complete`` marker was published with. ``repair``
removes what is damaged, so the next run makes it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fsspec

from hybridcore.files import CHECKSUMS, content_hash, discard, folder_problem
from hybridcore.model.cache import SUFFIX, read_entry
from hybridcore.run.artifacts import KINDS, artifact_root, copy_problem, marker_of
from hybridcore.run.pipeline import examples_problem


@dataclass(frozen=True)
class Finding:
    """One entry checked: its kind, where it is, and what is wrong (None: whole)."""

    kind: str
    location: str
    problem: str | None

    @property
    def damaged(self) -> bool:
        return self.problem is not None


def check_home(home: Path) -> Iterator[Finding]:
    """Every entry under ``home``, checked."""
    for path in sorted((home / "embeddings").rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            problem = read_entry(path)[1] if path.suffix == SUFFIX else "written by older code, without a checksum"
            yield Finding("embedding", str(path), problem)
    for path in _folders(home / "evaluations"):
        yield Finding("result folder", str(path), folder_problem(path))
    for path in _folders(home / "models" / "trained"):
        if path.name.endswith(".work"):  # an unfinished training: its checkpoint and best model
            for part in ("checkpoint", "best"):
                if (path / part).exists():
                    yield Finding("checkpoint", str(path), _named(part, folder_problem(path / part)))
        else:
            yield Finding("trained model", str(path), folder_problem(path))
    for path in _folders(home / "models"):
        if path.name != "trained":
            yield Finding("built model", str(path), folder_problem(path))
    for path in sorted((home / "data").glob("*.jsonl")):
        yield Finding("prepared data", str(path), examples_problem(path, path.stem)[1])
    root = artifact_root()
    for kind in KINDS:
        for path in _folders(home / "artifacts" / kind, files=True):
            yield Finding("fetched artifact", str(path), _fetched_problem(path, root, kind))


def check_root(root: str) -> Iterator[Finding]:
    """Every artifact published under ``root``, checked against its marker (read in place)."""
    fs, base = fsspec.core.url_to_fs(root)
    for kind in KINDS:
        folder = f"{base.rstrip('/')}/{kind}"
        if not fs.exists(folder):
            continue
        names = sorted({Path(p).name.removesuffix(".complete") for p in fs.ls(folder, detail=False)})
        for name in names:
            path = f"{folder}/{name}"
            yield Finding("published artifact", f"{root.rstrip('/')}/{kind}/{name}", _published_problem(fs, path))


def repair(finding: Finding) -> None:
    """Remove a damaged entry (for a published artifact, its marker too) so it is made again."""
    if finding.kind == "published artifact":
        fs, path = fsspec.core.url_to_fs(finding.location)
        for target in (f"{path}.complete", path):
            if fs.exists(target):
                fs.rm(target, recursive=True)
        return
    discard(finding.location, finding.problem or "", "by store verify --repair")


def _folders(parent: Path, files: bool = False) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if (p.is_dir() or files) and ".partial" not in p.name)


def _named(part: str, problem: str | None) -> str | None:
    return None if problem is None else f"{part}: {problem}"


def _fetched_problem(local: Path, root: str | None, kind: str) -> str | None:
    if root is None:
        return folder_problem(local) if local.is_dir() else None  # a file's checksum is on a root not set here
    fs, path = fsspec.core.url_to_fs(f"{root.rstrip('/')}/{kind}/{local.name}")
    marker = marker_of(fs, path)
    if not marker or "checksum" not in marker:
        return "its artifact is not (completely) published on the artifact root"
    return copy_problem(local, marker["checksum"])


def _published_problem(fs, path: str) -> str | None:
    marker = marker_of(fs, path)
    if marker is None:
        return "no .complete marker: its publisher stopped half-way"
    if "checksum" not in marker:
        return "published by older code without a checksum"
    if not fs.exists(path):
        return "its marker is there, the artifact is not"
    if not fs.isdir(path):
        return None if _remote_hash(fs, path) == marker["checksum"] else "checksum differs from the published one"
    try:
        seal = json.loads(fs.cat_file(f"{path}/{CHECKSUMS}"))["files"]
    except (FileNotFoundError, ValueError, KeyError):
        return f"no readable {CHECKSUMS}"
    if content_hash(seal) != marker["checksum"]:
        return f"its {CHECKSUMS} is not the one published"
    for name, expected in seal.items():
        remote = f"{path}/{name}"
        if not fs.exists(remote):
            return f"{name} is missing"
        if fs.size(remote) != expected["bytes"] or _remote_hash(fs, remote) != expected["sha256"]:
            return f"{name}: differs from its seal (damaged or truncated)"
    return None


def _remote_hash(fs, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
