"""Tatoeba, the format added in one module: the real files load as published (112 pairs, each
with its own English side), bad files are refused with the file and line, a sample draws
queries and keeps every pool whole, and the real model's figures equal pytrec_eval's and come
close to mteb's published figures of the genuine multilingual-e5-small."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import pytrec_eval

from hybridcore.data.dataset import LoadOptions
from hybridcore.data.formats.registry import format_name, load_dataset
from hybridcore.data.formats.tatoeba import load_tatoeba
from hybridcore.errors import DataError

# Three pairs the model knows unevenly: Swahili, Kabyle, Mandarin
PAIRS = ("swh", "kab", "cmn")


def test_the_real_files_load_as_112_pairs_with_their_own_english(shared_data):
    data = load_dataset(shared_data / "tatoeba")
    assert format_name(shared_data / "tatoeba") == "tatoeba" and len(data.pairs) == 112
    assert len({p.lang for p in data.pairs}) == 112 and data.languages[0] == "en"
    by_code = {p.code: p for p in data.pairs}
    assert (by_code["swh"].lang, by_code["cmn"].lang, by_code["kzj"].lang, by_code["dtp"].lang) == (
        "sw",
        "zh",
        "dtp-x-kzj",
        "dtp",
    )
    assert min(len(p.texts) for p in data.pairs) == 104 and max(len(p.texts) for p in data.pairs) == 1000
    assert (
        by_code["afr"].english != by_code["amh"].english[: len(by_code["afr"].english)]
    )  # each pair its own English side
    # no sentence repeats within a pair in these files: every query has exactly its own line relevant
    assert all(p.relevant(line) == [line] for p in data.pairs for line in p.queries[:50])
    groups = data.groups()
    assert len(groups) == 224 and {g.setting for g in groups} == {"bitext"}
    assert sum(len(g.query_ids) for g in groups) == 2 * sum(len(p.texts) for p in data.pairs)


def test_a_sample_draws_queries_and_keeps_every_pool(shared_data):
    whole = load_dataset(shared_data / "tatoeba", LoadOptions(languages=("swa", "kzj")))
    sampled = load_dataset(f"{shared_data / 'tatoeba'}?languages=swa,kzj&sample=50")
    assert [p.lang for p in sampled.pairs] == ["sw", "dtp-x-kzj"]
    for pair, group in zip(sampled.pairs, sampled.groups()[::2]):
        assert len(pair.queries) == len(group.query_ids) == 50
        assert len(group.pool) == len(pair.texts)  # the whole English side of the pair
    assert [len(g.pool) for g in sampled.groups()] == [len(g.pool) for g in whole.groups()]


def test_bad_files_name_the_file_and_line(tmp_path):
    folder = tmp_path / "tatoeba"
    folder.mkdir()
    (folder / "tatoeba.swh-eng.swh").write_text("Habari.\nAsante.\n", encoding="utf-8")
    (folder / "tatoeba.swh-eng.eng").write_text("Hello.\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"tatoeba.swh-eng.eng: file: 1 lines where tatoeba.swh-eng.swh has 2"):
        load_tatoeba(folder)
    (folder / "tatoeba.swh-eng.eng").write_text("Hello.\n \n", encoding="utf-8")
    with pytest.raises(DataError, match=r"tatoeba.swh-eng.eng: line 2: empty sentence"):
        load_tatoeba(folder)
    (folder / "tatoeba.swh-eng.eng").unlink()
    with pytest.raises(DataError, match=r"tatoeba.swh-eng.eng: file: file not found"):
        load_tatoeba(folder)
    with pytest.raises(DataError, match=r"split: Tatoeba has one split"):
        load_tatoeba(folder, LoadOptions(split="dev"))


@pytest.fixture(scope="module")
def real_pairs(shared_data, real_encoder):
    data = load_dataset(shared_data / "tatoeba", LoadOptions(languages=PAIRS))
    return data, data.encode(real_encoder)


def test_real_figures_equal_pytrec_eval(real_pairs):
    data, (queries, candidates) = real_pairs
    evaluation = data.evaluate(queries, candidates)
    by_key = {(g.setting, g.query_lang, g.candidate_lang): g for g in evaluation.groups}
    measures = {
        "precision@1": ("P.1", "P_1"),
        "mrr@10": ("recip_rank", "recip_rank"),
        "ndcg@10": ("ndcg_cut.10", "ndcg_cut_10"),
    }
    for group in data.groups():
        ours = by_key[(group.setting, group.query_lang, group.candidate_lang)].per_query
        scores = queries[group.query_rows] @ candidates[group.pool].T
        qrels = {f"q{r}": {f"d{i}": 1 for i in rel} for r, rel in enumerate(group.relevant)}
        run = {f"q{r}": {f"d{i}": float(s) for i, s in enumerate(row)} for r, row in enumerate(scores)}
        reference = pytrec_eval.RelevanceEvaluator(qrels, {m for m, _ in measures.values()}).evaluate(run)
        for name, (_, key) in measures.items():
            expected = np.array([reference[f"q{r}"][key] for r in range(len(group.relevant))])
            if name == "mrr@10":
                expected = np.where(expected >= 0.1, expected, 0.0)
            assert np.allclose(ours[name], expected, atol=1e-5), (group.query_lang, group.candidate_lang, name)


def test_real_p_at_1_is_close_to_mteb_s_published_figures(real_pairs, shared_data):
    """mteb's accuracy is P@1 of the X sentences against the English ones. Our model is a
    4-bit rebuild of the genuine one: close where the language is well known (Mandarin,
    Swahili: within 0.05 here), further off where it is rare (Kabyle: 0.23 against 0.36),
    and the pairs rank the same way."""
    with (shared_data / "tatoeba-mteb-e5-small.tsv").open(encoding="utf-8") as handle:
        published = {row["hf_subset"]: float(row["accuracy"]) for row in csv.DictReader(handle, delimiter="\t")}
    data, embeddings = real_pairs
    evaluation = data.evaluate(*embeddings)
    ours = {
        p.code: next(g for g in evaluation.groups if g.query_lang == p.lang).mean("precision@1") for p in data.pairs
    }
    theirs = {code: published[f"{code}-eng"] for code in ours}
    assert abs(ours["cmn"] - theirs["cmn"]) < 0.05 and abs(ours["swh"] - theirs["swh"]) < 0.05, (ours, theirs)
    assert all(abs(ours[c] - theirs[c]) < 0.15 for c in ours), (ours, theirs)
    assert sorted(ours, key=ours.get) == sorted(theirs, key=theirs.get)
