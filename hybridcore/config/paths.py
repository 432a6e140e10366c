"""Where the project reads shared data and keeps its cache; each location is a setting.

``HYBRID_EVAL_DATA_DIR`` points at the LAReQA data (default: ``../shared/data`` next to the
repository); ``HYBRID_EVAL_HOME`` at the cache of built models, embeddings and results
(default: ``.hybrid-eval`` inside the repository, ignored by git).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Folder holding ``xquad-r/`` and ``mlqa-r/``."""
    return Path(os.environ.get("HYBRID_EVAL_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def home_dir() -> Path:
    """Root of everything the project writes: models, embeddings, results."""
    return Path(os.environ.get("HYBRID_EVAL_HOME", REPO_ROOT / ".hybrid-eval"))


def models_dir() -> Path:
    return home_dir() / "models"


def embeddings_dir() -> Path:
    return home_dir() / "embeddings"


def resolve_dataset_dir(name_or_path: str | Path) -> Path:
    """A folder path as given, or a name such as ``xquad-r`` under the data directory."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    candidate = data_dir() / str(name_or_path)
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(
        f"dataset {name_or_path!r} not found: neither a folder nor {candidate} "
        "(set HYBRID_EVAL_DATA_DIR to the folder holding xquad-r/ and mlqa-r/)"
    )
