"""The registry of dataset formats, and loading a dataset by name or folder.

A name (``xquad-r``) is a folder under the data directory (``HYBRID_EVAL_DATA_DIR``); a path
is used as it is. The first registered format whose ``detect`` accepts the folder reads it.
"""

from __future__ import annotations

from pathlib import Path

from hybridcore.data import beir, lareqa
from hybridcore.data.dataset import DatasetFormat, LoadOptions, RetrievalData
from hybridcore.errors import DataError
from hybridcore.files import content_hash, folder_hash
from hybridcore.run.paths import resolve_dataset_dir

FORMATS: dict[str, DatasetFormat] = {}


def register(fmt: DatasetFormat) -> DatasetFormat:
    """Make a format known (again under the same name: replaced)."""
    FORMATS[fmt.name] = fmt
    return fmt


register(beir.FORMAT)
register(lareqa.FORMAT)


def format_of(folder: Path) -> DatasetFormat:
    for fmt in FORMATS.values():
        if fmt.detect(folder):
            return fmt
    raise DataError(folder, "folder", f"not a dataset in any known format ({', '.join(FORMATS)})")


def load_dataset(name_or_path: str | Path, options: LoadOptions | None = None) -> RetrievalData:
    """Load a dataset; bad input fails here, before any model is loaded."""
    folder = resolve_dataset_dir(name_or_path)
    return format_of(folder).load(folder, options or LoadOptions())


def dataset_identity(name_or_path: str | Path, options: LoadOptions | None = None) -> str:
    """Content identity: the format, the folder's name, the load options and every file below it."""
    folder = resolve_dataset_dir(name_or_path)
    options = options or LoadOptions()
    return content_hash(format_of(folder).name, folder.name, options.languages, options.lang, options.split,
                        folder_hash(folder))
