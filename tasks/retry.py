"""Which task failures are worth another try."""

from __future__ import annotations

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from hybridcore.data.leakage import LeakageError
from hybridcore.errors import DataError

# Bad input, leaked training data or a missing file fail the same way every time.
PERMANENT = (DataError, LeakageError, FileNotFoundError, ValueError, TypeError)


def transient_only(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry condition: retry unless the failure is one that would only repeat."""
    try:
        state.result()
    except PERMANENT:
        return False
    except BaseException:
        return True
    return True
