"""Before any work: every dataset a spec names, its training data and its model resolve.

The spec's own types and ranges are checked when it is built (``hybridcore.config.spec``);
what needs the file system or a hub is checked here, once, before the first step runs, so
a typo in a dataset name ends the run at once instead of after the reference's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hybridcore.config.paths import resolve_dataset_dir
from hybridcore.config.spec import RunSpec, SpecError
from hybridcore.data.formats.registry import check_reference, format_of
from hybridcore.errors import DataError
from hybridcore.model.device import compute_device
from hybridcore.model.resolve import resolve_model


def check_resolvable(spec: RunSpec) -> None:
    """Raise ``SpecError`` naming the first field whose dataset or model does not resolve
    (``SettingError`` where the device setting names no device here)."""
    compute_device()
    for i, reference in enumerate(spec.eval_sets):
        _check(f"eval_sets.{i}", reference, check_reference)
    if spec.strategies:
        _check("train_set", spec.train_set, _check_training_source)
    _check("model", spec.model, resolve_model)


def _check_training_source(source: str) -> None:
    if source.startswith("hf:"):
        return  # loaded (and so checked) by the hub's own client when prepared
    if source.endswith(".jsonl"):
        if not Path(source).is_file():
            raise FileNotFoundError(f"no such file {source}")
        return
    format_of(resolve_dataset_dir(source))


def _check(field: str, value: str, resolve: Callable[[str], object]) -> None:
    try:
        resolve(value)
    except (DataError, OSError, ValueError) as err:
        raise SpecError(f"RunSpec: {field} = {value!r}: {str(err).splitlines()[0]}") from None
