"""Files written whole or not at all, and content hashes that name them.

Every writer goes through ``atomic_file`` or ``atomic_folder``: the content is written under a
temporary name unique to this process and call, then renamed into place, so a reader never
sees half a file and two workers sharing one home never write into each other's temporary.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it takes the place of ``folder``. A folder
    already there is moved aside and removed; when writers race, the last one wins whole."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(folder)
    tmp.mkdir()
    try:
        yield tmp
        while True:
            try:
                tmp.rename(folder)  # fails while a non-empty folder is in the way
                break
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            aside = _temporary(folder)
            try:
                folder.rename(aside)
            except FileNotFoundError:
                continue  # another writer moved it first
            shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def content_hash(*parts: object) -> str:
    """A short stable hash of JSON-able parts."""
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def file_hash(path: Path) -> str:
    """Hash of a file's bytes."""
    digest = hashlib.blake2b(digest_size=12)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_hash(folder: Path) -> str:
    """Hash of every file below ``folder``: relative names and bytes."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return content_hash([(p.relative_to(folder).as_posix(), file_hash(p)) for p in files])
