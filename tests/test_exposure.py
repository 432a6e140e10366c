"""The exposure card: what the default model saw, by stage, as data with sources; the labels
it gives every language; and the evaluation sets it may have seen."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hybridcore.analysis.coverage import (
    CC100,
    DOCUMENTED,
    FINE_TUNING,
    NEVER,
    PRETRAINING,
    SUPERVISED,
    UNDOCUMENTED,
    UNKNOWN,
    Exposure,
    coverage,
    exposure_notes,
    label_figures,
    run_languages,
)
from hybridcore.errors import DataError
from hybridcore.languages import canonical_tag
from hybridcore.model.exposure import CARD_FILE, CARDS, exposure_card, exposure_record, read_card
from hybridcore.model.pretraining import XLM_R

MLQA_R = ["ar", "de", "en", "es", "hi", "vi", "zh"]
AFRIQA = ("hau", "swa", "yor", "ibo", "zul", "kin", "twi", "bem", "fon")


def test_every_stage_and_corpus_of_every_shipped_card_names_a_source():
    for path in CARDS.glob("*.json"):
        card = read_card(path)
        stages = {s.stage for s in card.stages}
        assert {"mlm_pretraining", "contrastive_pretraining", "supervised_retrieval"} <= stages, path
        for stage in card.stages:
            assert stage.source.strip() and all(c.source.strip() for c in stage.corpora), stage.name
        assert all(flag.source.strip() for flag in card.evaluation_sets)


def test_e5_small_labels_afriqa_languages_by_what_its_stages_document():
    """Not "never seen" any more: xP3, mC4 and NLLB document every AfriQA language in the
    contrastive pretraining, Swahili is in Mr. TyDi and MIRACL's training data."""
    exposure = Exposure.from_record(exposure_record("e5-small"))
    labels = {code: coverage(canonical_tag(code), MLQA_R, exposure) for code in AFRIQA}
    assert labels == {**{c: DOCUMENTED for c in AFRIQA}, "swa": SUPERVISED}
    assert coverage("te", MLQA_R, exposure) == SUPERVISED and coverage("de", MLQA_R, exposure) == FINE_TUNING
    assert coverage("yo", [], exposure) == DOCUMENTED  # MIRACL has no Yoruba training data
    assert coverage("kw", MLQA_R, exposure) == UNDOCUMENTED  # Cornish: in none of the documented lists
    # Hausa is in CC-100, mC4 and NLLB, not in xP3 (its training mix has no ha)
    record = exposure_record("e5-small")
    xp3 = next(f for f in record["evaluation_sets"] if f["dataset"] == "sib-200")["languages"]
    assert "ha" not in xp3 and "bem" not in xp3 and {"yo", "ig", "zu", "rw", "sw", "fon", "tw", "ak"} <= set(xp3)
    assert record["undocumented"] and all("(" in name for name in record["undocumented"])


def test_the_old_three_groups_stay_computable():
    old = Exposure.cc100(XLM_R)
    assert old.scheme == CC100
    labels = {code: coverage(canonical_tag(code), MLQA_R, old) for code in AFRIQA}
    assert labels == {"hau": PRETRAINING, "swa": PRETRAINING, **{c: NEVER for c in AFRIQA[2:]}}
    assert coverage("yo", MLQA_R, None) == UNKNOWN


def test_a_model_without_a_card_is_unknown_and_a_fine_tuned_one_inherits_its_base_card(tmp_path):
    assert exposure_record(tmp_path) is None and exposure_record("some/hub-model") is None
    trained = tmp_path / "trained"
    trained.mkdir()
    (trained / "training.json").write_text(
        json.dumps(
            {
                "spec": {"model": "e5-small", "train_set": "mlqa-r", "train": {"strategy": "hybrid"}},
                "train_languages": MLQA_R,
            }
        )
    )
    card = exposure_card(trained)
    assert card is not None and card.stages[-1].stage == "our_fine_tuning"
    assert card.stages[-1].corpora[0].languages == MLQA_R
    assert exposure_record(trained)["card"] == "multilingual-e5-small"


def test_a_bad_card_is_one_error_naming_the_file_and_field(tmp_path):
    good = json.loads((CARDS / "e5-small.json").read_text())
    good["stages"][0]["corpora"][0].pop("source")
    (tmp_path / CARD_FILE).write_text(json.dumps(good))
    with pytest.raises(DataError, match=r"exposure_card.json.*stages\.0\.corpora\.0\.source.*Field required"):
        exposure_record(tmp_path)
    (tmp_path / CARD_FILE).write_text("{not json")
    with pytest.raises(DataError, match="not JSON"):
        exposure_record(tmp_path)


def test_figures_of_a_possibly_seen_set_carry_its_flag():
    """SIB-200 is FLORES-200 dev/devtest, which xP3 trains on: its xP3 languages' figures are
    flagged, the others' not; XQuAD-R shares SQuAD's source in every language."""
    exposure = Exposure.from_record(json.dumps(exposure_record("e5-small")))
    figures = pd.DataFrame(
        {
            "dataset": ["sib-200", "sib-200", "sib-200-sampled-pool", "xquad-r", "afriqa"],
            "setting": ["bitext"] * 3 + ["mono", "native"],
            "query_lang": ["yo", "bem", "yo", "th", "ha"],
            "candidate_lang": ["en", "en", "en", "th", "en"],
            "metric": ["precision@1"] * 3 + ["map", "ndcg@10"],
            "value": [0.5] * 5,
        }
    )
    labelled = label_figures(figures, MLQA_R, exposure)
    assert list(labelled["flag"]) == ["possibly seen", "", "possibly seen", "same source", ""]
    assert exposure_notes("sib-200", exposure)[0].startswith("Possibly seen: SIB-200's sentences are FLORES-200")
    assert exposure_notes("afriqa", exposure) == [] and exposure_notes("sib-200", None) == []


def test_runs_record_their_card_and_labels_follow_the_chosen_scheme():
    runs = pd.DataFrame(
        {
            "seen_languages": [",".join(MLQA_R)],
            "pretraining_languages": [",".join(XLM_R)],
            "exposure": [exposure_record("e5-small")],
        }
    )
    fine_tuning, card = run_languages(runs)
    assert fine_tuning == set(MLQA_R) and card.label("yo") == DOCUMENTED
    _, old = run_languages(runs, CC100)
    assert old.label("yo") == NEVER
    _, none = run_languages(runs.assign(exposure=[None]))
    assert none is None
