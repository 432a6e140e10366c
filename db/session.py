"""Engines for the store: DuckDB by default, any SQLAlchemy URL by setting.

DuckDB admits one writing process at a time and holds a file lock while a connection is
open, so engines use ``NullPool`` (connections close when released), and opening a
connection waits (with backoff) while another process holds the lock. Only an interactive
reader (the dashboard) asks not to wait, so that it can say "being written" at once.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

from hybridcore.config.paths import home_dir

T = TypeVar("T")


def default_url() -> str:
    """``HYBRID_EVAL_DB_URL``, else a DuckDB file in the project's data directory."""
    return os.environ.get("HYBRID_EVAL_DB_URL") or f"duckdb:///{home_dir() / 'store.duckdb'}"


def is_duckdb(url: str) -> bool:
    return url.startswith("duckdb:")


def duckdb_path(url: str) -> Path | None:
    """The file behind a DuckDB URL (None for an in-memory one)."""
    path = url.removeprefix("duckdb:///")
    return None if path in ("", ":memory:") else Path(path)


def make_engine(url: str | None = None, read_only: bool = False, wait: bool = True) -> Engine:
    """An engine that holds no connection (and so no file lock) between uses; with ``wait``,
    connecting to a DuckDB file another process holds waits for it."""
    url = url or default_url()
    connect_args = {}
    if is_duckdb(url):
        path = duckdb_path(url)
        if path is not None and not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            connect_args = {"read_only": True}
    elif read_only and url.startswith("postgresql+psycopg"):
        # the server refuses every write in these sessions, so a reader cannot change the store
        connect_args = {"options": "-c default_transaction_read_only=on"}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    if is_duckdb(url) and wait:

        @event.listens_for(engine, "do_connect")
        def connect_when_free(dialect, record, cargs, cparams):  # another process may hold the file a moment
            return with_retry(lambda: dialect.connect(*cargs, **cparams))

    return engine


class StoreLocked(RuntimeError):
    """Another process held the store's write lock for longer than we waited."""


def _is_lock_error(err: BaseException) -> bool:
    text = str(err).lower()
    return "lock" in text and ("conflict" in text or "could not set" in text or "database is locked" in text)


def with_retry(action: Callable[[], T], attempts: int = 12, first_wait: float = 0.1, max_wait: float = 5.0) -> T:
    """Run ``action``; while the store is locked by another process, wait and try again
    (exponential backoff with jitter)."""
    wait = first_wait
    for attempt in range(attempts):
        try:
            return action()
        except Exception as err:  # duckdb's own IOException is not always wrapped by SQLAlchemy
            if not _is_lock_error(err):
                raise
            if attempt == attempts - 1:
                raise StoreLocked(f"store still locked after {attempts} attempts: {err}") from err
        time.sleep(wait * (1 + random.random() / 2))
        wait = min(wait * 2, max_wait)
    raise AssertionError("unreachable")
