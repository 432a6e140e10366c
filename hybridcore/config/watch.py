"""What the nightly evaluation watches: series of models, and when a change is a regression.

A *series* is a training run whose checkpoints appear over time (a folder with one subfolder
per checkpoint, ``checkpoint-500/``, or a glob pattern of model folders), or a hub model
followed over its revisions. Each entry says how its models are ordered: by ``step`` (the
number in a checkpoint's name) or by ``time`` (when it appeared). The watch list is part of
the run specification (``RunSpec.watch``) or a JSON file it names (``file``); both are
checked when read, and a bad entry is one line naming the file, the entry and the field.
Torch-free, like the rest of the spec.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from hybridcore.config.validation import SPEC_CONFIG, SpecError, spec_problem

Name = Annotated[str, Field(min_length=1)]


def _http_url(url: str | None) -> str | None:
    if url is not None and urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    return url


@dataclass(frozen=True, config=SPEC_CONFIG)
class Watched:
    """One series. Exactly one of ``folder`` (its subfolders are the models), ``glob`` (the
    model folders it matches) and ``hub`` (a hub name; ``revision`` pins one, else the
    default branch is resolved to its commit each night). ``base``: the model the series was
    fine-tuned from, for its exposure card (default: what a checkpoint's ``training.json``
    says; else the exposure is unknown)."""

    series: Name
    folder: str | None = None
    glob: str | None = None
    hub: str | None = None
    revision: str | None = None
    order: Literal["step", "time"] = "step"
    base: str | None = None  # the model it was fine-tuned from, whose exposure card labels the figures

    @model_validator(mode="after")
    def _one_source(self) -> Watched:
        given = [name for name in ("folder", "glob", "hub") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(f"series {self.series!r} needs exactly one of folder, glob or hub (got {given or 'none'})")
        if self.revision is not None and self.hub is None:
            raise ValueError(f"series {self.series!r}: a revision applies to a hub model only")
        if self.hub is not None and self.order == "step":
            raise ValueError(f"series {self.series!r}: a hub model's revisions have no step; use order 'time'")
        return self


@dataclass(frozen=True, config=SPEC_CONFIG)
class WatchList:
    """The series the nightly evaluates, and its regression rule: a model is a regression when
    a primary figure is worse than the previous model of its series (or the first) by more
    than ``margin``, significant at ``alpha`` after Holm's correction over the night's tests.
    ``webhook`` (a URL that gets a JSON POST) and ``notify_block`` (a Prefect notification
    block, ``<block-type>/<name>``) are called once a night with regressions. A checkpoint
    folder changed less than ``settle_seconds`` ago may still be being written: it waits for
    the next night."""

    series: tuple[Watched, ...] = ()
    file: str | None = None
    margin: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.01
    alpha: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.05
    webhook: Annotated[str | None, AfterValidator(_http_url)] = None
    notify_block: str | None = None
    settle_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 60.0

    @model_validator(mode="after")
    def _distinct_series(self) -> WatchList:
        names = [s.series for s in self.series]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"series names must not repeat, but {repeated} do")
        return self

    def resolved(self) -> WatchList:
        """The list with the file it names read in (its series after the inline ones)."""
        if self.file is None:
            return self
        other = load_watch_file(Path(self.file))
        return replace(self, file=None, series=self.series + other.series, **_set_fields(other))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _set_fields(other: WatchList) -> dict[str, Any]:
    """The rule fields a file sets (those that differ from the defaults)."""
    default = WatchList()
    return {
        name: getattr(other, name)
        for name in ("margin", "alpha", "webhook", "notify_block", "settle_seconds")
        if getattr(other, name) != getattr(default, name)
    }


def load_watch_file(path: Path) -> WatchList:
    """A watch list from a JSON file (an object with the fields of ``WatchList``, ``file``
    aside); every problem is a ``SpecError`` naming the file."""
    try:
        record = json.loads(path.read_text())
    except OSError as err:
        raise SpecError(f"{path}: cannot read the watch list ({err.strerror or err})") from None
    except json.JSONDecodeError as err:
        raise SpecError(f"{path}: not JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(record, dict):
        raise SpecError(f"{path}: expected an object with a 'series' list, got {type(record).__name__}")
    if "file" in record:
        raise SpecError(f"{path}: a watch file cannot name another file")
    try:
        return WatchList(**record)
    except ValidationError as err:
        raise SpecError(f"{path}: {spec_problem(err)}") from None


WATCH_SETTING = "HYBRID_EVAL_WATCH"
DASHBOARD_SETTING = "HYBRID_EVAL_DASHBOARD_URL"


def watch_file_setting() -> str | None:
    """The watch file the nightly deployment reads when its spec names none (``HYBRID_EVAL_WATCH``)."""
    return os.environ.get(WATCH_SETTING) or None


def dashboard_url() -> str:
    """Where the night's artifact links to (``HYBRID_EVAL_DASHBOARD_URL``; ``make dashboard``'s by default)."""
    return os.environ.get(DASHBOARD_SETTING, "http://127.0.0.1:8501")
