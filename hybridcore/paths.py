"""Where the project reads shared data and keeps its cache; each location is a setting.

``HYBRID_EVAL_DATA_DIR`` points at the LAReQA data (default: ``../shared/data`` next to the
repository); ``HYBRID_EVAL_HOME`` at the cache of built models, embeddings and results
(default: ``.hybrid-eval`` inside the repository, ignored by git).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


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
