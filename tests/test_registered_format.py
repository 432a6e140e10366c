"""A dataset format defined and registered here, in a test module, with a setting and a
headline figure of its own, works end to end without an edit anywhere else: the command line
evaluates it, the run is stored, and the printed summary, the dashboard's Runs view and the
report show its figure under the label its metadata declares.

The format: a folder with ``pairs.tsv``, lines ``lang<TAB>question<TAB>answer``; each question's
answer is relevant, and every language is one group of the ``pair-match`` setting (its
questions against its answers). The rows are real: XQuAD-R questions with their answer sentences.
"""

from __future__ import annotations

import ast
import csv
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, LoadOptions
from hybridcore.data.formats.metadata import Figure, FormatMetadata, Setting
from hybridcore.data.formats.registry import register, unregister
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
METADATA = FormatMetadata(
    name="test-pairs",
    description="question-answer pairs per language, a test format",
    settings=(Setting("pair-match", "Pm", ("map", "recall@1"), "each language's questions against its answers"),),
    headlines=(Figure("pair-match", "recall@1"),),
)
LABEL = "Pm R@1"  # the headline figure's label: the setting's label, then the metric's


@dataclass(frozen=True)
class PairsData(Evaluable):
    name: str
    rows: tuple[tuple[str, str, str], ...]  # (lang, question, answer)

    metadata = METADATA

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for lang, _, _ in self.rows}))

    def encode(self, encoder, candidate_context: bool = True, progress: bool = False):
        return (
            encoder.encode_queries([q for _, q, _ in self.rows]),
            encoder.encode_passages([a for _, _, a in self.rows]),
        )

    def groups(self) -> list[Group]:
        groups = []
        for lang in self.languages:
            rows = np.array([i for i, (x, _, _) in enumerate(self.rows) if x == lang])
            groups.append(
                Group(
                    "pair-match",
                    lang,
                    lang,
                    rows,
                    tuple(f"{lang}-{i}" for i in range(len(rows))),
                    rows,
                    [[i] for i in range(len(rows))],
                )
            )
        return groups

    def candidate_ids(self) -> list[str]:
        return [f"a{i}" for i in range(len(self.rows))]

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
    fmt = register(DatasetFormat(METADATA, lambda folder: (folder / "pairs.tsv").is_file(), load_pairs))
    yield fmt
    unregister(fmt.name)


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


def test_a_format_registered_here_is_evaluated_stored_and_shown(
    pairs_format, pairs_folder, tiny_model, tmp_path, monkeypatch
):
    from flows.cli import app
    from flows.report import experiment_report
    from flows.summary import experiment_summary

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    monkeypatch.setenv("HYBRID_EVAL_DB_URL", url)
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model),
            "--dataset",
            str(pairs_folder),
            "--precision",
            "fp32",
            "--trec-dir",
            str(tmp_path / "trec"),
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Pm" in result.output and "mAP" in result.output
    run = result.output.split("stored as run ")[1].split()[0]
    assert sorted(p.name for p in (tmp_path / "trec").iterdir()) == ["pair-match.qrels", "pair-match.run"]

    folder = Path(result.output.split("all figures: ")[1].split()[0])
    stored = json.loads((folder / "summary.json").read_text())
    expected = stored["summary"]["pair-match"]["recall@1"]
    assert stored["format"] == "test-pairs" and 0 < expected <= 1

    experiment = run.rsplit("/", 1)[0]
    summary = experiment_summary(experiment, url)
    assert LABEL in summary and f"{expected:.3f}" in summary

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["name"] == run].iloc[0]
    assert row["strategy"] == "reference" and row["status"] == "completed"
    assert row[LABEL] == pytest.approx(expected)  # the dashboard shows the computed figure

    html, markdown = experiment_report(experiment, url, tmp_path / "report")
    assert LABEL in html.read_text() and f"{expected:.3f}" in markdown.read_text()


def test_bad_input_in_the_registered_format_names_the_file_and_line(pairs_format, tmp_path, tiny_model):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "pairs.tsv").write_text("en\tonly two fields\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.tsv: line 1: expected 3 tab-separated fields"):
        from hybridcore.data.formats.registry import load_dataset

        load_dataset(folder)
    # another process does not know the format: it says so instead of guessing
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "evaluate", "--model", str(tiny_model), "--dataset", str(folder)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "not a dataset in any known format" in done.stderr


def test_installed_formats_are_known_in_every_process():
    """The formats the package declares as entry points are known in a fresh process, with
    their metadata; a format only ``register``ed here is not."""
    code = (
        "from hybridcore.data.formats.registry import formats; "
        "print(sorted((name, fmt.metadata.name) for name, fmt in formats().items()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names = [name for name, _ in ast.literal_eval(done.stdout)]
    assert {"afriqa", "beir", "lareqa", "sib-200", "tatoeba"} <= set(names) and "test-pairs" not in names


def test_metadata_is_checked_when_declared():
    with pytest.raises(ValueError, match="figure pair-match ndcg@10 is not among its settings' metrics"):
        FormatMetadata("bad", "", METADATA.settings, (Figure("pair-match", "ndcg@10"),))
    with pytest.raises(ValueError, match="unknown or missing metrics"):
        FormatMetadata("bad", "", (Setting("s", "S", ("recall@ten",), ""),), (Figure("s", "recall@ten"),))
    clash = FormatMetadata("clash", "", (Setting("mono", "Monolingual", ("map",), ""),), (Figure("mono", "map"),))
    with pytest.raises(ValueError, match="a stored setting must mean one thing"):
        register(DatasetFormat(clash, lambda folder: False, load_pairs))
    unregister("clash")
