"""BEIR format: export real XQuAD-R, load it back, evaluate it; bad input errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridcore.data.formats.beir import export_beir, load_beir
from hybridcore.data.formats.lareqa import RetrievalSet
from hybridcore.data.formats.registry import load_dataset
from hybridcore.errors import DataError


def test_export_and_load_round_trip(xquad, tmp_path):
    folder = export_beir(xquad, tmp_path / "xq-de", "de")
    data = load_beir(folder)
    assert data.lang == data.query_lang == "de"
    assert len(data.doc_ids) == 1276 and len(data.query_ids) == 1190
    assert sum(len(v) for v in data.qrels.values()) == 1190
    assert (folder / "qrels" / "test.tsv").read_text().splitlines()[0] == "query-id\tcorpus-id\tscore"
    with pytest.raises(DataError, match="cannot be sampled"):
        load_dataset(f"{folder}?sample=10")


def test_cross_language_export_records_both_languages(xquad, tmp_path):
    data = load_beir(export_beir(xquad, tmp_path / "xq-en-th", "en", "th"))
    assert (data.query_lang, data.lang) == ("en", "th")
    assert all(d.split(":")[1] == "th" for docs in data.qrels.values() for d in docs)


@pytest.mark.real
def test_beir_path_equals_the_monolingual_setting(xquad_small, e5_path, tmp_path):
    """The same questions and sentences through either path give the same figures (fp32:
    in bf16 a text's vector moves slightly with the batch it is padded into)."""
    from hybridcore.config.spec import EncoderSettings
    from hybridcore.model.encoder import Encoder

    encoder = Encoder(str(e5_path), EncoderSettings(precision="fp32"))
    thai = RetrievalSet("xquad-r", tuple(xquad_small.questions_in("th")), tuple(xquad_small.candidates_in("th")))
    lareqa = thai.evaluate(*thai.encode(encoder, candidate_context=False))
    beir = load_beir(export_beir(xquad_small, tmp_path / "th", "th"))
    result = beir.evaluate(*beir.encode(encoder))
    group = result.groups[0]
    mono_th = next(g for g in lareqa.groups if g.setting == "mono" and g.query_lang == "th")
    assert len(group.query_ids) == len(mono_th.query_ids)
    assert group.mean("map") == pytest.approx(mono_th.mean("map"), abs=1e-6)
    assert group.mean("ndcg@10") == pytest.approx(mono_th.mean("ndcg@10"), abs=1e-6)
    assert set(result.summary()["beir"]) == {"ndcg@10", "recall@100", "mrr@10", "map"}


def test_graded_qrels_and_unjudged_queries(tmp_path):
    folder = make_beir(tmp_path, qrels=[("q1", "d1", 2), ("q1", "d2", 1), ("q2", "d2", 0)])
    data = load_beir(folder, "en")
    emb_q = np.eye(3, dtype=np.float32)[:2]
    emb_d = np.eye(3, dtype=np.float32)
    result = data.evaluate(emb_q, emb_d)
    assert result.groups[0].query_ids == ("q1",)  # q2 has only a zero grade: not judged relevant


def make_beir(tmp_path, corpus=None, queries=None, qrels=None, header=True):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    corpus = corpus if corpus is not None else [{"_id": f"d{i}", "title": "", "text": f"doc {i}"} for i in range(3)]
    queries = queries if queries is not None else [{"_id": "q1", "text": "one"}, {"_id": "q2", "text": "two"}]
    qrels = qrels if qrels is not None else [("q1", "d1", 1)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" if isinstance(r, dict) else r for r in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))
    rows = (["query-id\tcorpus-id\tscore"] if header else []) + ["\t".join(map(str, r)) for r in qrels]
    (folder / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n")
    return folder


def test_qrels_naming_unknown_query(tmp_path):
    folder = make_beir(tmp_path, qrels=[("q9", "d1", 1)])
    with pytest.raises(DataError, match=r"test\.tsv: line 2: unknown query id 'q9'"):
        load_beir(folder, "en")


def test_qrels_naming_unknown_document(tmp_path):
    folder = make_beir(tmp_path, qrels=[("q1", "d1", 1), ("q1", "d7", 1)])
    with pytest.raises(DataError, match=r"test\.tsv: line 3: unknown corpus id 'd7'"):
        load_beir(folder, "en")


def test_malformed_corpus_line(tmp_path):
    folder = make_beir(tmp_path, corpus=[{"_id": "d0", "text": "ok"}, '{"_id": "d1", "text": \n'])
    with pytest.raises(DataError, match=r"corpus\.jsonl: line 2: malformed JSON"):
        load_beir(folder, "en")


def test_duplicate_document_id(tmp_path):
    folder = make_beir(tmp_path, corpus=[{"_id": "d1", "text": "a"}, {"_id": "d1", "text": "b"}])
    with pytest.raises(DataError, match=r"corpus\.jsonl: line 2 \(_id d1\): duplicate corpus id"):
        load_beir(folder, "en")


def test_unknown_or_missing_language(tmp_path):
    folder = make_beir(tmp_path)
    with pytest.raises(DataError, match="'english' is not a language tag"):
        load_beir(folder, "english")
    with pytest.raises(DataError, match="no language given"):
        load_beir(folder)


def test_qrels_with_only_a_header_is_an_error(tmp_path):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "a passage"}\n')
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "a question"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    (folder / "hybrid-eval.json").write_text('{"language": "en"}')
    with pytest.raises(DataError, match=r"qrels/test.tsv: qrels: no relevance judgement"):
        load_beir(folder)
