"""Reading JSON Lines with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from hybridcore.errors import DataError


def read_jsonl(path: str | Path) -> Iterator[tuple[str, object]]:
    """Yield (``"line N"``, parsed row) for every non-blank line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file", "file not found")
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield f"line {line_no}", json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(path, f"line {line_no}", f"malformed JSON: {err.msg}") from None
