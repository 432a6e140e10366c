"""A machine's compute slots: heavy steps (training, encoding) take one before they start.

Two workers on one 2-core machine that train three models at once each run about ten times
slower than one alone (measured: ~1 vs 13 examples/s), and every run finishes last. A slot is
an advisory file lock named after the host, so workers on one machine queue while workers on
other machines (even sharing ``HYBRID_EVAL_HOME`` over a network folder) go on in parallel.
``HYBRID_EVAL_COMPUTE_SLOTS`` sets how many heavy steps one machine runs at once (default 1);
``HYBRID_EVAL_MACHINE`` names the machine where the host name does not (containers sharing
one). Under a Prefect server, ``tasks.compute`` uses Prefect's own concurrency limit instead;
this lock serves the runs without one.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hybridcore.config.paths import home_dir

POLL_SECONDS = 2.0


def slot_count() -> int:
    """Heavy steps one machine runs at once."""
    value = os.environ.get("HYBRID_EVAL_COMPUTE_SLOTS", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"HYBRID_EVAL_COMPUTE_SLOTS must be a positive integer, got {value!r}")
    return int(value)


def machine_name() -> str:
    """``HYBRID_EVAL_MACHINE``, else the host name."""
    return os.environ.get("HYBRID_EVAL_MACHINE") or socket.gethostname()


def _slot_paths(host: str, slots: int) -> list[Path]:
    folder = home_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return [folder / f"compute-{host}-{i}.lock" for i in range(slots)]


@contextmanager
def compute_slot(on_wait: Callable[[], None] | None = None) -> Iterator[float]:
    """Hold one of this machine's compute slots; yields the seconds spent waiting for it.

    ``on_wait`` is called once if every slot is taken. The lock dies with the process, so a
    killed worker never leaves a slot held.
    """
    paths = _slot_paths(machine_name(), slot_count())
    started = time.perf_counter()
    warned = False
    while True:
        for path in paths:
            handle = open(path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield time.perf_counter() - started
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if not warned and on_wait is not None:
            on_wait()
            warned = True
        time.sleep(POLL_SECONDS)
