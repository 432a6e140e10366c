"""The one error type for bad input: it always names the file, the record and the problem."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Input data is malformed; nothing derived from it has been written."""

    def __init__(self, path: str | Path, record: str, problem: str) -> None:
        self.path = str(path)
        self.record = record
        self.problem = problem
        super().__init__(f"{self.path}: {record}: {problem}")


class SettingError(ValueError):
    """A setting (an environment variable) has a value that cannot be used; nothing has run."""

    def __init__(self, name: str, value: str, problem: str) -> None:
        self.name, self.value = name, value
        super().__init__(f"{name}={value!r}: {problem}")
