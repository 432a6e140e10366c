"""Heavy tasks queue for their machine's compute slot instead of sharing the cores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger

from hybridcore.run.compute import compute_slot


@contextmanager
def machine_slot(step: str) -> Iterator[float]:
    """Hold a compute slot for ``step``; yields the seconds waited (logged when > 0)."""
    logger = get_run_logger()
    queued = []

    def report_queued() -> None:
        queued.append(True)
        logger.info("%s: waiting for a free compute slot on this machine", step)

    with compute_slot(report_queued) as waited:
        if queued:
            logger.info("%s: got a compute slot after %.0f s", step, waited)
        yield waited
