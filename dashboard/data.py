"""The dashboard's reads: ``db.queries`` over a read-only engine, cached for a short while.

Every failure to read (no store yet, an empty one, one held by a writer) becomes a
``StoreUnavailable`` with a message for the user, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from db import queries
from db.session import StoreLocked, default_url, duckdb_path, is_duckdb, make_engine, with_retry

T = TypeVar("T")
CACHE_SECONDS = 30


class StoreUnavailable(RuntimeError):
    """The store cannot be read now; the message says why and what to do."""


def store_url() -> str:
    return default_url()


@st.cache_resource
def _engine(url: str) -> Engine:
    return make_engine(url, read_only=True, wait=False)  # says "being written" at once instead


def _read(url: str, query: Callable[[Engine], T]) -> T:
    if is_duckdb(url):
        path = duckdb_path(url)
        if path is not None and not path.exists():
            raise StoreUnavailable(
                f"No store at {path} yet. Run an experiment first (`make run`), or point "
                "HYBRID_EVAL_DB_URL at an existing store."
            )
    engine = _engine(url)
    try:
        if with_retry(lambda: queries.needs_upgrade(engine), attempts=4):
            raise StoreUnavailable(
                f"The store at {url} was written by an older hybrid-eval (per-query scores one "
                "row each). Run `hybrid-eval store upgrade` once; it converts the store, losing nothing."
            )
        if not with_retry(lambda: queries.is_initialised(engine), attempts=4):
            raise StoreUnavailable(f"The store at {url} is empty: no run has been stored yet. Run `make run`.")
        return with_retry(lambda: query(engine), attempts=4)
    except StoreLocked:
        raise StoreUnavailable(
            "The store is being written by a run right now (DuckDB admits one writer and no "
            "readers meanwhile). Reload this page in a few seconds."
        ) from None
    except SQLAlchemyError as err:
        raise StoreUnavailable(
            f"Could not read the store at {url}: {err.__class__.__name__}: {err.orig if hasattr(err, 'orig') else err}"
        ) from None


def runs(
    since: datetime | None = None, until: datetime | None = None, experiment_prefix: str | None = None
) -> pd.DataFrame:
    """Runs (newest first), with a ``duration_s`` column."""
    return _runs(store_url(), since, until, experiment_prefix)


def figures(run_ids: Sequence[int], labels: dict[int, str]) -> pd.DataFrame:
    """Per-group figures of the runs, with each run's label in ``run``."""
    return _figures(store_url(), tuple(run_ids), labels)


def scores(run_ids: Sequence[int], labels: dict[int, str], dataset: str, metric: str) -> pd.DataFrame:
    """Per-query values of one metric, for paired tests."""
    return _scores(store_url(), tuple(run_ids), labels, dataset, metric)


# The store's URL is part of every cache key: one server may be pointed at another store.
@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _runs(url: str, since: datetime | None, until: datetime | None, experiment_prefix: str | None) -> pd.DataFrame:
    table = _read(url, lambda e: queries.runs(e, since=since, until=until, experiment_prefix=experiment_prefix))
    # An empty selection comes back with untyped columns: type them so every view can filter it.
    for column in ("started_at", "ended_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    table["duration_s"] = (table["ended_at"] - table["started_at"]).dt.total_seconds()
    return table


def _labelled(frame: pd.DataFrame, labels: dict[int, str]) -> pd.DataFrame:
    return frame.assign(run=frame["run_id"].map(labels))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _figures(url: str, run_ids: tuple[int, ...], labels: dict[int, str]) -> pd.DataFrame:
    return _labelled(_read(url, lambda e: queries.metrics(e, list(run_ids))), labels)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner="Loading per-query scores…")
def _scores(url: str, run_ids: tuple[int, ...], labels: dict[int, str], dataset: str, metric: str) -> pd.DataFrame:
    return _labelled(_read(url, lambda e: queries.query_scores(e, list(run_ids), dataset, metric)), labels)


def series_points() -> pd.DataFrame:
    """Every series point (watched checkpoints, the nightly reference, exported checkpoints)."""
    return _series_points(store_url())


def nightly_reports() -> pd.DataFrame:
    """Every nightly's report, newest first."""
    return _nightly_reports(store_url())


def night_changes(series: Sequence[str]) -> pd.DataFrame:
    """The comparisons the nightlies made for ``series``."""
    return _night_changes(store_url(), tuple(series))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _series_points(url: str) -> pd.DataFrame:
    table = _read(url, queries.series_points)
    table["appeared_at"] = pd.to_datetime(table["appeared_at"], utc=True)
    return table


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _nightly_reports(url: str) -> pd.DataFrame:
    return _read(url, queries.nightly_reports)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _night_changes(url: str, series: tuple[str, ...]) -> pd.DataFrame:
    return _read(url, lambda e: queries.night_changes(e, list(series)))
