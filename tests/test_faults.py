"""Faults, the way trusted systems test themselves: real processes on loopback, bounded in
time, each asserting that nothing is lost or duplicated and that a re-run completes once.

- a full disk during a store write and during a model export (a size-limited tmpfs under the
  test's own folder): one clear line, the store whole, no partial folder;
- two experiments started at once under one name;
- (with the Prefect services, below) a worker killed with SIGKILL in the middle of an
  evaluation, on the pool, with PostgreSQL; the Prefect server stopped for 30 s mid-experiment;
  a bad spec given as a deployment parameter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from db import queries
from db.session import make_engine
from flows import services
from hybridcore.config.spec import QUICK_EVAL_SETS, EncoderSettings
from hybridcore.files import folder_problem
from hybridcore.run import pipeline
from tests.helpers import QUICK_FIGURES_PER_RUN, free_port

SIB = "sib-200?languages=quick&split=test&sample=20"
CLI = str(Path(sys.executable).parent / "hybrid-eval")


@contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted on ``folder`` (root only, as CI runs)."""
    folder.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; returns it (remove it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def cli(env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    return errors[0]


def test_a_full_disk_during_a_store_write_keeps_the_store_whole(tiny_model, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_EVAL_HOME", str(tmp_path / "home"))
    settings = EncoderSettings(precision="fp32")
    first = pipeline.evaluate_model(str(tiny_model), SIB, settings)
    second = pipeline.evaluate_model(str(tiny_model), "sib-200?languages=quick&split=test&sample=30", settings)
    with small_disk(tmp_path / "small", 24) as disk:
        url = f"duckdb:///{disk / 'store.duckdb'}"
        env = {"HYBRID_EVAL_HOME": str(tmp_path / "home"), "HYBRID_EVAL_DB_URL": url}
        done = cli(env, "store", "import", first.path)
        assert done.returncode == 0, done.stderr[-3000:]
        before = queries.row_counts(make_engine(url, read_only=True))

        import duckdb

        with duckdb.connect(str(disk / "store.duckdb")) as conn:
            conn.execute("CHECKPOINT")  # no WAL left to replay: the full disk is met by the next write, not the check
        filler = fill(disk)
        # the store failing after an evaluation's work (it answered before): one line naming the folder kept
        third = "sib-200?languages=quick&split=test&sample=40"
        error = one_error_line(
            cli(env, "evaluate", "--model", str(tiny_model), "--dataset", third, "--precision", "fp32")
        )
        assert "failed after the work was done" in error and "hybrid-eval store import " in error, error
        kept = error.rsplit("hybrid-eval store import ", 1)[1].split()[0]
        assert folder_problem(kept) is None
        error = one_error_line(cli(env, "store", "import", second.path))
        assert "No space left on device" in error or "disk full" in error, error
        filler.unlink()

        engine = make_engine(url, read_only=True)
        assert queries.row_counts(engine) == before  # the first run whole, nothing of the second
        verified = cli(env, "store", "verify")
        assert verified.returncode == 0 and "0 damaged" in verified.stdout, verified.stdout + verified.stderr
        again = cli(env, "store", "import", second.path, kept)  # what the line said to run
        assert again.returncode == 0, again.stderr[-3000:]
        runs = queries.runs(make_engine(url, read_only=True))
        assert len(runs) == 3 and (runs["status"] == "completed").all()


def test_a_full_disk_during_a_model_export_leaves_no_partial_folder(tiny_model, shared_data, tmp_path):
    home = tmp_path / "home"
    train = ["train", "--model", str(tiny_model), "--strategy", "mono", "--steps", "2", "--batch-size", "4"]
    train += ["--checkpoint-every", "100", "--no-store"]
    with small_disk(tmp_path / "small", 8) as disk:  # the tiny model's weights alone take 32 MB
        error = one_error_line(cli({"HYBRID_EVAL_HOME": str(home)}, *train, "--out", str(disk / "model")))
        assert "disk full" in error and str(disk) in error, error
        assert list(disk.iterdir()) == []  # no model, no temporary

    # the trained model itself, exported into a home on a full disk: the same
    with small_disk(tmp_path / "small-home", 30) as disk:
        error = one_error_line(cli({"HYBRID_EVAL_HOME": str(disk)}, *train))
        assert "disk full" in error, error
        trained = disk / "models" / "trained"
        assert not [p for p in trained.iterdir() if not p.name.endswith(".work")] if trained.exists() else True
        subprocess.run(["mount", "-o", "remount,size=400m", str(disk)], check=True)
        done = cli({"HYBRID_EVAL_HOME": str(disk)}, *train)
        assert done.returncode == 0, done.stderr[-3000:]
        models = [p for p in trained.iterdir() if not p.name.endswith(".work")]
        assert len(models) == 1 and (models[0] / "checksums.json").is_file()


def test_two_experiments_started_at_once_under_one_name(tiny_model, shared_data, tmp_path):
    env = {"HYBRID_EVAL_HOME": str(tmp_path / "home"), "HYBRID_EVAL_DB_URL": f"duckdb:///{tmp_path / 'store.duckdb'}"}
    args = [CLI, "experiment", "--model", str(tiny_model), "--strategy", "mono", "--steps", "2", "--batch-size", "4"]
    args += ["--experiment", "same-name"]
    both = [
        subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=900) for p in both]
    for process, (out, err) in zip(both, outputs):
        assert process.returncode == 0, out[-2000:] + err[-3000:]
    engine = make_engine(env["HYBRID_EVAL_DB_URL"], read_only=True)
    runs = queries.runs(engine, experiment="same-name")
    assert sorted(runs["name"]) == ["same-name/mono", "same-name/reference"]  # one of each, not two
    assert (runs["status"] == "completed").all()
    per_run = queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size()
    assert (per_run == QUICK_FIGURES_PER_RUN).all()  # every figure once
    assert queries.row_counts(engine)["runs"] == 2


# --- with the Prefect services: a server, the pool's two workers as two machines, PostgreSQL ---


@pytest.fixture(scope="module")
def pool(shared_data, postgres, tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    root, homes = f"file://{folder / 'artifacts'}", [folder / "machine-1", folder / "machine-2"]
    url, port = postgres.new_database(), free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYBRID_EVAL_DB_URL", url)
        env.setenv("HYBRID_EVAL_ARTIFACTS", root)
        # its own control home: its own Prefect database and service records, so what the
        # faults leave behind (runs lost in an outage) never meets another module's server
        env.setenv("HYBRID_EVAL_HOME", str(folder / "control"))
        services.start_server(port)
        try:
            services.deploy(port)
            services.start_workers(2, port, homes=homes)
            yield port, url, homes
        finally:
            services.stop_all()


def deployment_run(port: int, spec: dict, experiment: str, watch: bool = True) -> subprocess.CompletedProcess:
    params = ["-p", f"spec={json.dumps(spec)}", "-p", f"experiment={experiment}"]
    return subprocess.run(
        [
            str(services.BIN / "prefect"),
            "deployment",
            "run",
            "hybrid-eval/default",
            *(["--watch"] if watch else []),
            *params,
        ],
        env=services.environment(port),
        capture_output=True,
        text=True,
        timeout=900,
    )


def tiny_pool_spec(tiny_model) -> dict:
    return {"model": str(tiny_model), "eval_sets": list(QUICK_EVAL_SETS), "train": {"steps": 2, "batch_size": 4}}


def assert_stored_once(url: str, experiment: str) -> None:
    engine = make_engine(url)
    runs = queries.runs(engine, experiment=experiment)
    assert sorted(runs["strategy"]) == ["cross", "hybrid", "mono", "reference"], runs[["name", "status"]]
    assert (runs["status"] == "completed").all(), runs[["name", "status", "error"]]
    per_run = queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size()
    assert len(per_run) == 4 and (per_run == QUICK_FIGURES_PER_RUN).all()


def processes_of(home: Path) -> list[int]:
    """Every process whose environment names ``home`` as its HYBRID_EVAL_HOME (the worker and its flow runs)."""
    marker = f"HYBRID_EVAL_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_all(home: Path, within: float = 30.0) -> None:
    """SIGKILL every process of ``home`` until none is left: a worker may start a flow run's
    process between one listing and its own death."""
    deadline = time.monotonic() + within
    while found := processes_of(home):
        assert time.monotonic() < deadline, f"still alive after {within:.0f} s: {found}"
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def restart_worker(port: int, homes: list[Path], index: int) -> None:
    env = services.environment(port)
    env.update(HYBRID_EVAL_HOME=str(homes[index]), HYBRID_EVAL_MACHINE=f"machine-{index + 1}")
    name = f"worker-{index + 1}"
    services._spawn(
        name,
        [str(services.BIN / "prefect"), "worker", "start", "--pool", services.POOL, "--name", name, "--limit", "2"],
        env,
    )


def test_a_bad_spec_as_a_deployment_parameter_runs_nothing(pool, tiny_model):
    """The server refuses the flow run: the spec's bounds are in the deployment's parameter schema."""
    port, url, homes = pool
    cases = [
        ({"steps": 0, "batch_size": 4}, "'spec.train.steps'. Failure reason: 0 is less than the minimum of 1"),
        ({"steps": "ten", "batch_size": 4}, "'spec.train.steps'. Failure reason: 'ten' is not of type 'integer'"),
        ({"steps": 2, "learning_rate": -1.0}, "'spec.train.learning_rate'"),
    ]
    for train, message in cases:
        done = deployment_run(port, {**tiny_pool_spec(tiny_model), "train": train}, "bad-spec")
        text = " ".join((done.stdout + done.stderr).split())
        assert done.returncode != 0 and message in text, text[-3000:]
    engine = make_engine(url)  # nothing stored, no flow run to pick up
    assert not queries.is_initialised(engine) or queries.runs(engine, experiment="bad-spec").empty


def test_a_worker_killed_in_the_middle_of_an_evaluation(pool, tiny_model):
    """SIGKILL to the machine evaluating the reference (its worker and flow runs), then a re-run."""
    port, url, homes = pool
    started = deployment_run(port, tiny_pool_spec(tiny_model), "killed", watch=False)
    assert started.returncode == 0, started.stderr[-2000:]
    deadline, victim = time.monotonic() + 600, None
    while victim is None and time.monotonic() < deadline:
        for i, home in enumerate(homes):
            if list((home / "embeddings").rglob("*.safetensors")):  # encoding has begun here
                victim = i
                break
        time.sleep(0.2)
    assert victim is not None, "no evaluation started"
    evaluated = len(list((homes[victim] / "evaluations").glob("*/summary.json")))
    kill_all(homes[victim])
    assert evaluated < 4 * len(QUICK_EVAL_SETS)  # killed before all its evaluations were done

    restart_worker(port, homes, victim)
    done = deployment_run(port, tiny_pool_spec(tiny_model), "killed")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert_stored_once(url, "killed")
    # nothing half-written survived the kill: every result folder on both machines is whole
    for home in homes:
        for folder in (home / "evaluations").iterdir():
            assert ".partial" not in folder.name and folder_problem(folder) is None, folder


def test_the_prefect_server_stopped_for_30_seconds_mid_experiment(pool, tiny_model):
    port, url, homes = pool
    started = deployment_run(
        port, tiny_pool_spec(tiny_model) | {"train": {"steps": 3, "batch_size": 4}}, "outage", watch=False
    )
    assert started.returncode == 0, started.stderr[-2000:]
    time.sleep(15)  # the experiment is under way: data prepared, the reference evaluating, arms training
    server_pid = int((services.state_dir() / "server.pid").read_text())
    os.killpg(server_pid, signal.SIGTERM)
    time.sleep(30)
    services.start_server(port)

    states = flow_run_states(port, "outage", timeout=120)  # until every flow run of the experiment has ended
    print(f"after the outage: {states}")  # for the record (pytest -s)
    engine = make_engine(url)
    runs = queries.runs(engine, experiment="outage") if queries.is_initialised(engine) else None
    if runs is None or not (len(runs) == 4 and (runs["status"] == "completed").all()):
        # What an operator does after an outage: restart both machines' workers (a worker gives
        # up after three failed polls; a flow run it lost would hold a slot of the pool forever)
        # and free their compute slots: the restarted server lost the leases of the slots held
        # during the outage (Prefect 3.9.1 keeps leases in memory), so they would stay taken.
        for i, home in enumerate(homes):
            kill_all(home)
            limit = ["gcl", "update", f"compute-machine-{i + 1}", "--active-slots", "0"]
            subprocess.run([str(services.BIN / "prefect"), *limit], env=services.environment(port), capture_output=True)
            restart_worker(port, homes, i)
        done = deployment_run(port, tiny_pool_spec(tiny_model) | {"train": {"steps": 3, "batch_size": 4}}, "outage")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert_stored_once(url, "outage")


def flow_run_states(port: int, experiment: str, timeout: float) -> dict[str, str]:
    """Each flow run of the experiment (the parent and its arms) and its state, once all have
    ended or ``timeout`` passed; a run its worker lost stays Running."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}), get_client(sync_client=True) as client:
        while True:
            mine = [r for r in client.read_flow_runs(limit=200) if r.parameters.get("experiment") == experiment]
            states = {f"{r.name} ({r.parameters.get('strategy', 'experiment')})": r.state.name for r in mine}
            if (mine and all(r.state.is_final() for r in mine)) or time.monotonic() > deadline:
                return states
            time.sleep(5)
