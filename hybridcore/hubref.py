"""Hub references pinned to a commit, for models and datasets alike.

A hub name may carry a revision, ``org/name@<revision>`` (a commit hash, a tag or a branch).
``resolve_revision`` turns it into the commit it names now: a 40-digit commit as it is, else
what the hub says (offline: what the local hub cache holds for it). The commit is recorded
with every run and is part of its cache keys, so a result is never served for data or
weights that changed upstream.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hybridcore.errors import DataError

COMMIT = re.compile(r"[0-9a-f]{40}")


def split_revision(name: str) -> tuple[str, str | None]:
    """``org/name@rev`` -> (``org/name``, ``rev``); without ``@``, the revision is None."""
    base, at, revision = name.partition("@")
    return base, (revision or None) if at else None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def resolve_revision(name: str, revision: str | None, repo_type: str = "model") -> str:
    """The commit ``revision`` of hub ``name`` names (None: the default branch)."""
    if revision is not None and COMMIT.fullmatch(revision):
        return revision
    from huggingface_hub import HfApi, snapshot_download

    try:
        if _offline():
            return Path(snapshot_download(name, repo_type=repo_type, revision=revision, local_files_only=True)).name
        return HfApi().repo_info(name, repo_type=repo_type, revision=revision).sha
    except Exception as err:  # the hub client raises many types: name the reference and what to do
        raise DataError(
            f"hf:{name}",
            "revision",
            f"cannot resolve {revision or 'the default branch'} to a commit "
            f"({type(err).__name__}: {err}); pin one: {name}@<commit>",
        ) from None
