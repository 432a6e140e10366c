"""The pipeline steps that the command line and the flows share: a trained model is evaluated
the way it was trained, dataset identities cover what they read, and the zero-shot guard
checks every evaluation set whatever its format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hybridcore.config.spec import Arm, EncoderSettings, RunSpec, profile_spec
from hybridcore.data.dataset import LoadOptions
from hybridcore.data.formats.beir import export_beir
from hybridcore.data.formats.registry import dataset_identity, load_dataset
from hybridcore.data.leakage import LeakageError
from hybridcore.data.pairs import TrainingExample, write_jsonl
from hybridcore.model.encoder import Encoder
from hybridcore.run import pipeline

FP32 = EncoderSettings(precision="fp32")


def test_a_model_trained_with_cls_pooling_is_evaluated_with_cls_pooling(tiny_model, shared_data):
    spec = profile_spec("quick", model=str(tiny_model), steps=2, batch_size=4, pooling="cls", query_prefix="q: ")
    assert spec.encoder.pooling == "cls" and spec.train.steps == 2
    data = pipeline.prepare_training_data("mlqa-r")
    trained = pipeline.train_model(spec, Arm("hybrid", 42, 0.5), data)

    options = LoadOptions(languages=("en", "th"))
    files = pipeline.evaluate_model(trained.path, "xquad-r", FP32, candidate_context=False, options=options)
    summary = json.loads((Path(files.path) / "summary.json").read_text())
    assert summary["encoder"]["pooling"] == "cls" and summary["encoder"]["query_prefix"] == "q: "

    xquad = load_dataset("xquad-r", options)

    def figures(settings: EncoderSettings) -> dict:
        encoder = Encoder(trained.path, settings)
        return xquad.evaluate(*xquad.encode(encoder, candidate_context=False)).summary()

    as_trained = figures(EncoderSettings(pooling="cls", query_prefix="q: ", precision="fp32"))
    assert summary["summary"] == as_trained
    assert figures(EncoderSettings(pooling="mean", query_prefix="query: ", precision="fp32")) != as_trained


def test_dataset_identity_covers_every_file_the_name_and_the_options(tmp_path, shared_data):
    a = tmp_path / "a" / "set"
    shutil.copytree(shared_data / "xquad-r", a, ignore=shutil.ignore_patterns("[!e]*.json", "?[!n]*.json"))
    assert sorted(p.name for p in a.glob("*.json")) == ["en.json"]
    b = tmp_path / "b" / "other-name"
    shutil.copytree(a, b)
    assert dataset_identity(a) != dataset_identity(b)  # same bytes, another dataset
    before = dataset_identity(a)
    (a / "NOTES.txt").write_text("a file of another type")
    assert dataset_identity(a) != before
    assert dataset_identity(a, LoadOptions(languages=("en",))) != dataset_identity(a)


def test_the_zero_shot_guard_checks_beir_sets_too(xquad, tmp_path):
    beir = export_beir(xquad, tmp_path / "beir-de", "de")
    question = xquad.questions_in("de")[0]
    leaked = [
        TrainingExample("p1", "de", question.text, "irgendein Satz"),
        TrainingExample("p2", "de", "Eine neue Frage?", "noch ein Satz"),
    ]
    path = write_jsonl(leaked, tmp_path / "train.jsonl")
    prepared = pipeline.PreparedData(str(path), pipeline.examples_fingerprint(leaked), 2, ["de"])
    with pytest.raises(LeakageError, match="overlaps xquad-r-de-de: 1 queries, 0 positives"):
        pipeline.zero_shot_guard(prepared, [str(beir)])
    reports = pipeline.zero_shot_guard(prepared, [str(beir)], allow_overlap=True)
    assert reports[0]["query_overlap"] == 1 and reports[0]["passage_overlap"] == 0


def test_a_stored_spec_reads_back_equal_and_refuses_unknown_fields():
    spec = profile_spec("full", model="m", eval_sets=["xquad-r", "mlqa-r"], alpha=0.3, pooling="cls")
    again = RunSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.eval_sets == ("xquad-r", "mlqa-r") and again.train.alpha == 0.3
    with pytest.raises(ValueError, match="learning_rate = 1.0: unknown field"):
        RunSpec.from_dict({**spec.to_dict(), "learning_rate": 1.0})
    with pytest.raises(ValueError, match="strategies.1 = .bilingual.: Input should be"):
        profile_spec("quick", strategies=["mono", "bilingual"])


def test_seeds_and_alphas_make_the_experiment_s_arms():
    one = profile_spec("quick")
    assert one.arms() == [Arm("mono", 42), Arm("cross", 42), Arm("hybrid", 42, 0.5)]
    assert [one.run_suffix(a) for a in one.arms()] == ["mono", "cross", "hybrid"]  # names as before seeds existed

    grid = profile_spec("quick", seeds=(42, 43, 44), alphas=(0.3, 0.5, 0.7))
    arms = grid.arms()
    # every strategy at every seed, hybrid at alpha 0.5; the sweep at the first seed; first seed first
    assert len(arms) == 3 * 3 + 2 and [a.seed for a in arms[:5]] == [42] * 5
    assert {a.alpha for a in arms if a.seed == 42 and a.strategy == "hybrid"} == {0.3, 0.5, 0.7}
    assert {a.alpha for a in arms if a.seed != 42 and a.strategy == "hybrid"} == {0.5}
    assert (
        grid.run_suffix(Arm("hybrid", 43, 0.3)) == "hybrid-alpha0.3-seed43"
        and grid.run_suffix(Arm("mono", 43)) == "mono-seed43"
    )
    assert len({grid.run_suffix(a) for a in arms}) == len(arms)
    assert len(profile_spec("quick", seeds=(1, 2), alphas=(0.3, 0.5, 0.7), full_grid=True).arms()) == 2 * (2 + 3)
    assert {a.alpha for a in profile_spec("quick", alphas=(0.2, 0.8)).arms() if a.strategy == "hybrid"} == {0.2, 0.8}

    config = grid.train_config(Arm("hybrid", 43, 0.3))
    assert (config.strategy, config.seed, config.alpha, config.steps) == ("hybrid", 43, 0.3, grid.train.steps)
    assert grid.train_config(Arm("mono", 44)).alpha == grid.train.alpha  # unused by mono: the hash stays as before
    assert RunSpec.from_dict(json.loads(json.dumps(grid.to_dict()))) == grid
    for bad in ({"alphas": (0.5, 1.5)}, {"seeds": (1, 1)}):
        with pytest.raises(ValueError):
            profile_spec("quick", **bad)
