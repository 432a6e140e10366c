"""How runs are named and described in the store, whoever starts them (flow or command line).

An experiment is ``<origin>-<profile>-<model>-<training set>-<UTC time>`` (origin: the
deployment, ``local`` for ``make run``), ``evaluate-<model>-<dataset>-<UTC time>`` or
``train-<model>-<training set>-<UTC time>`` for those commands, and a run is
``<experiment>/<strategy>`` (with ``-alpha<a>`` and ``-seed<s>`` where the experiment has
several: ``RunSpec.run_suffix``): re-running an experiment replaces its runs' rows. This
module is the only place names are made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hybridcore.config.provenance import code_version, environment
from hybridcore.config.spec import Arm, RunSpec
from hybridcore.model.exposure import exposure_record
from hybridcore.model.pretraining import pretraining_languages


def utc_stamp(when: datetime | None = None) -> str:
    """The time part of experiment names: ``20261125T145659Z``."""
    return f"{when or datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def experiment_name(origin: str, spec: RunSpec, when: datetime | None = None) -> str:
    """A flow's experiment: origin, profile, model, training set, time."""
    return f"{origin}-{spec.profile}-{Path(spec.model).name}-{Path(spec.train_set).name}-{utc_stamp(when)}"


def evaluation_experiment(
    origin: str, model: str, dataset: str, result: str | Path, when: datetime | None = None
) -> str:
    """A stored evaluation's experiment (``hybrid-eval evaluate``, ``store import``). The
    result folder's name (its content key) ends it: two results stored in the same second
    never share a name, so one never replaces the other."""
    return f"{origin}-{Path(model).name}-{dataset}-{utc_stamp(when)}-{Path(result).name[:8]}"


def training_experiment(spec: RunSpec, when: datetime | None = None) -> str:
    """A stored training's experiment (``hybrid-eval train``)."""
    return f"train-{Path(spec.model).name}-{Path(spec.train_set).name}-{utc_stamp(when)}"


def run_name(experiment: str, spec: RunSpec, arm: Arm | None) -> str:
    """``<experiment>/<suffix>``: the arm's name within its experiment, ``reference`` for None."""
    return f"{experiment}/{spec.run_suffix(arm)}"


def watched_run_name(night: str, series: str, label: str) -> str:
    """``<night>/<series>/<label>``: a watched model's run (``checkpoint-500``, a revision)."""
    return f"{night}/{series}/{label}"


def checkpoint_run_name(arm_run: str, step: int) -> str:
    """``<arm's run>/step-<step>``: an arm's exported checkpoint, a point of its learning curve."""
    return f"{arm_run}/step-{step}"


def run_fields(
    spec: RunSpec,
    arm: Arm | None,
    experiment: str,
    seen_languages: list[str],
    leakage: list[dict],
    eval_sets: list[str] | None = None,
) -> dict:
    """The store's description of one run (``arm`` None: the untrained reference): its spec
    as it is, and the fields to filter by."""
    config = spec.train_config(arm) if arm is not None else None
    return {
        "experiment": experiment,
        "strategy": arm.strategy if arm else "reference",
        "model": spec.model,
        "train_set": spec.train_set,
        "alpha": spec.arm_alpha(arm),
        "eval_sets": ",".join(eval_sets if eval_sets is not None else spec.eval_sets),
        "seen_languages": ",".join(seen_languages),
        "pretraining_languages": _joined(pretraining_languages(spec.model)),
        "exposure": exposure_record(spec.model),
        "config": spec.to_dict(),
        "seed": config.seed if config else None,
        "code_version": code_version(),
        "machine": environment(),
        "leakage": leakage,
    }


def _joined(languages: tuple[str, ...] | None) -> str | None:
    return None if languages is None else ",".join(languages)
