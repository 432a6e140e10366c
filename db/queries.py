"""Reads for the dashboard and the command line, all parameterised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, inspect, literal, select, text

from db.models import (
    OLD_SCORES_TABLE,
    Artifact,
    MetricRow,
    NightChange,
    NightlyReport,
    QueryIdList,
    QueryScores,
    Run,
    SeriesPoint,
)
from db.packing import unpack_ids, unpack_values


def _frame(engine: Engine, statement) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


STORE_TABLES = (Run, MetricRow, QueryScores, QueryIdList, Artifact)
# Each packed array counts its length.
PER_QUERY_VALUES = select(func.coalesce(func.sum(QueryScores.n_queries), 0))


def is_initialised(engine: Engine) -> bool:
    """Whether the store has its tables (a new or foreign database file has not)."""
    names = set(inspect(engine).get_table_names())
    return {model.__tablename__ for model in STORE_TABLES} <= names


RUN_COLUMNS = (
    "id",
    "name",
    "experiment",
    "strategy",
    "alpha",
    "model",
    "train_set",
    "eval_sets",
    "seen_languages",
    "pretraining_languages",
    "exposure",
    "seed",
    "code_version",
    "machine",
    "status",
    "error",
    "started_at",
    "ended_at",
    "timings",
    "training",
    "leakage",
    "config",
)


def table_columns(conn: Connection, table: str) -> set[str]:
    """The columns a table has in this store (SQLAlchemy's inspector does not work on DuckDB)."""
    return set(
        conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = :table"), {"table": table}
        ).scalars()
    )


def needs_upgrade(engine: Engine) -> bool:
    """Whether the store keeps per-query values in the old layout (``hybrid-eval store upgrade``)."""
    return OLD_SCORES_TABLE in inspect(engine).get_table_names()


def runs(
    engine: Engine,
    status: str | None = None,
    strategy: str | None = None,
    model: str | None = None,
    train_set: str | None = None,
    eval_set: str | None = None,
    experiment: str | None = None,
    experiment_prefix: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Runs, newest first, optionally filtered (``since``/``until`` bound the start time). A
    column that a store written by older code lacks (added when it is next written to) is
    read as empty, so such a store stays readable read-only."""
    with engine.connect() as conn:
        present = table_columns(conn, Run.__tablename__)
    stmt = select(*(getattr(Run, name) for name in RUN_COLUMNS if name in present))
    filters = (
        (Run.status, status),
        (Run.strategy, strategy),
        (Run.model, model),
        (Run.train_set, train_set),
        (Run.experiment, experiment),
    )
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if eval_set is not None:
        # eval_sets is comma-separated: match whole names only
        stmt = stmt.where((literal(",") + Run.eval_sets + literal(",")).contains(f",{eval_set},", autoescape=True))
    if experiment_prefix is not None:
        stmt = stmt.where(Run.experiment.startswith(experiment_prefix, autoescape=True))
    if since is not None:
        stmt = stmt.where(Run.started_at >= since)
    if until is not None:
        stmt = stmt.where(Run.started_at < until)
    frame = _frame(engine, stmt.order_by(Run.started_at.desc(), Run.id.desc()))
    return frame.reindex(columns=list(RUN_COLUMNS))


def metrics(
    engine: Engine,
    run_ids: Sequence[int],
    dataset: str | None = None,
    setting: str | None = None,
    metric: str | None = None,
) -> pd.DataFrame:
    """Per-group figures of the given runs."""
    stmt = select(*MetricRow.__table__.columns).where(MetricRow.run_id.in_([int(r) for r in run_ids]))
    for column, value in ((MetricRow.dataset, dataset), (MetricRow.setting, setting), (MetricRow.metric, metric)):
        if value is not None:
            stmt = stmt.where(column == value)
    return _frame(engine, stmt)


SCORE_COLUMNS = ["run_id", "dataset", "setting", "query_lang", "candidate_lang", "query_id", "metric", "value"]


def query_scores(
    engine: Engine, run_ids: Sequence[int], dataset: str, metric: str, setting: str | None = None
) -> pd.DataFrame:
    """Per-query values, for paired tests between runs: one row per (run, group, query)."""
    stmt = select(
        QueryScores.run_id,
        QueryScores.setting,
        QueryScores.query_lang,
        QueryScores.candidate_lang,
        QueryScores.query_ids,
        QueryScores.scores,
    ).where(
        QueryScores.run_id.in_([int(r) for r in run_ids]), QueryScores.dataset == dataset, QueryScores.metric == metric
    )
    if setting is not None:
        stmt = stmt.where(QueryScores.setting == setting)
    # Rows come in key order so that every backend returns the same frame.
    stmt = stmt.order_by(QueryScores.run_id, QueryScores.setting, QueryScores.query_lang, QueryScores.candidate_lang)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        digests = list({row.query_ids for row in rows})
        id_lists = {
            d: unpack_ids(packed)
            for d, packed in conn.execute(
                select(QueryIdList.digest, QueryIdList.ids).where(QueryIdList.digest.in_(digests))
            )
        }
    if not rows:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    lengths = [len(id_lists[row.query_ids]) for row in rows]
    ids = {d: np.asarray(v, dtype=object) for d, v in id_lists.items()}

    def repeated(field: str) -> np.ndarray:
        return np.repeat(np.asarray([getattr(row, field) for row in rows], dtype=object), lengths)

    values = [unpack_values(row.scores) for row in rows]
    for row, n, v in zip(rows, lengths, values):
        if len(v) != n:
            raise ValueError(
                f"run {row.run_id}, {dataset} {row.setting} {row.query_lang}->{row.candidate_lang} {metric}: "
                f"{len(v)} values for {n} query ids; the store is damaged"
            )
    return pd.DataFrame(
        {
            "run_id": np.repeat([row.run_id for row in rows], lengths),
            "dataset": dataset,
            "setting": repeated("setting"),
            "query_lang": repeated("query_lang"),
            "candidate_lang": repeated("candidate_lang"),
            "query_id": np.concatenate([ids[row.query_ids] for row in rows]),
            "metric": metric,
            "value": np.concatenate(values),
        }
    )


def per_query_values(engine: Engine) -> int:
    """How many per-query values the store holds (each packed array counts its length)."""
    with engine.connect() as conn:
        return int(conn.execute(PER_QUERY_VALUES).scalar_one())


def artifacts(engine: Engine, run_ids: Sequence[int]) -> pd.DataFrame:
    """The files the runs produced: ``run_id``, ``kind``, ``path``."""
    return _frame(
        engine,
        select(Artifact.run_id, Artifact.kind, Artifact.path)
        .where(Artifact.run_id.in_([int(r) for r in run_ids]))
        .order_by(Artifact.id),
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table."""
    out = {}
    with engine.connect() as conn:
        for model in STORE_TABLES:
            out[model.__tablename__] = conn.execute(select(func.count()).select_from(model)).scalar_one()
    return out


def run_config(engine: Engine, name: str) -> dict | None:
    """The stored run specification of the run ``name`` (None if there is no such run)."""
    with engine.connect() as conn:
        return conn.execute(select(Run.config).where(Run.name == name)).scalar_one_or_none()


def _has_table(engine: Engine, model) -> bool:
    """A store written before the table existed lacks it until it is next written to."""
    return model.__tablename__ in set(inspect(engine).get_table_names())


POINT_COLUMNS = ["run_id", "series", "kind", "step", "revision", "appeared_at", "model_key", "night"]


def series_points(engine: Engine, kind: str | None = None, series: Sequence[str] | None = None) -> pd.DataFrame:
    """Series points of completed runs (optionally of one kind, or of some series), with the
    run's name, experiment and strategy."""
    columns = [*POINT_COLUMNS, "name", "experiment", "strategy"]
    if not _has_table(engine, SeriesPoint):
        return pd.DataFrame(columns=columns)
    stmt = (
        select(*SeriesPoint.__table__.columns, Run.name, Run.experiment, Run.strategy)
        .join(Run, Run.id == SeriesPoint.run_id)
        .where(Run.status == "completed")
    )
    if kind is not None:
        stmt = stmt.where(SeriesPoint.kind == kind)
    if series is not None:
        stmt = stmt.where(SeriesPoint.series.in_(list(series)))
    return _frame(engine, stmt.order_by(SeriesPoint.series, SeriesPoint.step, SeriesPoint.appeared_at)).reindex(
        columns=columns
    )


def evaluated_keys(engine: Engine, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` a completed run's series point already holds."""
    if not keys or not _has_table(engine, SeriesPoint):
        return set()
    stmt = (
        select(SeriesPoint.model_key)
        .join(Run, Run.id == SeriesPoint.run_id)
        .where(SeriesPoint.model_key.in_(list(keys)), Run.status == "completed")
    )
    with engine.connect() as conn:
        return set(conn.execute(stmt).scalars())


NIGHT_COLUMNS = ["night", "started_at", "evaluated", "regressions", "evaluation_changed", "markdown", "flow_run_id"]


def nightly_reports(engine: Engine) -> pd.DataFrame:
    """Every nightly evaluation's report, newest first."""
    if not _has_table(engine, NightlyReport):
        return pd.DataFrame(columns=NIGHT_COLUMNS)
    stmt = select(*NightlyReport.__table__.columns).order_by(NightlyReport.started_at.desc())
    return _frame(engine, stmt).reindex(columns=NIGHT_COLUMNS)


def night_changes(engine: Engine, series: Sequence[str] | None = None) -> pd.DataFrame:
    """The comparisons the nightlies made (optionally of some series)."""
    columns = [c.name for c in NightChange.__table__.columns]
    if not _has_table(engine, NightChange):
        return pd.DataFrame(columns=columns)
    stmt = select(*NightChange.__table__.columns)
    if series is not None:
        stmt = stmt.where(NightChange.series.in_(list(series)))
    return _frame(engine, stmt.order_by(NightChange.night, NightChange.run_id)).reindex(columns=columns)
