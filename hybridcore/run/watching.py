"""Finding what the nightly has to evaluate: the watched models, and the keys that say
whether each was evaluated before.

A watched model's key is its series and the content of its weights
(``pipeline.model_identity``) with the encoder settings and the evaluation sets: a checkpoint
copied or renamed is the same model, one retrained is not. The reference's key adds the code
version and the evaluation sets' content, so it is evaluated again exactly when the
evaluation (code or data) changed.
"""

from __future__ import annotations

import glob
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from hybridcore.analysis.nightly import REFERENCE
from hybridcore.config.provenance import code_version
from hybridcore.config.spec import RunSpec
from hybridcore.config.watch import Watched
from hybridcore.data.formats.registry import dataset_identity
from hybridcore.files import content_hash
from hybridcore.hubref import resolve_revision
from hybridcore.model.exposure import exposure_record
from hybridcore.model.pretraining import pretraining_languages
from hybridcore.model.resolve import resolve_model
from hybridcore.run.naming import run_fields
from hybridcore.run.pipeline import encoder_settings_for, model_identity, training_record

STEP = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class WatchedModel:
    """One model of a series: where it is (a folder, or ``hub-name@commit``), its step (for
    ``order="step"``) or revision, and when it appeared (the folder's time; for a hub
    revision, when the nightly first looked)."""

    series: str
    model: str
    label: str
    step: int | None
    revision: str | None
    appeared_at: str  # ISO 8601, UTC


def _newest_change(folder: Path) -> float:
    return max([folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.iterdir())])


def _folder_models(entry: Watched, folders: list[Path], settle: float, skipped: list[str]) -> list[WatchedModel]:
    found = []
    now = time.time()
    for folder in sorted(folders):
        if not (folder / "config.json").is_file() or not any(folder.glob("*.safetensors")):
            skipped.append(f"{entry.series}: {folder} is not a model folder (no config.json and safetensors weights)")
            continue
        changed = _newest_change(folder)
        if now - changed < settle:
            skipped.append(f"{entry.series}: {folder} changed {now - changed:.0f} s ago; left for the next night")
            continue
        step = STEP.search(folder.name)
        if entry.order == "step" and step is None:
            skipped.append(f"{entry.series}: {folder.name} has no step number at the end of its name")
            continue
        found.append(
            WatchedModel(
                entry.series,
                str(folder.resolve()),
                folder.name,
                int(step.group(1)) if step else None,
                None,
                datetime.fromtimestamp(changed, UTC).isoformat(),
            )
        )
    return found


def find_models(entry: Watched, settle: float) -> tuple[list[WatchedModel], list[str]]:
    """The models a watch entry names now, and one line per folder left aside (not a model,
    still being written, no step)."""
    skipped: list[str] = []
    if entry.folder is not None:
        root = Path(entry.folder)
        if not root.is_dir():
            return [], [f"{entry.series}: {root} is not a folder (yet)"]
        folders = [root] if (root / "config.json").is_file() else [p for p in root.iterdir() if p.is_dir()]
        return _folder_models(entry, folders, settle, skipped), skipped
    if entry.glob is not None:
        folders = [Path(p) for p in glob.glob(entry.glob) if Path(p).is_dir()]
        return _folder_models(entry, folders, settle, skipped), skipped
    assert entry.hub is not None  # the entry's validator allows no other case
    commit = resolve_revision(entry.hub, entry.revision, "model")
    return [
        WatchedModel(entry.series, f"{entry.hub}@{commit}", commit[:12], None, commit, datetime.now(UTC).isoformat())
    ], skipped


def watched_key(series: str, model: str, spec: RunSpec) -> str:
    """What makes a point of a series: the series, the model's weights, the encoder settings
    and the sets. The same weights in two series are a point of each (their evaluation is
    computed once: result folders are keyed by content)."""
    settings = encoder_settings_for(model, spec.encoder)
    identity = model_identity(model)
    return content_hash("watched", series, identity, settings.as_dict(), spec.candidate_context, spec.eval_sets)


def reference_key(spec: RunSpec) -> str:
    """The reference's: the same, plus the code version and the sets' content."""
    settings = encoder_settings_for(spec.model, spec.encoder)
    sets = [dataset_identity(s) for s in spec.eval_sets]
    return content_hash(
        "reference", model_identity(spec.model), settings.as_dict(), spec.candidate_context, sets, code_version()
    )


def watched_fields(spec: RunSpec, found: WatchedModel, base: str | None, night: str, kind: str) -> dict:
    """The store's description of a watched model's run: ``run_fields`` of the model, with
    the strategy and languages its ``training.json`` records (``watched`` and none without
    one), and the exposure card of ``base`` where given."""
    model_spec = replace(spec, model=found.model, strategies=())
    record = training_record(resolve_model(found.model)) or {}
    fields = run_fields(model_spec, None, night, record.get("train_languages", []), [])
    fields["strategy"] = "reference" if kind == REFERENCE else (record.get("config") or {}).get("strategy", "watched")
    if base is not None:
        fields["pretraining_languages"] = ",".join(pretraining_languages(base) or ()) or None
        fields["exposure"] = exposure_record(base)
    return fields
