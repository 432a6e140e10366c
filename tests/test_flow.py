"""The hybrid-eval flow in process under a temporary Prefect server, on a tiny model."""

from __future__ import annotations

import pandas as pd
import pytest
from prefect.testing.utilities import prefect_test_harness

from db import queries
from db.session import make_engine
from hybridcore.config.spec import RunSpec, profile_spec
from tests.helpers import QUICK_FIGURES_PER_RUN


@pytest.fixture(scope="module")
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def tiny_spec(tiny_model, **changes) -> RunSpec:
    return profile_spec(
        "quick", **{"model": str(tiny_model), "strategies": ("mono", "hybrid"), "steps": 2, "batch_size": 4, **changes}
    )


def figures_by_strategy(engine, experiment: str) -> dict:
    runs = queries.runs(engine, experiment=experiment)
    figures = queries.metrics(engine, runs["id"].tolist()).merge(
        runs[["id", "strategy"]], left_on="run_id", right_on="id"
    )
    key = ["strategy", "dataset", "setting", "query_lang", "candidate_lang", "metric"]
    return figures.set_index(key)["value"].sort_index().to_dict()


def test_flow_stores_reference_and_every_strategy(prefect_server, tiny_model, shared_data, tmp_path):
    from flows.hybrid_eval import hybrid_eval

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    spec = tiny_spec(tiny_model)
    out = hybrid_eval(spec=spec, experiment="t1", db_url=url)
    engine = make_engine(url)
    runs = queries.runs(engine, experiment="t1").set_index("strategy")
    assert set(runs.index) == {"reference", "mono", "hybrid"}
    assert (runs["status"] == "completed").all()
    assert runs.loc["hybrid", "alpha"] == 0.5 and runs.loc["mono", "seen_languages"] == "ar,de,en,es,hi,vi,zh"
    assert runs.loc["hybrid", "leakage"][0]["query_overlap"] == 0
    assert RunSpec.from_dict(runs.loc["hybrid", "config"]) == spec  # the spec is stored as it is
    counts = queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size()
    assert len(counts) == 3 and (counts == QUICK_FIGURES_PER_RUN).all()
    assert out["experiment"] == "t1"

    # the same experiment again: every step is reused, rows replaced, not duplicated
    hybrid_eval(spec=spec, experiment="t1", db_url=url)
    assert queries.row_counts(engine)["runs"] == 3
    assert queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size().equals(counts)


def test_a_stored_spec_run_again_from_scratch_gives_identical_figures(
    prefect_server, tiny_model, shared_data, tmp_path, monkeypatch
):
    from flows.hybrid_eval import hybrid_eval

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    hybrid_eval(spec=tiny_spec(tiny_model, strategies=("hybrid",)), experiment="first", db_url=url)
    engine = make_engine(url)
    stored = queries.runs(engine, experiment="first").set_index("strategy").loc["hybrid", "config"]
    # a fresh home: nothing reused, the model trained and every text encoded again
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "fresh-home"))
    hybrid_eval(spec=RunSpec.from_dict(stored), experiment="again", db_url=url)
    assert (tmp_path / "fresh-home" / "models" / "trained").is_dir()
    first, again = figures_by_strategy(engine, "first"), figures_by_strategy(engine, "again")
    assert len(first) == 2 * QUICK_FIGURES_PER_RUN and first == again


def test_a_spec_stored_by_evaluate_runs_again_as_the_reference_alone(prefect_server, tiny_model, shared_data, tmp_path):
    from flows.hybrid_eval import hybrid_eval

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    spec = RunSpec(model=str(tiny_model), train_set="", eval_sets=("xquad-r",), strategies=(), profile="evaluate")
    hybrid_eval(spec=spec, experiment="reference-only", db_url=url)
    runs = queries.runs(make_engine(url), experiment="reference-only")
    assert runs["strategy"].tolist() == ["reference"] and runs["status"].tolist() == ["completed"]
    assert runs["seen_languages"].tolist() == [""]


def test_a_failed_rerun_is_marked_and_keeps_earlier_results(
    prefect_server, tiny_model, shared_data, tmp_path, monkeypatch
):
    from flows.hybrid_eval import hybrid_eval
    from hybridcore.run import pipeline

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    spec = tiny_spec(tiny_model, strategies=("mono",))
    hybrid_eval(spec=spec, experiment="t2", db_url=url)
    engine = make_engine(url)
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "fresh-home"))  # nothing to reuse: it must encode
    before = queries.row_counts(engine)

    calls = []

    def out_of_memory(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("out of memory")

    monkeypatch.setattr(pipeline, "Encoder", out_of_memory)
    with pytest.raises(Exception, match="out of memory"):
        hybrid_eval(spec=spec, experiment="t2", db_url=url)
    runs = queries.runs(engine, experiment="t2").set_index("strategy")
    assert runs.loc["reference", "status"] == "failed" and "out of memory" in runs.loc["reference", "error"]
    assert queries.row_counts(engine) == before  # what was stored is intact
    assert len(calls) == 2  # a failure that may be transient is tried once more


def test_bad_input_is_not_retried_but_a_transient_failure_is(prefect_server, tiny_model, shared_data, monkeypatch):
    from flows.hybrid_eval import hybrid_eval
    from hybridcore.errors import DataError
    from hybridcore.run import pipeline

    for error, expected_calls in ((DataError("mlqa-r/en.json", "line 3", "broken"), 1), (OSError("disk busy"), 3)):
        calls = []

        def failing(*args, error=error, calls=calls, **kwargs):
            calls.append(1)
            raise error

        monkeypatch.setattr(pipeline, "load_training_examples", failing)
        with pytest.raises(type(error)):
            hybrid_eval(spec=tiny_spec(tiny_model), experiment="t3")
        assert len(calls) == expected_calls, error


def test_seeds_and_an_alpha_sweep_are_runs_of_their_own_and_an_interrupted_experiment_resumes(
    prefect_server, tiny_model, shared_data, tmp_path, monkeypatch
):
    # before the command-line test: Prefect's log handlers keep the stream CliRunner closes,
    # and logging this test's failure through them recurses
    from flows.hybrid_eval import hybrid_eval
    from hybridcore.errors import DataError
    from hybridcore.run import pipeline

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "home"))  # nothing trained before
    real_train, seeds_trained, interrupt = pipeline.train, [], [True]

    def train(model, examples, config, *args, **kwargs):
        if config.seed == 2 and interrupt[0]:
            raise DataError("test", "seed 2", "interrupted")  # bad input: not retried, the experiment stops
        seeds_trained.append((config.seed, config.strategy, config.alpha))
        return real_train(model, examples, config, *args, **kwargs)

    monkeypatch.setattr(pipeline, "train", train)
    spec = tiny_spec(tiny_model, seed=1, seeds=(1, 2), alphas=(0.3, 0.5))
    with pytest.raises(DataError, match="interrupted"):
        hybrid_eval(spec=spec, experiment="grid", db_url=url)
    assert sorted(seeds_trained) == [(1, "hybrid", 0.3), (1, "hybrid", 0.5), (1, "mono", 0.5)]

    interrupt[0] = False
    out = hybrid_eval(spec=spec, experiment="grid", db_url=url)
    assert seeds_trained[3:] == [(2, "mono", 0.5), (2, "hybrid", 0.5)]  # the first seed's models were reused
    runs = queries.runs(make_engine(url), experiment="grid").set_index("name")
    assert sorted(runs.index) == [
        "grid/hybrid-alpha0.3-seed1",
        "grid/hybrid-alpha0.5-seed1",
        "grid/hybrid-alpha0.5-seed2",
        "grid/mono-seed1",
        "grid/mono-seed2",
        "grid/reference",
    ]
    assert (runs["status"] == "completed").all()
    assert runs.loc["grid/hybrid-alpha0.3-seed1", ["seed", "alpha"]].tolist() == [1, 0.3]
    assert runs.loc["grid/mono-seed2", "seed"] == 2 and pd.isna(runs.loc["grid/mono-seed2", "alpha"])
    assert pd.isna(runs.loc["grid/reference", "seed"])
    assert "means over seeds 1, 2" in out["summary"] and "hybrid α=0.3" in out["summary"]


def test_the_experiment_command_runs_the_flow_and_prints_the_summary(prefect_server, tiny_model, shared_data):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(
        app,
        [
            "experiment",
            "--model",
            str(tiny_model),
            "--strategy",
            "hybrid",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--seeds",
            "2",
            "--alphas",
            "0.3,0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "means over seeds 42, 43" in result.output and "hybrid α=0.3" in result.output  # seed 42: both alphas
    assert "experiment local-quick-" in result.output  # not a deployment's run
    summary = result.output.split("afriqa-sampled-pool (seen in fine-tuning: ar,de,en,es,hi,vi,zh)")[1]
    # the tiny model records no pretraining languages: what fine-tuning did not see is "unknown"
    assert "reference" in summary and "hybrid" in summary and "unknown" in summary
    assert "xquad-r-sampled-pool (seen in fine-tuning" in result.output
    assert "sib-200-sampled-pool (seen in fine-tuning" in result.output
    assert "Sampled pool: not comparable with the benchmark." in result.output  # the quick profile says so
    assert "make dashboard" in result.output


def test_the_full_profile_dry_runs_on_cpu_with_a_tiny_model(prefect_server, tiny_model, shared_data, tmp_path):
    """The paper-scale command, as on a GPU, with a tiny model, 2 steps and sampled sets on
    --device cpu: every arm of the profile (three strategies at three seeds, candidates with
    their paragraph) is trained, evaluated, stored and reported."""
    from typer.testing import CliRunner

    from flows.cli import app

    url = f"duckdb:///{tmp_path / 'full.duckdb'}"
    samples = ["xquad-r?sample=6&pool=sampled", "afriqa?sample=6&pool=sampled"]
    samples.append("sib-200?languages=quick&split=test&sample=4&pool=sampled")
    args = ["--device", "cpu", "experiment", "--profile", "full", "--model", str(tiny_model), "--experiment", "dry"]
    args += ["--steps", "2", "--batch-size", "4", *[a for s in samples for a in ("--eval", s)]]
    result = CliRunner().invoke(app, args, env={"HYBRID_EVAL_DB_URL": url})
    assert result.exit_code == 0, result.output
    assert "means over seeds 42, 43, 44" in result.output and "the report:" in result.output
    engine = make_engine(url)
    runs = queries.runs(engine, experiment="dry")
    assert sorted(runs["name"]) == [
        f"dry/{s}-seed{seed}" for s in ("cross", "hybrid", "mono") for seed in (42, 43, 44)
    ] + ["dry/reference"]
    assert (runs["status"] == "completed").all()
    configs = [queries.run_config(engine, name) for name in runs["name"]]
    assert all(c["candidate_context"] and c["profile"] == "full" for c in configs), configs[0]


_KILLED_FLOW = """
import json, sys, time
from hybridcore.train.trainer import Trainer

real_step = Trainer.train_step
def slow_after_checkpoint(self, batch, step):
    if step >= 2:  # the checkpoint of step 2 is on disk: be killed during the next steps
        sys.__stdout__.write("past checkpoint\\n")  # not print: the flow's log_prints takes those
        sys.__stdout__.flush()
        time.sleep(0.5)
    return real_step(self, batch, step)
Trainer.train_step = slow_after_checkpoint

from flows.hybrid_eval import hybrid_eval
from hybridcore.config.spec import RunSpec
hybrid_eval(spec=RunSpec.from_dict(json.loads(sys.argv[1])), experiment="resumed", db_url=sys.argv[2])
"""


def test_a_worker_killed_while_training_resumes_from_its_checkpoint(
    prefect_server, tiny_model, shared_data, tmp_path, monkeypatch
):
    """SIGKILL to the whole process mid-training; running the flow again resumes from the
    checkpoint and ends with the figures of a run never interrupted."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from flows.hybrid_eval import hybrid_eval
    from hybridcore.config.paths import home_dir

    spec = tiny_spec(tiny_model, strategies=("hybrid",), steps=8, checkpoint_every=2, validate_every=4)
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "interrupted"))  # the killed worker's, then the re-run's
    worker = subprocess.Popen(
        [sys.executable, "-c", _KILLED_FLOW, json.dumps(spec.to_dict()), url],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        reached = any(line.strip() == "past checkpoint" for line in worker.stdout)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and whatever it started
        worker.wait()
    assert reached, "the worker ended before its training passed a checkpoint"
    assert list((home_dir() / "models" / "trained").glob("*.work/checkpoint/trainer_state.json"))
    engine = make_engine(url)
    assert queries.runs(engine, experiment="resumed").set_index("strategy").loc["hybrid", "status"] == "running"

    hybrid_eval(spec=spec, experiment="resumed", db_url=url)
    trained = next(p for p in (home_dir() / "models" / "trained").iterdir() if not p.name.endswith(".work"))
    record = json.loads((trained / "training.json").read_text())
    assert record["resumed_from_step"] in (2, 4, 6) and record["steps_done"] == 8

    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "never-interrupted"))
    hybrid_eval(spec=spec, experiment="straight", db_url=url)
    resumed, straight = figures_by_strategy(engine, "resumed"), figures_by_strategy(engine, "straight")
    assert len(resumed) == 2 * QUICK_FIGURES_PER_RUN and resumed == straight
    assert (queries.runs(engine, experiment="resumed")["status"] == "completed").all()


def test_checkpoint_export_gives_each_arm_a_learning_curve_in_the_report(
    prefect_server, tiny_model, shared_data, tmp_path
):
    from flows.hybrid_eval import hybrid_eval
    from flows.report import experiment_report

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    spec = tiny_spec(
        tiny_model, steps=4, export_at=(0.5, 1.0), eval_sets=("xquad-r?languages=en,de&sample=30&pool=sampled",)
    )
    hybrid_eval(spec=spec, experiment="lc", db_url=url)
    engine = make_engine(url)
    arms = queries.runs(engine, experiment="lc")
    assert sorted(arms["strategy"]) == ["hybrid", "mono", "reference"]  # the arms' own runs hold the kept models
    curve = queries.runs(engine, experiment="lc-curve")
    assert sorted(curve["name"]) == [f"lc/{arm}/step-{s}" for arm in ("hybrid", "mono") for s in (2, 4)]
    points = queries.series_points(engine, kind="checkpoint")
    assert sorted(zip(points["series"], points["step"])) == [(f"lc/{a}", s) for a in ("hybrid", "mono") for s in (2, 4)]
    # the exported weights differ step to step: each point is a model of its own
    assert points["model_key"].nunique() == 4

    _, markdown = experiment_report("lc", url, tmp_path / "reports")
    text = markdown.read_text()
    curves = text.split("## Learning curves")[1]
    assert "| language group | figure | arm | step 2 | step 4 |" in curves
    assert "mono" in curves and "hybrid" in curves

    hybrid_eval(spec=spec, experiment="lc", db_url=url)  # again: every model and evaluation reused, rows replaced
    assert queries.row_counts(engine)["runs"] == 7
