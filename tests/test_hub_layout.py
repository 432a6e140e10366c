"""Retrieval sets in the mteb/BEIR hub layout load by name through ``datasets``; tested from
a local folder in that layout (README configurations, one folder per configuration)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hybridcore.data.formats.beir import export_beir, load_beir
from hybridcore.data.formats.lareqa import load_lareqa
from hybridcore.data.formats.registry import dataset_identity, format_name, load_dataset
from hybridcore.errors import DataError

README = """---
configs:
- config_name: de-corpus
  data_files:
  - split: test
    path: de-corpus/test.jsonl
- config_name: de-queries
  data_files:
  - split: test
    path: de-queries/test.jsonl
- config_name: de-qrels
  data_files:
  - split: test
    path: de-qrels/test.jsonl
---
"""


def _hub_folder(tmp_path: Path, beir: Path, qrels_rows: list[dict] | None = None) -> Path:
    """The BEIR folder's rows in the layout mteb publishes (``id`` fields, qrels as rows)."""
    out = tmp_path / "hub-set"
    for config in ("de-corpus", "de-queries", "de-qrels"):
        (out / config).mkdir(parents=True)
    corpus = [json.loads(line) for line in (beir / "corpus.jsonl").read_text().splitlines()]
    queries = [json.loads(line) for line in (beir / "queries.jsonl").read_text().splitlines()]
    (out / "de-corpus" / "test.jsonl").write_text(
        "".join(
            json.dumps({"id": r["_id"], "title": r["title"], "text": r["text"]}, ensure_ascii=False) + "\n"
            for r in corpus
        )
    )
    (out / "de-queries" / "test.jsonl").write_text(
        "".join(json.dumps({"id": r["_id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in queries)
    )
    if qrels_rows is None:
        lines = (beir / "qrels" / "test.tsv").read_text().splitlines()[1:]
        qrels_rows = [
            dict(zip(("query-id", "corpus-id", "score"), (q, d, int(s))))
            for q, d, s in (line.split("\t") for line in lines)
        ]
    (out / "de-qrels" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in qrels_rows))
    (out / "README.md").write_text(README)
    return out


@pytest.fixture(scope="module")
def beir_de(tmp_path_factory, shared_data) -> Path:
    return export_beir(load_lareqa("xquad-r", ["de"]), tmp_path_factory.mktemp("beir") / "de", "de")


def test_hub_layout_loads_the_same_set_as_its_beir_folder(tmp_path, beir_de):
    folder = _hub_folder(tmp_path, beir_de)
    from_hub = load_dataset(f"hf:{folder}?lang=deu")  # any spelling of the language
    from_beir = load_beir(beir_de)
    assert replace(from_hub, name=from_beir.name) == from_beir and from_hub.lang == "de"
    assert len(from_hub.query_ids) == 1190 and format_name(f"hf:{folder}?lang=de") == "hub"
    assert dataset_identity(f"hf:{folder}?lang=de") != dataset_identity(f"hf:{folder}?lang=de&split=dev")


def test_hub_layout_bad_input_is_a_clear_error(tmp_path, beir_de):
    folder = _hub_folder(tmp_path, beir_de, qrels_rows=[{"query-id": "nope", "corpus-id": "x", "score": 1}])
    with pytest.raises(DataError, match="de-qrels row 0: unknown query id 'nope'"):
        load_dataset(f"hf:{folder}?lang=de")
    with pytest.raises(DataError, match="give the language"):
        load_dataset(f"hf:{folder}")
