"""A dataset format defined and registered here, in a test module, works end to end without
an edit anywhere else: the command line evaluates it, the run is stored, and the dashboard
shows its figures.

The format: a folder with ``pairs.tsv``, lines ``lang<TAB>question<TAB>answer``; each question's
answer is relevant, and every language is one monolingual group (its questions against its
answers). The rows are real: XQuAD-R questions with their answer sentences.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hybridcore.data.dataset import DatasetFormat, GuardTexts, LoadOptions
from hybridcore.data.registry import FORMATS, register
from hybridcore.errors import DataError
from hybridcore.eval.results import Evaluation, GroupScores
from hybridcore.eval.settings import score_groups

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@dataclass(frozen=True)
class PairsData:
    name: str
    rows: tuple[tuple[str, str, str], ...]  # (lang, question, answer)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for lang, _, _ in self.rows}))

    def encode(self, encoder, candidate_context: bool = True, progress: bool = False):
        return (encoder.encode_queries([q for _, q, _ in self.rows]),
                encoder.encode_passages([a for _, _, a in self.rows]))

    def evaluate(self, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
        groups = []
        for lang in self.languages:
            rows = np.array([i for i, (x, _, _) in enumerate(self.rows) if x == lang])
            per_query = score_groups(queries[rows], candidates[rows], [[i] for i in range(len(rows))], ["map", "recall@1"])
            groups.append(GroupScores("mono", lang, lang, tuple(f"{lang}-{i}" for i in range(len(rows))), per_query))
        return Evaluation(self.name, tuple(groups))

    def write_trec(self, queries, candidates, folder, run_name):
        raise NotImplementedError("this test format writes no TREC files")

    def guard_texts(self) -> GuardTexts:
        return GuardTexts(tuple(q for _, q, _ in self.rows), tuple(a for _, _, a in self.rows))


def load_pairs(folder: Path, options: LoadOptions) -> PairsData:
    path = folder / "pairs.tsv"
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, fields in enumerate(csv.reader(handle, delimiter="\t"), 1):
            if len(fields) != 3:
                raise DataError(path, f"line {line_no}", f"expected 3 tab-separated fields, got {len(fields)}")
            rows.append(tuple(fields))
    return PairsData(folder.name, tuple(rows))


@pytest.fixture()
def pairs_format():
    fmt = register(DatasetFormat("test-pairs", lambda folder: (folder / "pairs.tsv").is_file(), load_pairs))
    yield fmt
    FORMATS.pop(fmt.name)


@pytest.fixture()
def pairs_folder(tmp_path, xquad_small) -> Path:
    by_id = {c.id: c for c in xquad_small.candidates}
    folder = tmp_path / "xquad-pairs"
    folder.mkdir()
    with (folder / "pairs.tsv").open("w", encoding="utf-8") as handle:
        for lang in ("en", "de"):
            for q in xquad_small.questions_in(lang)[:40]:
                answer = next(by_id[r] for r in q.relevant if by_id[r].lang == lang)
                handle.write(f"{lang}\t{q.text}\t{answer.sentence}\n")
    return folder


def test_a_format_registered_here_is_evaluated_stored_and_shown(pairs_format, pairs_folder, tiny_model, tmp_path, monkeypatch):
    from flows.cli import app

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    monkeypatch.setenv("HYBRID_EVAL_DB_URL", url)
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_model), "--dataset", str(pairs_folder),
                                      "--precision", "fp32"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Mo" in result.output and "mAP" in result.output
    run = result.output.split("stored as run ")[1].split()[0]

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["name"] == run].iloc[0]
    assert row["strategy"] == "reference" and row["status"] == "completed"
    folder = Path(result.output.split("all figures: ")[1].split()[0])
    stored = json.loads((folder / "summary.json").read_text())
    assert stored["format"] == "test-pairs" and 0 < row["Mo mAP"] <= 1
    assert row["Mo mAP"] == pytest.approx(stored["summary"]["mono"]["map"])  # the dashboard shows the computed figure


def test_bad_input_in_the_registered_format_names_the_file_and_line(pairs_format, tmp_path, tiny_model):
    import subprocess
    import sys

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "pairs.tsv").write_text("en\tonly two fields\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.tsv: line 1: expected 3 tab-separated fields"):
        from hybridcore.data.registry import load_dataset

        load_dataset(folder)
    # another process does not know the format: it says so instead of guessing
    done = subprocess.run([sys.executable, "-m", "flows.cli", "evaluate", "--model", str(tiny_model), "--dataset", str(folder)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not a dataset in any known format" in done.stderr
