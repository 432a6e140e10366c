"""Progress bars that stay readable in logs as well as terminals.

A bar shown (``enabled``) draws on the terminal. One not shown still reports, every 30 s, to
whoever listens (``reporting_to``): the orchestrator's tasks pass their run's logger
(``tasks.compute.machine_slot``), so a flow that encodes or trains for minutes says how far
it is (tokens/s, steps, loss) instead of falling silent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

REPORT_EVERY_SECONDS = 30.0
_LISTENERS: list[Callable[[str], None]] = []


@contextmanager
def reporting_to(listener: Callable[[str], None]) -> Iterator[None]:
    """While it lasts, each redraw of a bar not shown goes to ``listener`` as one line."""
    _LISTENERS.append(listener)
    try:
        yield
    finally:
        _LISTENERS.remove(listener)


class _Lines:
    """A file for tqdm that hands each redraw, as one line, to the listeners."""

    def write(self, text: str) -> None:
        line = text.strip("\r\n ")
        if line:
            for listener in list(_LISTENERS):
                listener(line)

    def flush(self) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0) -> tqdm:
    """A tqdm bar; without a terminal it redraws every 30 s instead of ten times a second.
    Not ``enabled``, it reports every 30 s to the listeners of ``reporting_to``, if any, else
    stays silent."""
    reported = not enabled and bool(_LISTENERS)
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=unit == "tok",
        disable=not (enabled or reported),
        file=_Lines() if reported else None,
        ascii=True if reported else None,
        mininterval=REPORT_EVERY_SECONDS if reported or not sys.stderr.isatty() else 0.1,
        maxinterval=REPORT_EVERY_SECONDS,
    )
