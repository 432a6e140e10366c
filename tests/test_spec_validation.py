"""A run specification is validated when it is built, whoever builds it, and a bad one is
refused in one line naming the field, the value and what is allowed, before any work: nothing
prepared, trained or stored. The deployment parameter's case is in ``test_faults``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from hybridcore.config.spec import RunSpec, SpecError, TrainConfig, profile_spec
from hybridcore.run.preflight import check_resolvable

BAD = [
    ({"train": {"steps": "ten"}}, "train.steps = 'ten': Input should be a valid integer"),
    ({"train": {"steps": 2.5}}, "train.steps = 2.5"),
    ({"train": {"steps": True}}, "train.steps = True"),
    ({"train": {"steps": 0}}, "train.steps = 0: Input should be greater than or equal to 1"),
    ({"train": {"batch_size": 1}}, "train.batch_size = 1: Input should be greater than or equal to 2"),
    ({"train": {"learning_rate": -1}}, "train.learning_rate = -1: Input should be greater than 0"),
    ({"train": {"temperature": 0}}, "train.temperature = 0: Input should be greater than 0"),
    ({"train": {"alpha": 1.5}}, "train.alpha = 1.5: Input should be less than or equal to 1"),
    ({"alphas": [0.3, -0.1]}, "alphas.1 = -0.1: Input should be greater than or equal to 0"),
    ({"seeds": [42, 7, 42]}, "seeds = [42, 7, 42]: must not repeat, but [42] do"),
    ({"strategies": ["mono", "hybird"]}, "strategies.1 = 'hybird': Input should be 'mono', 'cross' or 'hybrid'"),
    ({"strategies": ["mono", "mono"]}, "strategies = ['mono', 'mono']: must not repeat"),
    ({"eval_sets": []}, "eval_sets = []"),
    ({"encoder": {"precision": "fp16"}}, "encoder.precision = 'fp16': Input should be 'auto', 'bf16' or 'fp32'"),
    ({"train": {"lr": 1.0}}, "train.lr = 1.0: unknown field"),
    ({"learning_rate": 1.0}, "learning_rate = 1.0: unknown field"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_bad_spec_is_refused_naming_field_value_and_what_is_allowed(change, message):
    record = RunSpec().to_dict()
    for key, value in change.items():
        record[key] = {**record[key], **value} if isinstance(value, dict) and key in record else value
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(record)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_every_way_of_building_a_spec_validates():
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        replace(RunSpec().train, batch_size=0)
    with pytest.raises(SpecError, match="steps = 0"):
        profile_spec("quick", steps=0)
    with pytest.raises(SpecError, match="profile = 'quik'"):
        profile_spec("quik")
    assert RunSpec.from_dict(json.loads(json.dumps(RunSpec().to_dict()))) == RunSpec()  # JSON lists read back as tuples


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eval_sets": ("xquad-r", "xquad-rr")}, "eval_sets.1 = 'xquad-rr'"),
        ({"eval_sets": ("xquad-r?smaple=30",)}, "eval_sets.0"),
        ({"train_set": "missing.jsonl"}, "train_set = 'missing.jsonl'"),
        ({"model": "/no/such/model"}, "model = '/no/such/model'"),
    ],
)
def test_datasets_training_data_and_model_must_resolve(shared_data, change, field):
    with pytest.raises(SpecError, match=field.replace("?", r"\?")):
        check_resolvable(replace(RunSpec(), **change))


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYBRID_EVAL_HOME": str(home)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "hybrid-eval"), *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--spec", "{spec}"],
        ["--steps", "0"],
        ["--lr", "-1"],
        ["--batch-size", "1"],
        ["--strategy", "hybird"],
        ["--seeds", "42,42"],
        ["--eval", "xquad-rr"],
        ["--model", "/no/such/model"],
    ],
)
def test_the_command_line_refuses_a_bad_spec_before_any_work(shared_data, tmp_path, args):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**RunSpec().to_dict(), "train": {"steps": "ten", "learning_rate": -1}}))
    home = tmp_path / "home"
    done = _cli(home, "experiment", *[a.replace("{spec}", str(spec)) for a in args])
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    # nothing was prepared, trained, encoded or stored
    made = {p.name for p in home.iterdir()} if home.exists() else set()
    assert not made & {"data", "evaluations", "embeddings", "store.duckdb"}, made
