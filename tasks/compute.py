"""Heavy tasks queue for their machine's compute slot instead of sharing the cores.

With a Prefect server, a slot is a slot of Prefect's own global concurrency limit for the
machine, ``compute-<machine>`` (``HYBRID_EVAL_COMPUTE_SLOTS`` slots, created on first use): the
server keeps the queue, ``prefect gcl ls`` and the UI show it, and a killed worker's slot
comes back when its lease lapses. Not across a restart of the server: Prefect 3.9.1 keeps
leases in memory, so slots held while it went down stay taken until
``prefect gcl update compute-<machine> --active-slots 0`` (``tests/test_faults.py``). A run
without a server (Prefect's ephemeral API, as ``hybrid-eval experiment`` runs by default) has
no one to ask, so it keeps the host file lock of ``hybridcore.run.compute``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_API_URL

from hybridcore.progress import reporting_to
from hybridcore.run.compute import compute_slot, machine_name, slot_count


def limit_name() -> str:
    """The global concurrency limit of this machine's compute slots."""
    return f"compute-{machine_name()}"


def _ensure_limit(name: str, slots: int) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, slots)
        except ObjectAlreadyExists:  # another worker of this machine created it meanwhile
            client.upsert_global_concurrency_limit_by_name(name, slots)


@contextmanager
def machine_slot(step: str) -> Iterator[float]:
    """Hold a compute slot for ``step``; yields the seconds waited (logged when over a second).
    The work done in it reports its progress to the run's log."""
    logger = get_run_logger()
    with reporting_to(lambda line: logger.info("%s", line)):
        yield from _slot(step)


def _slot(step: str) -> Iterator[float]:
    logger = get_run_logger()
    if PREFECT_API_URL.value():
        name = limit_name()
        _ensure_limit(name, slot_count())
        started = time.perf_counter()
        with concurrency(name, occupy=1, strict=True):
            waited = time.perf_counter() - started
            if waited > 1:
                logger.info("%s: got a slot of %s after %.0f s", step, name, waited)
            yield waited
        return

    queued = []

    def report_queued() -> None:
        queued.append(True)
        logger.info("%s: waiting for a free compute slot on this machine", step)

    with compute_slot(report_queued) as waited:
        if queued:
            logger.info("%s: got a compute slot after %.0f s", step, waited)
        yield waited
