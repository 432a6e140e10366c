"""Where models compute: one device setting for the encoder and the trainer, refused before
any work where it names no device here; the CUDA path, where torch sees a GPU."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from hybridcore.config.spec import TrainConfig, profile_spec
from hybridcore.errors import SettingError
from hybridcore.model.device import DEVICE_SETTING, compute_device
from hybridcore.model.encoder import Encoder

CUDA = torch.cuda.is_available()


def test_the_setting_names_the_device_and_auto_takes_a_gpu_where_there_is_one(monkeypatch):
    monkeypatch.delenv(DEVICE_SETTING, raising=False)
    assert compute_device() == torch.device("cuda" if CUDA else "cpu")
    monkeypatch.setenv(DEVICE_SETTING, "cpu")
    assert compute_device() == torch.device("cpu") and compute_device("auto").type == ("cuda" if CUDA else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv(DEVICE_SETTING, "auto")
    assert compute_device() == torch.device("cuda")  # what the encoder and the trainer take on a GPU machine
    assert compute_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(SettingError, match=r"HYBRID_EVAL_DEVICE='cuda:2': torch sees 2 CUDA device"):
        compute_device("cuda:2")


@pytest.mark.parametrize(
    ("value", "problem"),
    [("gpu", "not a device: use auto, cpu, cuda or cuda:N"), ("mps", "not a device"), ("cuda", "no CUDA device")],
)
def test_a_bad_device_is_refused_in_one_line(monkeypatch, value, problem):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(DEVICE_SETTING, value)
    with pytest.raises(SettingError, match=problem) as err:
        compute_device()
    assert str(err.value).startswith(f"{DEVICE_SETTING}={value!r}: ") and "\n" not in str(err.value)


def test_the_command_line_refuses_a_gpu_it_does_not_have_before_any_work(monkeypatch, tmp_path):
    from flows.cli import app

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(DEVICE_SETTING, "auto")  # --device sets it for the process: restored after the test
    result = CliRunner().invoke(app, ["--device", "cuda", "experiment", "--profile", "quick"])
    assert isinstance(result.exception, SettingError) and "torch sees no CUDA device" in str(result.exception)
    assert not (tmp_path / "home").exists()  # nothing was prepared, trained or stored


def test_the_full_profile_is_the_paper_scale_experiment():
    spec = profile_spec("full")
    assert spec.candidate_context and spec.train.steps >= 1000 and spec.train.batch_size == 32
    assert all("sample=" not in s for s in spec.eval_sets)  # whole sets and pools
    assert sorted({(a.strategy, a.seed) for a in spec.arms()}) == [
        (s, seed) for s in ("cross", "hybrid", "mono") for seed in (42, 43, 44)
    ]


@pytest.mark.skipif(not CUDA, reason="torch sees no GPU here")
def test_on_a_gpu_the_encoder_and_the_trainer_compute_there(tiny_model, tmp_path, monkeypatch):
    from hybridcore.data.pairs import TrainingExample
    from hybridcore.train.trainer import Trainer

    monkeypatch.delenv(DEVICE_SETTING, raising=False)
    encoder = Encoder(str(tiny_model))
    assert next(encoder.model.parameters()).device.type == "cuda"
    assert encoder.encode_queries(["where is it?", "wo ist es?"]).shape[0] == 2
    examples = [
        TrainingExample(parallel_id=f"q{i}", lang=lang, query=f"question {i}", positive=f"answer {i}")
        for i in range(12)
        for lang in ("en", "de")
    ]
    trainer = Trainer(str(tiny_model), examples, TrainConfig(batch_size=4, steps=2), tmp_path / "model")
    assert next(trainer.model.parameters()).device.type == "cuda"
    assert trainer.train_step(trainer.sampler.epoch_plan(0)[0], 0) > 0
