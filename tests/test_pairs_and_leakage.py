"""Training examples from LAReQA and JSONL, and the zero-shot guard."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hybridcore.data.formats.lareqa import load_lareqa
from hybridcore.data.leakage import LeakageError, check_zero_shot, normalise
from hybridcore.data.pairs import TrainingExample, examples_from_lareqa, load_jsonl, split_by_group, write_jsonl
from hybridcore.errors import DataError


@pytest.fixture(scope="module")
def mlqa(shared_data):
    return load_lareqa("mlqa-r")


def test_examples_from_mlqa_r(mlqa):
    examples = examples_from_lareqa(mlqa)
    assert Counter(e.lang for e in examples) == Counter(q.lang for q in mlqa.questions)
    assert len({e.parallel_id for e in examples}) == 1148
    candidate_context = examples_from_lareqa(mlqa, candidate_context=True)
    assert all(e.positive in e.context for e in candidate_context)


def test_jsonl_round_trip(tmp_path):
    examples = [
        TrainingExample("p1", "en", "Who?", "Him.", ("Not him.",)),
        TrainingExample("p1", "de", "Wer?", "Er.", (), "Er. Ja."),
    ]
    assert load_jsonl(write_jsonl(examples, tmp_path / "train.jsonl")) == examples


@pytest.mark.parametrize(
    "line, message",
    [
        (
            '{"parallel_id": "p", "lang": "en", "query": "q"}',
            r"line 1: missing or empty string field\(s\) \['positive'\]",
        ),
        ('{"parallel_id": "p", "lang": "xx", "query": "q", "positive": "a"}', "line 1: 'xx' names no known language"),
        (
            '{"parallel_id": "p", "lang": "en", "query": "q", "positive": "a", "negatives": "n"}',
            "'negatives' must be a list",
        ),
        ('{"parallel_id": "p", "lang": "en", "query": "q", ', "line 1: malformed JSON"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(DataError, match=message):
        load_jsonl(path)


def test_duplicate_group_language_is_refused(tmp_path):
    row = {"parallel_id": "p", "lang": "en", "query": "q", "positive": "a"}
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=r"example 1 \(parallel_id p, lang en\)"):
        load_jsonl(path)


def test_validation_split_holds_out_whole_groups(mlqa):
    train, val = split_by_group(examples_from_lareqa(mlqa), 0.1, seed=3)
    assert not {e.parallel_id for e in train} & {e.parallel_id for e in val}
    assert 0.08 < len({e.parallel_id for e in val}) / 1148 < 0.12
    assert split_by_group(examples_from_lareqa(mlqa), 0.1, seed=3) == (train, val)


@pytest.mark.real
def test_real_questions_that_share_an_answer_stay_together(xquad, mlqa):
    import itertools

    from hybridcore.train.samplers import HybridStrategy, ParallelBatchSampler
    from tests.helpers import assert_no_shared_answer, positives_by_group

    # XQuAD-R: several SQuAD questions per answer sentence; none may meet in a batch
    examples = examples_from_lareqa(xquad)
    positives = positives_by_group(examples)
    shared = Counter(p for group in positives.values() for p in group)
    assert max(shared.values()) > 1  # the real data has such questions
    for batch in itertools.islice(ParallelBatchSampler(examples, HybridStrategy(0.5), 32, seed=42), 100):
        assert_no_shared_answer(batch, examples, positives)
    # MLQA-R: no validation answer is a training answer
    train, val = split_by_group(examples_from_lareqa(mlqa), 0.1, seed=42)
    assert not {(e.lang, e.positive) for e in train} & {(e.lang, e.positive) for e in val}


def test_normalisation():
    assert normalise("  What IS the\tcapital?! ") == normalise("what is the capital")
    assert normalise("Ｆｕｌｌ　ｗｉｄｔｈ") == "full width"


def test_guard_catches_copies_and_reports_counts(xquad):
    leaked = [
        TrainingExample("x1", "en", xquad.questions[0].text.upper() + "  ", "A fresh sentence."),
        TrainingExample("x2", "de", "Eine neue Frage?", " " + xquad.candidates[5].sentence),
    ]
    with pytest.raises(LeakageError, match="1 queries, 1 positives"):
        check_zero_shot(leaked, [xquad])
    reports = check_zero_shot(leaked, [xquad], allow_overlap=True)
    assert (reports[0].query_overlap, reports[0].passage_overlap) == (1, 1)
    assert reports[0].query_examples == (leaked[0].query,)


@pytest.mark.real
def test_mlqa_r_training_data_is_zero_shot_for_xquad_r(mlqa, xquad):
    reports = check_zero_shot(examples_from_lareqa(mlqa), [xquad])
    assert reports[0].clean


def test_hugging_face_dataset_with_the_same_columns(tmp_path):
    """The hf: path through `datasets.load_dataset`, here on a local dataset folder (no hub)."""
    from hybridcore.data.pairs import load_training_examples

    examples = [TrainingExample("p1", "en", "Who?", "Him."), TrainingExample("p1", "de", "Wer?", "Er.")]
    folder = tmp_path / "hf-set"
    folder.mkdir()
    write_jsonl(examples, folder / "train.jsonl")
    loaded = load_training_examples(f"hf:{folder}")
    assert [(e.parallel_id, e.lang, e.query, e.positive) for e in loaded] == [
        (e.parallel_id, e.lang, e.query, e.positive) for e in examples
    ]
