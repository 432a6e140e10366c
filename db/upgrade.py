"""``hybrid-eval store upgrade``: bring a store written by older code to the current layout,
losing nothing.

The one change so far: per-query values were one row each in ``query_scores``; they are now
packed arrays in ``per_query_scores`` (see ``db.packing``). The conversion runs in one
transaction, checks that every value arrived, and only then drops the old table. A DuckDB
file never gives back the space of dropped rows, so it is then rewritten into a fresh file
(``COPY FROM DATABASE``, DuckDB's documented way to compact), the old file kept beside it
until the user removes it.

Alembic is not used: its migrations alter schemas, and this one reshapes rows into arrays,
a pandas job; the columns added since (``init_store``) need no migration script either.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
from sqlalchemy import Engine, column, func, select, table, text

from db.models import OLD_SCORES_TABLE, QueryScores
from db.queries import PER_QUERY_VALUES, needs_upgrade
from db.session import duckdb_path, is_duckdb, with_retry
from db.store import _bulk_insert, add_id_lists, init_store, packed_row

_GROUP = ["dataset", "setting", "query_lang", "candidate_lang", "metric"]
# The old table as the code before wrote it (named here: reflection does not work on DuckDB).
_OLD = table(OLD_SCORES_TABLE, *(column(name) for name in ("run_id", *_GROUP, "query_id", "value")))


def _packed_run(frame: pd.DataFrame, run_id: int) -> tuple[dict[str, tuple[int, bytes]], pd.DataFrame]:
    id_lists: dict[str, tuple[int, bytes]] = {}
    rows = []
    for key, part in frame.groupby(_GROUP, sort=False):
        part = part.sort_values("query_id", kind="stable")
        rows.append(
            packed_row(id_lists, run_id, dict(zip(_GROUP, key)), part["query_id"].tolist(), part["value"].to_numpy())
        )
    return id_lists, pd.DataFrame(rows)


def upgrade_store(engine: Engine) -> dict:
    """Convert the old per-query rows into packed arrays in one transaction; returns what moved.
    Does nothing to a store already in the current layout."""
    if not needs_upgrade(engine):
        return {"upgraded": False}

    def convert() -> dict:
        init_store(engine, allow_old_layout=True)
        old = _OLD
        with engine.begin() as conn:
            run_ids = conn.execute(select(old.c.run_id).distinct().order_by(old.c.run_id)).scalars().all()
            expected = conn.execute(select(func.count()).select_from(old)).scalar_one()
            for run_id in run_ids:
                result = conn.execute(select(*old.c).where(old.c.run_id == run_id))
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
                id_lists, rows = _packed_run(frame, run_id)
                add_id_lists(conn, id_lists)
                _bulk_insert(conn, QueryScores.__table__, rows)
            moved = conn.execute(PER_QUERY_VALUES).scalar_one()
            if moved != expected:
                raise RuntimeError(f"upgrade moved {moved} of {expected} per-query values; nothing was changed")
            conn.execute(text(f"DROP TABLE {OLD_SCORES_TABLE}"))  # our own constant, not input
        return {"upgraded": True, "runs": len(run_ids), "values": int(expected)}

    report = with_retry(convert)
    if is_duckdb(str(engine.url)) and (path := duckdb_path(str(engine.url))) is not None:
        report["kept"] = str(compact_duckdb(path))
    return report


def compact_duckdb(path: Path) -> Path:
    """Rewrite a DuckDB store into a fresh file of its live data; the old file is kept as
    ``<name>.before-compact`` (returned)."""
    fresh, kept = path.with_name(path.name + ".compact"), path.with_name(path.name + ".before-compact")
    fresh.unlink(missing_ok=True)
    with duckdb.connect() as conn:
        conn.execute("ATTACH ? AS old (READ_ONLY)", [str(path)])
        conn.execute("ATTACH ? AS fresh", [str(fresh)])
        conn.execute("COPY FROM DATABASE old TO fresh")
    os.replace(path, kept)
    os.replace(fresh, path)
    return kept
