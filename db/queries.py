"""Reads for the dashboard and the command line, all parameterised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, inspect, literal, select

from db.models import Artifact, MetricRow, QueryScore, Run


def _frame(engine: Engine, statement) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def is_initialised(engine: Engine) -> bool:
    """Whether the store has its tables (a new or foreign database file has not)."""
    names = set(inspect(engine).get_table_names())
    return {model.__tablename__ for model in (Run, MetricRow, QueryScore, Artifact)} <= names


def runs(engine: Engine, status: str | None = None, strategy: str | None = None, model: str | None = None,
         train_set: str | None = None, eval_set: str | None = None, experiment: str | None = None,
         experiment_prefix: str | None = None, since: datetime | None = None,
         until: datetime | None = None) -> pd.DataFrame:
    """Runs, newest first, optionally filtered (``since``/``until`` bound the start time)."""
    stmt = select(Run.id, Run.name, Run.experiment, Run.strategy, Run.alpha, Run.model, Run.train_set, Run.eval_sets,
                  Run.seen_languages, Run.pretraining_languages, Run.seed, Run.code_version, Run.status, Run.error, Run.started_at, Run.ended_at,
                  Run.timings, Run.leakage, Run.config)
    filters = ((Run.status, status), (Run.strategy, strategy), (Run.model, model), (Run.train_set, train_set),
               (Run.experiment, experiment))
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
    return _frame(engine, stmt.order_by(Run.started_at.desc(), Run.id.desc()))


def metrics(engine: Engine, run_ids: Sequence[int], dataset: str | None = None, setting: str | None = None,
            metric: str | None = None) -> pd.DataFrame:
    """Per-group figures of the given runs."""
    stmt = select(*MetricRow.__table__.columns).where(MetricRow.run_id.in_(list(run_ids)))
    for column, value in ((MetricRow.dataset, dataset), (MetricRow.setting, setting), (MetricRow.metric, metric)):
        if value is not None:
            stmt = stmt.where(column == value)
    return _frame(engine, stmt)


def query_scores(engine: Engine, run_ids: Sequence[int], dataset: str, metric: str, setting: str | None = None) -> pd.DataFrame:
    """Per-query values, for paired tests between runs."""
    stmt = select(*QueryScore.__table__.columns).where(
        QueryScore.run_id.in_(list(run_ids)), QueryScore.dataset == dataset, QueryScore.metric == metric
    )
    if setting is not None:
        stmt = stmt.where(QueryScore.setting == setting)
    return _frame(engine, stmt)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table."""
    out = {}
    with engine.connect() as conn:
        for model in (Run, MetricRow, QueryScore, Artifact):
            out[model.__tablename__] = conn.execute(select(func.count()).select_from(model)).scalar_one()
    return out


def run_config(engine: Engine, name: str) -> dict | None:
    """The stored run specification of the run ``name`` (None if there is no such run)."""
    with engine.connect() as conn:
        return conn.execute(select(Run.config).where(Run.name == name)).scalar_one_or_none()
