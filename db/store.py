"""Writes: create the schema, open a run, store its results in one transaction, mark failures.

A run is identified by its name. Re-running it replaces its rows (never duplicates them); a
failed run keeps whatever complete results it had stored before and records its error.
Bulk rows go in through a DataFrame (DuckDB reads it directly: 0.1 s for 100k rows, where ORM
objects one by one take over a minute). Per-query values go in packed (``db.packing``): one
row per group and metric, and each distinct list of query ids once in the whole store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import DBAPIError, OperationalError

from db import queries
from db.models import (
    SCHEMA_VERSION,
    Artifact,
    Base,
    MetricRow,
    NightChange,
    NightlyReport,
    QueryIdList,
    QueryScores,
    Run,
    SeriesPoint,
    StoreInfo,
)
from db.packing import pack_ids, pack_values
from db.queries import needs_upgrade
from db.session import StoreLocked, is_duckdb, with_retry
from hybridcore.eval.results import Evaluation

T = TypeVar("T")

# What a caller describes a run with; the rest of queries.RUN_COLUMNS the store keeps itself.
RUN_FIELDS = tuple(
    c
    for c in queries.RUN_COLUMNS
    if c not in ("id", "name", "status", "error", "started_at", "ended_at", "timings", "training")
)


class OldLayout(RuntimeError):
    """The store keeps per-query values in the old layout; ``hybrid-eval store upgrade`` converts it."""


class StoreUnavailable(RuntimeError):
    """The store cannot be reached, is newer than this code, or refused a write (disk full):
    an expected failure, reported in one line."""


def describe(engine: Engine) -> str:
    """The store's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def _first_line(err: BaseException) -> str:
    """The driver's message on one line (DuckDB's span several)."""
    cause = getattr(err, "orig", None) or err
    return " ".join(str(cause).split())[:300] or type(cause).__name__


def _write(engine: Engine, action: Callable[[], T]) -> T:
    """Run a write (retried while another process holds the lock); the store failing (down,
    disk full) becomes one ``StoreUnavailable`` line. The write is one transaction: a failed
    one leaves the store as it was."""
    try:
        return with_retry(action)
    except (OldLayout, StoreUnavailable):
        raise
    except Exception as err:
        if not is_store_failure(err):
            raise
        raise StoreUnavailable(
            f"store {describe(engine)}: {_first_line(err)} (nothing of this write was kept)"
        ) from None


def check_store(engine: Engine) -> None:
    """Before any work: the store answers, is in the current layout and its schema version is
    one this code reads (a new store is created). Raises ``StoreUnavailable`` or ``OldLayout``."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        if not is_store_failure(err):
            raise
        raise StoreUnavailable(f"store {describe(engine)} is unreachable: {_first_line(err)}") from None
    init_store(engine)


def is_store_failure(err: BaseException) -> bool:
    """Whether ``err`` is the store failing (down, unreachable, disk full, locked too long),
    not a bug: these end in one line naming the store."""
    if isinstance(err, (OperationalError, duckdb.OperationalError, duckdb.IOException, StoreLocked, StoreUnavailable)):
        return True
    return isinstance(err, (DBAPIError, duckdb.Error, OSError)) and "No space left on device" in str(err)


def init_store(engine: Engine, allow_old_layout: bool = False) -> None:
    """Create missing tables and add columns that a store written by older code lacks
    (existing rows are left alone; an added column is NULL in them). A store whose per-query
    values are still one row each is refused: ``hybrid-eval store upgrade`` converts it."""
    if not allow_old_layout and needs_upgrade(engine):
        raise OldLayout(
            f"{engine.url}: this store keeps per-query scores in the old layout (one row each); "
            "run `hybrid-eval store upgrade` to convert it (nothing is lost)"
        )

    def write() -> None:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            version = conn.execute(select(StoreInfo.value).where(StoreInfo.key == "schema_version")).scalar()
            if version is None:  # written only once, so checking a store writes nothing
                conn.execute(
                    upsert(StoreInfo).on_conflict_do_nothing(index_elements=["key"]),
                    [{"key": "schema_version", "value": str(SCHEMA_VERSION)}],
                )
                version = str(SCHEMA_VERSION)
            if int(version) > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"store {describe(engine)} has schema version {version}, written by newer hybrid-eval code; "
                    f"this code reads version {SCHEMA_VERSION}: update hybrid-eval"
                )
            for table in (Run.__table__, MetricRow.__table__):
                present = queries.table_columns(conn, table.name)
                for column in table.columns:
                    if column.name not in present and column.nullable:
                        # identifiers from our own models, not from input
                        conn.execute(
                            text(
                                f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                f"{column.type.compile(engine.dialect)}"
                            )
                        )

    _write(engine, write)


def _now() -> datetime:
    return datetime.now(UTC)


def start_run(engine: Engine, name: str, started_at: datetime | None = None, **fields) -> int:
    """Create the run ``name`` (or reopen it for a re-run) with status ``running``, started
    now or at ``started_at`` (a run brought in from elsewhere keeps its own time)."""
    unknown = set(fields) - set(RUN_FIELDS)
    if unknown:
        raise ValueError(f"unknown run fields {sorted(unknown)}")
    values = {**fields, "status": "running", "error": None, "started_at": started_at or _now(), "ended_at": None}

    def write() -> int:
        with engine.begin() as conn:
            existing = conn.execute(select(Run.id).where(Run.name == name)).scalar_one_or_none()
            if existing is None:
                return conn.execute(insert(Run).values(name=name, **values).returning(Run.id)).scalar_one()
            conn.execute(update(Run).where(Run.id == existing).values(**values))
            return existing

    return _write(engine, write)


def _bulk_insert(conn: Connection, table, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    if is_duckdb(str(conn.engine.url)):
        raw = conn.connection.driver_connection
        raw.register("incoming_rows", frame)
        try:
            columns = ", ".join(frame.columns)
            raw.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM incoming_rows")
        finally:
            raw.unregister("incoming_rows")
    else:
        conn.execute(insert(table), frame.to_dict("records"))


def packed_row(
    id_lists: dict[str, tuple[int, bytes]], run_id: int, group: dict, query_ids: Sequence[str], values: np.ndarray
) -> dict:
    """One group's per-query values as a ``per_query_scores`` row; its id list is added to
    ``id_lists`` (digest -> count and packed ids)."""
    digest, packed = pack_ids(list(query_ids))
    id_lists[digest] = (len(query_ids), packed)
    return {"run_id": run_id, **group, "query_ids": digest, "n_queries": len(query_ids), "scores": pack_values(values)}


def packed_scores(run_id: int, evaluations: Iterable[Evaluation]) -> tuple[dict[str, tuple[int, bytes]], pd.DataFrame]:
    """The run's per-query values as rows of packed arrays, and the id lists they refer to."""
    id_lists: dict[str, tuple[int, bytes]] = {}
    rows = [
        packed_row(
            id_lists,
            run_id,
            {
                "dataset": e.dataset,
                "setting": g.setting,
                "query_lang": g.query_lang,
                "candidate_lang": g.candidate_lang,
                "metric": metric,
            },
            g.query_ids,
            values,
        )
        for e in evaluations
        for g in e.groups
        for metric, values in g.per_query.items()
    ]
    return id_lists, pd.DataFrame(rows)


def add_id_lists(conn: Connection, id_lists: dict[str, tuple[int, bytes]]) -> None:
    """Store the id lists the store lacks; one another writer adds meanwhile is kept as is
    (same digest, same content)."""
    if not id_lists:
        return
    present = set(conn.execute(select(QueryIdList.digest).where(QueryIdList.digest.in_(list(id_lists)))).scalars())
    rows = [{"digest": d, "n_queries": n, "ids": packed} for d, (n, packed) in id_lists.items() if d not in present]
    if not rows:
        return
    # DuckDB and PostgreSQL both accept ON CONFLICT DO NOTHING, and duckdb_engine compiles
    # through the PostgreSQL dialect.
    conn.execute(upsert(QueryIdList).on_conflict_do_nothing(index_elements=["digest"]), rows)


def store_results(
    engine: Engine,
    run_id: int,
    evaluations: Iterable[Evaluation],
    artifacts: Iterable[tuple[str, str]] = (),
    timings: dict | None = None,
    ended_at: datetime | None = None,
    training: dict | None = None,
    point: dict | None = None,
) -> None:
    """Replace the run's figures, per-query scores and artifacts, and mark it completed (now,
    or at ``ended_at``), all in one transaction: a reader sees the old results or the new
    ones, never a mix. ``point``: the run's place in a series (``SeriesPoint``'s fields but
    ``run_id``), stored in the same transaction, so a model is never marked evaluated
    without its figures."""
    evaluations = list(evaluations)
    figures = pd.concat([e.figures() for e in evaluations], ignore_index=True) if evaluations else pd.DataFrame()
    if not figures.empty:
        figures.insert(0, "run_id", run_id)
        figures["pool_size"] = figures["pool_size"].astype(object).where(figures["pool_size"].notna(), None)
    id_lists, scores = packed_scores(run_id, evaluations)
    arts = pd.DataFrame(
        [{"run_id": run_id, "kind": k, "path": p} for k, p in artifacts], columns=["run_id", "kind", "path"]
    )

    def write() -> None:
        with engine.begin() as conn:
            for table in (MetricRow, QueryScores, Artifact, SeriesPoint):
                conn.execute(delete(table).where(table.run_id == run_id))
            add_id_lists(conn, id_lists)
            _bulk_insert(conn, MetricRow.__table__, figures)
            _bulk_insert(conn, QueryScores.__table__, scores)
            _bulk_insert(conn, Artifact.__table__, arts)
            if point is not None:
                conn.execute(insert(SeriesPoint).values(run_id=run_id, **point))
            conn.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(status="completed", ended_at=ended_at or _now(), timings=timings, training=training)
            )

    _write(engine, write)


def store_night(engine: Engine, night: str, started_at: datetime, changes: pd.DataFrame, **fields) -> None:
    """Keep (or replace) a nightly evaluation's report (``NightlyReport``'s fields) and its
    comparisons (``NightChange`` rows), in one transaction."""
    rows = changes[[c.name for c in NightChange.__table__.columns if c.name != "night"]].assign(night=night)
    rows = rows.astype(object).where(rows.notna(), None)

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(delete(NightlyReport).where(NightlyReport.night == night))
            conn.execute(delete(NightChange).where(NightChange.night == night))
            conn.execute(insert(NightlyReport).values(night=night, started_at=started_at, **fields))
            if len(rows):
                conn.execute(insert(NightChange), rows.to_dict("records"))

    _write(engine, write)


def fail_run(engine: Engine, run_id: int, error: str) -> None:
    """Mark the run failed with its error; its stored rows are left as they were."""

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(update(Run).where(Run.id == run_id).values(status="failed", error=error, ended_at=_now()))

    _write(engine, write)


def record_run(
    engine: Engine,
    name: str,
    fields: dict,
    evaluations: Iterable[Evaluation],
    artifacts: Iterable[tuple[str, str]] = (),
    timings: dict | None = None,
) -> int:
    """Create (or replace) a finished run with its results in one call: what the command
    line and ``store import`` use where the flow opens a run first and stores at the end."""
    init_store(engine)
    run_id = start_run(engine, name, **fields)
    store_results(engine, run_id, evaluations, artifacts, timings)
    return run_id
