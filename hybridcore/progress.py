"""Progress bars that stay readable in logs as well as terminals.

A bar shown (``enabled``) draws on the terminal. One not shown still reports, every 30 s,
to the ``hybridcore.progress`` logger when someone listens to it: the orchestrator's tasks
forward it to their run's log (``tasks.compute.machine_slot``), so a flow that encodes or
trains for minutes says how far it is (tokens/s, steps, loss) instead of falling silent.
"""

from __future__ import annotations

import logging
import sys

from tqdm.auto import tqdm

LOGGER = logging.getLogger("hybridcore.progress")
# Only its own listeners hear it (not the root logger's), and at INFO whatever the root's level.
LOGGER.setLevel(logging.INFO)
LOGGER.propagate = False
LOG_EVERY_SECONDS = 30.0


class _LogLines:
    """A file for tqdm that turns each redraw into one log line."""

    def write(self, text: str) -> None:
        line = text.strip("\r\n ")
        if line:
            LOGGER.info(line)

    def flush(self) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0) -> tqdm:
    """A tqdm bar; without a terminal it redraws every 30 s instead of ten times a second.
    Not ``enabled``, it logs every 30 s to ``hybridcore.progress`` if a handler is attached
    to that logger itself, else stays silent."""
    logged = not enabled and bool(LOGGER.handlers)
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=unit == "tok",
        disable=not (enabled or logged),
        file=_LogLines() if logged else None,
        ascii=True if logged else None,
        mininterval=LOG_EVERY_SECONDS if logged or not sys.stderr.isatty() else 0.1,
        maxinterval=LOG_EVERY_SECONDS,
    )
