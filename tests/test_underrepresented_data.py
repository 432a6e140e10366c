"""AfriQA and SIB-200 loaders: the real data's counts and alignment, its warts, and one clear
error (file, line, problem) for each kind of bad input, with nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hybridcore.data.dataset import LoadOptions
from hybridcore.data.formats.afriqa import load_afriqa
from hybridcore.data.formats.registry import dataset_identity, load_dataset, parse_reference
from hybridcore.data.formats.sib200 import SUBSETS, load_flores
from hybridcore.errors import DataError
from hybridcore.eval.pools import SAMPLED_POOL_CAVEAT, pool_caveat

REPO = Path(__file__).resolve().parents[1]


def test_afriqa_real_counts(shared_data):
    data = load_dataset("afriqa")
    assert len(data.passages) == 6191 and len(data.questions) == 3107  # of 3,111 test questions
    assert sum(data.left_out.values()) == 4
    per_lang = {lang: sum(q.lang == lang for q in data.questions) for lang in data.question_languages}
    assert per_lang["ha"] == 300 and per_lang["fon"] == 386
    assert {q.pivot for q in data.questions if q.lang == "fon"} == {"fr"} and {
        q.pivot for q in data.questions if q.lang != "fon"
    } == {"en"}
    # every question's gold passage is its own text in the pool
    assert all(data.passages[q.passage] for q in data.questions)
    dev = load_dataset("afriqa?split=dev&languages=twi")
    assert dev.left_out == {"tw": 20}  # 19 without a passage and the one NaN question: left out, not refused
    with pytest.raises(DataError, match="no 'dev' split"):
        load_dataset("afriqa?split=dev&languages=swa")


def test_sib200_real_alignment_and_subsets(shared_data):
    full = load_flores(shared_data / "sib-200")
    assert len(full.languages) == 205 and len(full.index_ids) == 1004 and len(set(full.languages)) == 205
    assert all(len(texts) == 1004 for texts in full.texts)
    quick = load_dataset("sib-200?languages=quick&split=test")
    assert len(quick.languages) == len(SUBSETS["quick"]) and len(quick.index_ids) == 204
    picked = load_dataset("sib-200?languages=swa,yo,zho_Hant")  # any spelling; English always comes along
    assert picked.languages == ("en", "sw", "yo", "zh-Hant") and picked.folders[1] == "swh_Latn"


def test_dataset_references_carry_load_options(shared_data):
    folder, options = parse_reference("sib-200?languages=quick&split=test")
    assert folder.name == "sib-200" and options == LoadOptions(languages=("quick",), split="test")
    assert dataset_identity("sib-200?languages=quick") != dataset_identity("sib-200")
    with pytest.raises(DataError, match="unknown option"):
        parse_reference("afriqa?lnaguages=hau")


def test_a_sample_draws_queries_and_keeps_every_candidate_of_the_pool(shared_data):
    """A sample is a fixed draw of queries, the same rows whatever loads them, ranked against
    the benchmark's whole pool: every group's pool is the whole set's."""
    full = load_dataset("afriqa")
    afriqa = load_dataset("afriqa?sample=100")
    assert {lang: sum(q.lang == lang for q in afriqa.questions) for lang in afriqa.question_languages} == {
        lang: 100 for lang in full.question_languages
    }
    assert afriqa.passages == full.passages and afriqa.name == "afriqa"
    assert set(afriqa.questions) <= set(full.questions)

    xquad, whole = load_dataset("xquad-r?sample=300"), load_dataset("xquad-r")
    ids = {q.id for q in xquad.questions}
    assert len(ids) == 300 and len(xquad.questions) == 300 * 11
    assert xquad.candidates == whole.candidates

    full_sib = load_dataset("sib-200?languages=quick&split=test")
    sib = load_dataset("sib-200?languages=quick&split=test&sample=100")
    assert sib.texts == full_sib.texts and sib.index_ids == full_sib.index_ids and len(sib.queries) == 100
    for data, everything in ((afriqa, full), (xquad, whole), (sib, full_sib)):
        pools = {(g.setting, g.query_lang, g.candidate_lang): len(g.pool) for g in everything.groups()}
        sampled = data.groups()
        assert {(g.setting, g.query_lang, g.candidate_lang): len(g.pool) for g in sampled} == pools
        assert all(len(g.query_rows) <= 300 for g in sampled if g.setting != "multi" or data is not xquad)

    assert load_dataset("afriqa?sample=100") == afriqa  # the same draw every time
    assert dataset_identity("xquad-r?sample=300") not in {
        dataset_identity("xquad-r"),
        dataset_identity("xquad-r?sample=200"),
        dataset_identity("xquad-r?sample=300&pool=sampled"),
    }
    for bad in ("0", "-3", "ten", "2.5"):
        with pytest.raises(DataError, match="positive whole number"):
            parse_reference(f"xquad-r?sample={bad}")


def test_a_sampled_pool_is_asked_for_and_named_so_its_figures_say_so(shared_data):
    """``pool=sampled`` (the quick smoke test's) shrinks the pool to the drawn queries'
    relevant candidates, and the dataset's name carries the caveat into every table."""
    full = load_dataset("afriqa")
    afriqa = load_dataset("afriqa?sample=100&pool=sampled")
    assert afriqa.name == "afriqa-sampled-pool" and pool_caveat(afriqa.name) == SAMPLED_POOL_CAVEAT
    assert {q.passage for q in afriqa.questions} == set(range(len(afriqa.passages)))
    gold = {q.id: full.passages[q.passage] for q in full.questions}
    assert all(afriqa.passages[q.passage] == gold[q.id] for q in afriqa.questions)

    xquad = load_dataset("xquad-r?sample=300&pool=sampled")
    assert {c.id for c in xquad.candidates} == {r for q in xquad.questions for r in q.relevant}
    assert xquad.questions == load_dataset("xquad-r?sample=300").questions  # the same draw of queries

    full_sib = load_dataset("sib-200?languages=quick&split=test")
    sib = load_dataset("sib-200?languages=quick&split=test&sample=100&pool=sampled")
    assert len(sib.index_ids) == 100 and sib.languages == full_sib.languages
    rows = [full_sib.index_ids.index(i) for i in sib.index_ids]
    assert rows == sorted(rows)
    assert all(
        sib.texts[lang][k] == full_sib.texts[lang][row]
        for lang in range(len(sib.languages))
        for k, row in enumerate(rows)
    )
    assert pool_caveat("afriqa") is None
    with pytest.raises(DataError, match="pool=sampled needs a sample"):
        parse_reference("xquad-r?pool=sampled")
    with pytest.raises(DataError, match="option 'pool' must be one of"):
        parse_reference("xquad-r?sample=3&pool=small")


# --- bad input ----------------------------------------------------------------------------


def _afriqa_copy(tmp_path: Path, shared_data: Path) -> Path:
    out = tmp_path / "afriqa"
    for lang in ("hau", "yor"):
        shutil.copytree(shared_data / "afriqa" / lang, out / lang)
    return out


@pytest.mark.parametrize(
    "problem, edit, message",
    [
        ("malformed line", lambda rows: rows[:2] + ["{not json"] + rows[3:], "line 3: malformed JSON"),
        (
            "missing field",
            lambda rows: (
                rows[:4]
                + [json.dumps({k: v for k, v in json.loads(rows[4]).items() if k != "question_translated"})]
                + rows[5:]
            ),
            "line 5: missing field",
        ),
        ("duplicate id", lambda rows: rows + [rows[0]], "duplicate question id"),
        (
            "not a string",
            lambda rows: [json.dumps({**json.loads(rows[0]), "context": 7})] + rows[1:],
            "line 1 (id 0): 'context' must be a string",
        ),
    ],
)
def test_afriqa_bad_input_names_file_and_line(tmp_path, shared_data, problem, edit, message):
    folder = _afriqa_copy(tmp_path, shared_data)
    path = folder / "hau" / "gold_span_passages.afriqa.hau.en.test.json"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(DataError) as err:
        load_afriqa(folder)
    assert str(path) in str(err.value) and message in str(err.value), problem


def test_afriqa_unrecognised_language_folder_and_file_name(tmp_path, shared_data):
    folder = _afriqa_copy(tmp_path, shared_data)
    (folder / "hau").rename(folder / "xyz")
    with pytest.raises(DataError, match="language folder.*names no known language"):
        load_afriqa(folder)
    (folder / "xyz").rename(folder / "ibo")
    with pytest.raises(DataError, match="language 'hau' but the folder is 'ibo'"):
        load_afriqa(folder)


def _flores_copy(tmp_path: Path, shared_data: Path) -> Path:
    out = tmp_path / "sib"
    for lang in ("eng_Latn", "yor_Latn", "swh_Latn"):
        shutil.copytree(shared_data / "sib-200" / lang, out / lang)
    return out


@pytest.mark.parametrize(
    "problem, edit, message",
    [
        ("header only", lambda lines: lines[:1], "header only"),
        (
            "ids disagree",
            lambda lines: lines[:3] + ["999999\tscience\tA sentence."] + lines[4:],
            "line 4: index_id 999999 where eng_Latn has",
        ),
        (
            "too few fields",
            lambda lines: lines[:2] + ["12\tscience"] + lines[3:],
            "line 3: expected 3 tab-separated fields",
        ),
        ("bad header", lambda lines: ["id\ttopic\ttext"] + lines[1:], "line 1: expected the header"),
        ("duplicate id", lambda lines: lines + [lines[1]], "sentences where eng_Latn has"),
    ],
)
def test_sib200_bad_input_names_file_and_line(tmp_path, shared_data, problem, edit, message):
    folder = _flores_copy(tmp_path, shared_data)
    path = folder / "yor_Latn" / "test.tsv"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(DataError) as err:
        load_flores(folder)
    assert str(path) in str(err.value) and message in str(err.value), problem


def test_sib200_duplicate_ids_within_a_language_and_unknown_folder(tmp_path, shared_data):
    folder = _flores_copy(tmp_path, shared_data)
    for lang in ("eng_Latn", "yor_Latn", "swh_Latn"):  # the same duplicate everywhere: aligned, still refused
        path = folder / lang / "test.tsv"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(DataError, match="duplicate index_id"):
        load_flores(folder)
    shutil.copytree(folder / "yor_Latn", folder / "xyz_Latn")
    with pytest.raises(DataError, match="xyz_Latn: language folder"):
        load_flores(folder)


def test_bad_input_stops_the_command_before_anything_is_written(tmp_path, shared_data):
    folder = _flores_copy(tmp_path, shared_data)
    (folder / "swh_Latn" / "dev.tsv").write_text("index_id\tcategory\ttext\n")
    home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "evaluate", "--dataset", str(folder), "--model", "no-such-model"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "HYBRID_EVAL_HOME": str(home)},
    )
    assert result.returncode == 2 and "swh_Latn/dev.tsv: file: header only" in result.stderr
    assert not (home / "evaluations").exists() and not (home / "store.duckdb").exists()
