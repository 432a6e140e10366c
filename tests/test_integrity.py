"""Nothing read back is trusted: every kind of file the product writes and reads again is
damaged here (bit flips, truncation) and must give the figures of an undamaged run, made
again, with one log line naming the file, or an error naming it."""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import pytest

from hybridcore.config.spec import EncoderSettings, TrainConfig, profile_spec
from hybridcore.data.pairs import TrainingExample, write_jsonl
from hybridcore.errors import DataError
from hybridcore.eval.results import load_evaluation
from hybridcore.files import folder_problem
from hybridcore.run import pipeline
from hybridcore.run.artifacts import localize, publish
from hybridcore.train.trainer import Trainer

SIB = "sib-200?languages=quick&split=test&sample=20"
FP32 = EncoderSettings(precision="fp32")


def flip_floats(path: Path, count: int = 2000) -> None:
    """Flip the sign of ``count`` float32 values in a safetensors file's data."""
    raw = bytearray(path.read_bytes())
    start = 8 + struct.unpack("<Q", raw[:8])[0]
    for i in range(min(count, (len(raw) - start) // 4)):
        raw[start + 4 * i + 3] ^= 0x80
    path.write_bytes(bytes(raw))


def flip_byte(path: Path, at: float = 0.5) -> None:
    raw = bytearray(path.read_bytes())
    raw[int(len(raw) * at)] ^= 0x01
    path.write_bytes(bytes(raw))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage(path: Path, how: str) -> None:
    {"flip": flip_byte, "truncate": truncate}[how](path)


def figures(folder: str) -> dict:
    frame = load_evaluation(folder).figures()
    return frame.set_index(["setting", "query_lang", "candidate_lang", "metric"])["value"].to_dict()


def warned_about(caplog, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and str(path) in r.getMessage()]


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("how", ["signs", "truncate"])
def test_a_damaged_embedding_is_encoded_again(tiny_model, shared_data, home, caplog, how):
    first = pipeline.evaluate_model(str(tiny_model), SIB, FP32)
    expected = figures(first.path)
    entry = max((home / "embeddings").rglob("*.safetensors"), key=lambda p: p.stat().st_size)
    flip_floats(entry) if how == "signs" else truncate(entry)
    Path(first.path, "summary.json").unlink()  # so the cache, not the result, is read

    again = pipeline.evaluate_model(str(tiny_model), SIB, FP32)
    assert again.tokens_encoded > 0 and figures(again.path) == expected
    assert len(warned_about(caplog, entry)) == 1
    third = pipeline.evaluate_model(str(tiny_model), SIB, FP32, use_cache=True)
    assert third.path == again.path and figures(third.path) == expected


@pytest.mark.parametrize(("name", "how"), [("per_query.parquet", "flip"), ("summary.json", "truncate")])
def test_a_damaged_result_folder_is_computed_again(tiny_model, shared_data, home, caplog, name, how):
    first = pipeline.evaluate_model(str(tiny_model), SIB, FP32)
    expected = figures(first.path)
    damage(Path(first.path, name), how)
    with pytest.raises(DataError, match=f"{name}"):
        load_evaluation(first.path)  # what the store reads: an error naming the file, never wrong figures

    again = pipeline.evaluate_model(str(tiny_model), SIB, FP32)
    assert again.seconds > 0 and figures(again.path) == expected
    assert len(warned_about(caplog, Path(first.path))) == 1


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_a_damaged_trained_model_is_trained_again_and_never_evaluated(tiny_model, shared_data, home, caplog, how):
    spec = profile_spec("quick", model=str(tiny_model), strategies=("mono",), steps=2, batch_size=4)
    data = pipeline.prepare_training_data(spec.train_set)
    trained = pipeline.train_model(spec, spec.arm("mono"), data)
    weights = Path(trained.path, "model.safetensors")
    healthy = weights.read_bytes()
    damage(weights, how)
    with pytest.raises(DataError, match="model.safetensors"):
        pipeline.evaluate_model(trained.path, SIB, FP32)

    again = pipeline.train_model(spec, spec.arm("mono"), data)
    assert not again.reused and again.path == trained.path and weights.read_bytes() == healthy
    assert len(warned_about(caplog, Path(trained.path))) == 1


@pytest.mark.parametrize("how", ["edit", "truncate"])
def test_damaged_prepared_data_is_prepared_again(home, tmp_path, caplog, how):
    examples = [
        TrainingExample(f"p{i}", lang, f"q {i} {lang}", f"a {i} {lang}") for i in range(20) for lang in ("de", "en")
    ]
    source = write_jsonl(examples, tmp_path / "s.jsonl")
    data = pipeline.prepare_training_data(str(source))
    prepared = Path(data.path)
    if how == "edit":  # still valid JSON Lines, other content
        prepared.write_text(prepared.read_text().replace('"q 3 de"', '"q 3 dx"'))
    else:
        truncate(prepared)
    assert [e.query for e in pipeline.load_prepared(data)] == [e.query for e in examples]
    assert len(warned_about(caplog, prepared)) == 1

    damage(prepared, "truncate")
    assert pipeline.prepare_training_data(str(source)) == data  # and preparing again rewrites it
    assert pipeline.examples_fingerprint(pipeline.load_prepared(data)) == data.fingerprint


def test_a_damaged_checkpoint_is_not_resumed_from(tiny_model, shared_data, tmp_path, caplog):
    from hybridcore.data.formats.lareqa import load_lareqa
    from hybridcore.data.pairs import examples_from_lareqa

    examples = examples_from_lareqa(load_lareqa("mlqa-r"))
    groups = set(sorted({e.parallel_id for e in examples})[:60])
    examples = [e for e in examples if e.parallel_id in groups]
    config = TrainConfig(batch_size=4, steps=4, checkpoint_every=2, validate_every=2, seed=7, query_max_length=16)

    class Interrupted(Exception):
        pass

    def stop_at_3(step: int) -> None:
        if step == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        Trainer(tiny_model, examples, config, tmp_path / "m", on_step=stop_at_3).train(progress=False)
    checkpoint = tmp_path / "m.work" / "checkpoint"
    assert folder_problem(checkpoint) is None
    flip_byte(checkpoint / "optimizer.safetensors")
    result = Trainer(tiny_model, examples, config, tmp_path / "m").train(progress=False)
    record = json.loads((result.model_dir / "training.json").read_text())
    assert record["resumed_from_step"] is None and result.steps_done == 4
    assert len(warned_about(caplog, tmp_path / "m.work")) == 1
    straight = Trainer(tiny_model, examples, config, tmp_path / "straight").train(progress=False)
    assert [h["loss"] for h in result.history] == [h["loss"] for h in straight.history]


def test_artifacts_are_checked_against_what_was_published(tiny_model, shared_data, tmp_path, monkeypatch, caplog):
    root = tmp_path / "shared-root"
    monkeypatch.setenv("HYBRID_EVAL_ARTIFACTS", f"file://{root}")
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "machine-1"))
    monkeypatch.setenv("HYBRID_EVAL_MACHINE", "machine-1")
    result = pipeline.evaluate_model(str(tiny_model), SIB, FP32)
    url = publish(result.path, "evaluations")
    marker = json.loads(Path(root, "evaluations", f"{Path(result.path).name}.complete").read_text())
    assert marker["machine"] == "machine-1" and len(marker["checksum"]) == 24
    expected = figures(result.path)

    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "machine-2"))
    monkeypatch.setenv("HYBRID_EVAL_MACHINE", "machine-2")
    local = localize(url)
    assert figures(str(local)) == expected
    flip_byte(local / "per_query.parquet")  # damaged in machine-2's cache: fetched again
    assert figures(str(localize(url))) == expected and len(warned_about(caplog, local)) == 1

    flip_byte(root / "evaluations" / Path(result.path).name / "per_query.parquet")  # damaged on the root
    flip_byte(local / "per_query.parquet")
    with pytest.raises(DataError, match="published by machine-1 .*after fetching it twice"):
        localize(url)

    # a single-file artifact: a truncated copy on the root is refused the same way
    data = pipeline.prepare_training_data("mlqa-r")
    file_url = publish(data.path, "data")
    truncate(root / "data" / Path(data.path).name)
    with pytest.raises(DataError, match="published by machine-2"):
        localize(file_url)


def test_the_issue_s_case_on_the_real_model_flipped_signs_would_change_bitext_p1(e5_path, shared_data, home, caplog):
    """The report of issue 23 on e5-small: 2,000 flipped signs in a cached SIB-200 embedding
    changed bitext P@1 silently. Read back unchecked, this damage changes the figure; checked,
    the texts are encoded again and the figure is the undamaged one."""
    from safetensors.numpy import load_file

    from hybridcore.data.formats.registry import load_dataset

    first = pipeline.evaluate_model(str(e5_path), SIB)
    expected = figures(first.path)
    entry = max((home / "embeddings").rglob("*.safetensors"), key=lambda p: p.stat().st_size)
    flip_floats(entry)
    damaged = load_file(str(entry))["embeddings"]  # what an unchecked cache would have handed back
    unchecked = figures_of(load_dataset(SIB).evaluate(damaged, damaged))
    assert unchecked != expected
    Path(first.path, "summary.json").unlink()

    again = pipeline.evaluate_model(str(e5_path), SIB)
    assert figures(again.path) == expected and len(warned_about(caplog, entry)) == 1


def figures_of(evaluation) -> dict:
    frame = evaluation.figures()
    return frame.set_index(["setting", "query_lang", "candidate_lang", "metric"])["value"].to_dict()
