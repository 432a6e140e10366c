"""How per-query values and query ids are kept in the store: compressed arrays, not rows.

A run's per-query values are about 860,000 numbers; as one row each (with a six-column
composite key) they took about 150 bytes apiece in DuckDB. Kept as one compressed array per
(group, metric), aligned with an ordered list of query ids that is stored once however many
runs and groups share it, they take about one byte each. Arrays are plain bytes (zlib over
little-endian float64, and over UTF-8 JSON for ids) so that DuckDB and PostgreSQL keep them
alike, and every value comes back bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence

import numpy as np

_FLOAT = np.dtype("<f8")


def pack_values(values: np.ndarray) -> bytes:
    """float64 values as compressed bytes (NaN kept)."""
    return zlib.compress(np.ascontiguousarray(values, dtype=_FLOAT).tobytes(), 6)


def unpack_values(blob: bytes) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), dtype=_FLOAT)


def pack_ids(ids: Sequence[str]) -> tuple[str, bytes]:
    """An id list's content digest (its key in the store) and its compressed bytes."""
    text = json.dumps(list(map(str, ids)), ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest(), zlib.compress(text, 6)


def unpack_ids(blob: bytes) -> list[str]:
    return json.loads(zlib.decompress(blob))
