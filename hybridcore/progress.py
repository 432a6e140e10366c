"""Progress bars that stay readable in logs as well as terminals."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0) -> tqdm:
    """A tqdm bar; without a terminal it redraws every 30 s instead of ten times a second."""
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=unit == "tok",
        disable=not enabled,
        mininterval=0.1 if sys.stderr.isatty() else 30.0,
    )
