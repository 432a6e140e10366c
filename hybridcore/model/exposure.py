"""What a model saw before we evaluate it, by training stage and with sources: its exposure card.

A card is data (``cards/<name>.json``, or ``exposure_card.json`` beside a model folder), read
and validated here: each stage (MLM pretraining, contrastive pretraining, supervised
retrieval training; our own fine-tuning is added from ``training.json``) names its corpora,
the languages documented for each (or ``"undocumented"``) and a source, and the card lists
the evaluation sets the model may have seen. ``exposure_record`` condenses a card into what
runs store and labels are computed from (``hybridcore.analysis.coverage``). A model without
a card has an unknown exposure (None), never a guessed one. Torch-free.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hybridcore.errors import DataError
from hybridcore.languages import canonical_tag

CARD_FILE = "exposure_card.json"
CARDS = Path(__file__).with_name("cards")
UNDOCUMENTED = "undocumented"
PRETRAINING_STAGES = ("mlm_pretraining", "contrastive_pretraining")
SUPERVISED_STAGE = "supervised_retrieval"
OUR_FINE_TUNING = "our_fine_tuning"
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _tags(value: object) -> object:
    """Language codes in any spelling as canonical tags, in order, once each."""
    if isinstance(value, list):
        return list(dict.fromkeys(canonical_tag(str(code)) for code in value))
    return value


class Corpus(_Strict):
    """One corpus of a stage: the languages documented for it, or ``"undocumented"``."""

    name: Text
    languages: list[str] | Literal["undocumented"]
    source: Text
    note: str = ""

    _canonical = field_validator("languages", mode="before")(_tags)


class Stage(_Strict):
    stage: Literal["mlm_pretraining", "contrastive_pretraining", "supervised_retrieval", "our_fine_tuning"]
    name: Text
    source: Text
    corpora: Annotated[list[Corpus], Field(min_length=1)]
    note: str = ""


class EvaluationExposure(_Strict):
    """An evaluation set the model may have seen: its items (``possibly seen``) or the source
    they come from (``same source``), for ``languages`` (None: every language of the set)."""

    dataset: Text
    kind: Literal["possibly seen", "same source"]
    what: Text
    languages: list[str] | None = None
    source: Text

    _canonical = field_validator("languages", mode="before")(_tags)


class ExposureCard(_Strict):
    model: Text
    names: list[str] = []  # how runs name the model (``e5-small``, a hub name)
    stages: Annotated[list[Stage], Field(min_length=1)]
    evaluation_sets: list[EvaluationExposure] = []
    note: str = ""

    def languages(self, stages: tuple[str, ...]) -> list[str]:
        """Every language documented for a corpus of the given stages."""
        found: dict[str, None] = {}
        for stage in self.stages:
            if stage.stage in stages:
                for corpus in stage.corpora:
                    if corpus.languages != UNDOCUMENTED:
                        found.update(dict.fromkeys(corpus.languages))
        return list(found)

    def undocumented(self) -> list[str]:
        """The corpora whose languages are not documented: why "no documented exposure" is
        not "never seen"."""
        return [f"{c.name} ({s.stage})" for s in self.stages for c in s.corpora if c.languages == UNDOCUMENTED]


def read_card(path: Path) -> ExposureCard:
    """A card file, validated: a bad one is a ``DataError`` naming the file and the field."""
    try:
        return ExposureCard.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as err:
        raise DataError(path, f"line {err.lineno}", f"not JSON: {err.msg}") from None
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "card"
        raise DataError(path, field, first["msg"]) from None


def known_cards() -> dict[str, Path]:
    """The cards this project ships, by every name they are known by."""
    found: dict[str, Path] = {}
    for path in sorted(CARDS.glob("*.json")):
        card = read_card(path)
        for name in (card.model, *card.names):
            found[name] = path
    return found


def card_path(model: str | Path) -> Path | None:
    """The card of ``model``: the one beside its folder, the shipped one of its name, or for
    a model this project fine-tuned, its base model's (None: no card)."""
    path = Path(model)
    if (path / CARD_FILE).is_file():
        return path / CARD_FILE
    if (shipped := known_cards().get(str(model))) is not None:
        return shipped
    base = _base_model(path)
    return card_path(base) if base is not None else None


def exposure_card(model: str | Path, path: Path | None = None) -> ExposureCard | None:
    """The model's card (the one at ``path``, found by ``card_path`` if not given), with our
    own fine-tuning as its last stage where it has one."""
    path = path or card_path(model)
    if path is None:
        return None
    card = read_card(path)
    training = Path(model) / "training.json"
    if not training.is_file():
        return card
    record = json.loads(training.read_text())
    ours = Stage(
        stage=OUR_FINE_TUNING,
        name=f"hybrid-eval fine-tuning ({record.get('spec', {}).get('train', {}).get('strategy', 'unknown strategy')})",
        source=str(training),
        corpora=[
            Corpus(
                name=str(record.get("spec", {}).get("train_set") or "its training set"),
                languages=list(record.get("train_languages", [])),
                source=str(training),
            )
        ],
    )
    return card.model_copy(update={"stages": [*card.stages, ours]})


def exposure_record(model: str | Path) -> dict | None:
    """What a run stores of its model's card (None: no card, so exposure is unknown): the
    languages of its supervised retrieval data and of its documented pretraining, the
    corpora without documented languages, the evaluation sets it may have seen, and the
    card's file and hash."""
    path = card_path(model)
    card = exposure_card(model, path) if path is not None else None
    if card is None or path is None:
        return None
    return {
        "card": card.model,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "supervised": card.languages((SUPERVISED_STAGE,)),
        "pretraining": card.languages(PRETRAINING_STAGES),
        "undocumented": card.undocumented(),
        "evaluation_sets": [flag.model_dump() for flag in card.evaluation_sets],
    }


def _base_model(path: Path) -> str | None:
    training = path / "training.json"
    if not training.is_file():
        return None
    base = json.loads(training.read_text()).get("spec", {}).get("model")
    return base if base and Path(base) != path else None
