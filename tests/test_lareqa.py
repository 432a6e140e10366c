"""LAReQA loader on the real data, and a clear error for every kind of bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hybridcore.data.formats.lareqa import load_lareqa
from hybridcore.errors import DataError

XQUAD_CANDIDATES = {
    "ar": 1222,
    "de": 1276,
    "el": 1234,
    "en": 1180,
    "es": 1215,
    "hi": 1244,
    "ru": 1219,
    "th": 852,
    "tr": 1167,
    "vi": 1209,
    "zh": 1196,
}
MLQA_QUESTIONS = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}


def test_xquad_r_counts_match_the_published_set(xquad):
    assert xquad.languages == tuple(sorted(XQUAD_CANDIDATES))
    assert Counter(c.lang for c in xquad.candidates) == XQUAD_CANDIDATES
    assert Counter(q.lang for q in xquad.questions) == {lang: 1190 for lang in XQUAD_CANDIDATES}
    assert len({c.id for c in xquad.candidates}) == len(xquad.candidates)  # globally unique


def test_xquad_r_question_is_relevant_to_its_answer_in_every_language(xquad):
    by_id = {c.id: c for c in xquad.candidates}
    for q in xquad.questions:
        assert sorted(by_id[r].lang for r in q.relevant) == sorted(XQUAD_CANDIDATES)
    # the answer sentence holds the answer text (checked on English, where it is verbatim);
    # a few answers run past the data's own sentence breaks ("E.I. | du Pont"), so: nearly all
    raw = json.loads((Path(xquad.files["en"])).read_text())
    answers = {qa["id"]: qa["answers"][0]["text"] for a in raw["data"] for p in a["paragraphs"] for qa in p["qas"]}
    english = xquad.questions_in("en")
    held = sum(answers[q.id] in next(by_id[r].sentence for r in q.relevant if by_id[r].lang == "en") for q in english)
    assert held >= 0.99 * len(english)


def test_mlqa_r_is_partly_parallel(shared_data):
    mlqa = load_lareqa("mlqa-r")
    assert Counter(q.lang for q in mlqa.questions) == MLQA_QUESTIONS
    widths = Counter(len(q.relevant) for q in mlqa.questions)
    assert set(widths) <= {2, 3, 4} and len(widths) > 1


def test_language_subset_and_missing_language(shared_data):
    two = load_lareqa("xquad-r", ["en", "th"])
    assert two.languages == ("en", "th")
    assert all(len(q.relevant) == 2 for q in two.questions)
    with pytest.raises(DataError, match=r"requested languages: 'xx' names no known language"):
        load_lareqa("xquad-r", ["en", "xx"])
    with pytest.raises(DataError, match=r"no 'swa' \(sw\) here"):
        load_lareqa("xquad-r", ["swa"])


# --- bad input ---------------------------------------------------------------------------------

GOOD_PARAGRAPH = {
    "context": "First sentence here. Second one there.",
    "sentences": ["First sentence here.", "Second one there."],
    "sentence_breaks": [[0, 20], [21, 38]],
    "qas": [{"id": "q1", "question": "Which one?", "answers": [{"text": "Second", "answer_start": 21}]}],
}


def write_set(tmp_path: Path, paragraph: dict | str, lang: str = "en") -> Path:
    folder = tmp_path / "set"
    folder.mkdir(exist_ok=True)
    body = (
        paragraph if isinstance(paragraph, str) else json.dumps({"data": [{"title": "t", "paragraphs": [paragraph]}]})
    )
    (folder / f"{lang}.json").write_text(body)
    return folder


def test_good_minimal_set(tmp_path):
    data = load_lareqa(write_set(tmp_path, GOOD_PARAGRAPH))
    assert [c.sentence for c in data.candidates] == GOOD_PARAGRAPH["sentences"]
    assert data.questions[0].relevant == (data.candidates[1].id,)


def test_malformed_json_names_file_and_position(tmp_path):
    folder = write_set(tmp_path, '{"data": [ {"title": "t",, }]}')
    with pytest.raises(DataError, match=r"en\.json: line 1 column \d+: malformed JSON"):
        load_lareqa(folder)


@pytest.mark.parametrize("field", ["sentences", "sentence_breaks"])
def test_missing_sentence_fields(tmp_path, field):
    bad = {k: v for k, v in GOOD_PARAGRAPH.items() if k != field}
    with pytest.raises(DataError, match=rf"en\.json: data\[0\]\.paragraphs\[0\]: missing '{field}'"):
        load_lareqa(write_set(tmp_path, bad))


def test_answer_outside_every_sentence(tmp_path):
    bad = json.loads(json.dumps(GOOD_PARAGRAPH))
    bad["sentence_breaks"] = [[0, 20], [22, 38]]  # character 21 falls between the spans
    bad["qas"][0]["answers"][0]["answer_start"] = 21
    with pytest.raises(DataError, match=r"qas\[0\] \(id q1\): answer_start 21 lies outside every sentence"):
        load_lareqa(write_set(tmp_path, bad))


def test_duplicate_question_id(tmp_path):
    bad = json.loads(json.dumps(GOOD_PARAGRAPH))
    bad["qas"].append(dict(bad["qas"][0]))
    with pytest.raises(DataError, match=r"qas\[1\] \(id q1\): duplicate question id"):
        load_lareqa(write_set(tmp_path, bad))


def test_unknown_language_code(tmp_path):
    with pytest.raises(DataError, match=r"xx\.json: file name: 'xx' names no known language"):
        load_lareqa(write_set(tmp_path, GOOD_PARAGRAPH, lang="xx"))


def test_sentence_and_break_counts_must_agree(tmp_path):
    bad = dict(GOOD_PARAGRAPH, sentence_breaks=[[0, 20]])
    with pytest.raises(DataError, match="2 sentences but 1 sentence_breaks"):
        load_lareqa(write_set(tmp_path, bad))


def test_missing_dataset_names_the_setting(tmp_path):
    with pytest.raises(FileNotFoundError, match="HYBRID_EVAL_DATA_DIR"):
        load_lareqa("no-such-set")
