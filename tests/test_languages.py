"""Language tags across datasets' spellings, and coverage labels."""

from __future__ import annotations

import pytest

from hybridcore.analysis.coverage import (
    FINE_TUNING,
    NEVER,
    PRETRAINING,
    UNKNOWN,
    Exposure,
    coverage,
    group_coverage,
    group_language,
)
from hybridcore.errors import DataError
from hybridcore.languages import canonical_tag, is_among, language_tag, same_language
from hybridcore.model.pretraining import XLM_R, pretraining_languages

MLQA_R = ["ar", "de", "en", "es", "hi", "vi", "zh"]
CC_100 = Exposure.cc100(XLM_R)  # the old three groups, kept computable


@pytest.mark.parametrize(
    "codes, tag",
    [
        (["sw", "swa", "swh", "swh_Latn", "swh-Latn"], "sw"),
        (["zh", "zho", "zho_Hans", "zh-Hans"], "zh"),
        (["ar", "ara", "arb", "arb_Arab"], "ar"),
        (["zho_Hant", "zh-Hant"], "zh-Hant"),
        (["arb_Latn"], "ar-Latn"),
        (["hau", "hau_Latn", "ha"], "ha"),
        (["yor", "yor_Latn"], "yo"),
        (["twi", "twi_Latn"], "tw"),
        (["aka_Latn", "ak"], "ak"),
        (["bem", "bem_Latn"], "bem"),
        (["fon", "fon_Latn"], "fon"),
    ],
)
def test_spellings_of_one_language_share_a_tag(codes, tag):
    assert {canonical_tag(code) for code in codes} == {tag}


def test_same_language_respects_script_and_distinct_languages():
    assert same_language("zh", "zho_Hans") and not same_language("zh", "zho_Hant")
    assert same_language("ar", "arb_Arab") and not same_language("ar", "arb_Latn")
    assert not same_language("twi_Latn", "aka_Latn")  # FLORES keeps Twi and Akan apart
    assert is_among("swh_Latn", ["en", "sw"]) and not is_among("yor_Latn", MLQA_R)


@pytest.mark.parametrize("code", ["xx", "qqq", "zzz", "english", ""])
def test_unknown_codes_are_a_clear_error(code, tmp_path):
    with pytest.raises(DataError, match="language") as err:
        language_tag(code, tmp_path / "file.json", "line 3")
    assert str(tmp_path / "file.json") in str(err.value) and "line 3" in str(err.value)


def test_e5_small_coverage_of_afriqa_languages_after_mlqa_r():
    assert pretraining_languages("e5-small") == XLM_R and len(XLM_R) == 101  # XLM-R's 100, Norwegian as nb and nn
    labels = {
        code: coverage(canonical_tag(code), MLQA_R, CC_100)
        for code in ("hau", "swa", "yor", "ibo", "zul", "kin", "twi", "bem", "fon")
    }
    assert labels == {
        "hau": PRETRAINING,
        "swa": PRETRAINING,
        **{c: NEVER for c in ("yor", "ibo", "zul", "kin", "twi", "bem", "fon")},
    }
    assert coverage("en", MLQA_R, CC_100) == FINE_TUNING and coverage("zho_Hans", MLQA_R, CC_100) == FINE_TUNING
    assert coverage("yo", MLQA_R, None) == UNKNOWN and coverage("de", MLQA_R, None) == FINE_TUNING


def test_a_pair_is_labelled_and_named_by_its_less_covered_side():
    assert group_coverage("en", "yo", MLQA_R, CC_100) == NEVER and group_language("en", "yo", MLQA_R, CC_100) == "yo"
    assert (
        group_coverage("ha", "en", MLQA_R, CC_100) == PRETRAINING and group_language("ha", "en", MLQA_R, CC_100) == "ha"
    )
    assert group_language("en", "de", MLQA_R, CC_100) == "de" and group_coverage("yo", "all", MLQA_R, CC_100) == NEVER


def test_pretraining_languages_from_a_file_beside_the_model_or_unknown(tmp_path):
    (tmp_path / "pretraining_languages.json").write_text('{"languages": ["eng_Latn", "swa", "yo"], "source": "test"}')
    assert pretraining_languages(tmp_path) == ("en", "sw", "yo")
    assert pretraining_languages(tmp_path / "elsewhere") is None and pretraining_languages("some/hub-model") is None
