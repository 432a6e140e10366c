"""Expected failures without Prefect's tracebacks.

A flow run that fails on bad input (a malformed file, a spec that cannot run, the store down)
is logged by Prefect with the full traceback of the exception, for the task and again for the
flow. For such failures the command line prints one line of its own, so while it runs, the
tracebacks of these exception types are left out of Prefect's console log (the message and
the failed state stay); any other exception keeps its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _WithoutTraceback(logging.Filter):
    def __init__(self, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self.expected):
            record.exc_info, record.exc_text = None, None
        return True


@contextmanager
def expected_failures_without_traceback(expected: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Drop the traceback of ``expected`` exceptions from every handler of Prefect's loggers."""
    from prefect.logging import get_logger

    get_logger()  # Prefect configures its handlers on first use
    quiet = _WithoutTraceback(expected)
    handlers = {
        handler
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
    }
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
