"""End to end on loopback: a real Prefect server, two process workers, the deployments,
`prefect deployment run 'hybrid-eval/default' --watch`, then the rows in DuckDB."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from db import queries
from db.session import make_engine
from flows import services
from hybridcore.run.spec import QUICK_EVAL_SETS
from tests.helpers import QUICK_FIGURES_PER_RUN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_services(shared_data):
    port = free_port()
    services.start_server(port)
    try:
        services.deploy(port)
        services.start_workers(2, port)
        yield port
    finally:
        stopped = services.stop_all()
        assert "server" in stopped


def test_deployment_run_on_two_workers_stores_rows(prefect_services, tiny_model, tmp_path):
    port = prefect_services
    listed = services.prefect(port, "deployment", "ls").stdout
    for name in ("hybrid-eval/default", "hybrid-eval/nightly", "train-and-evaluate/worker"):
        assert name in listed
    spec = {"model": str(tiny_model), "strategies": ["mono", "cross", "hybrid"], "eval_sets": list(QUICK_EVAL_SETS),
            "train": {"steps": 2, "batch_size": 4}}
    params = ["-p", f"spec={json.dumps(spec)}", "-p", "experiment=e2e"]
    done = subprocess.run([str(services.BIN / "prefect"), "deployment", "run", "hybrid-eval/default", "--watch", *params],
                          env=services.environment(port), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    engine = make_engine()
    runs = queries.runs(engine, experiment="e2e")
    assert sorted(runs["strategy"]) == ["cross", "hybrid", "mono", "reference"]
    assert (runs["status"] == "completed").all()
    per_run = queries.metrics(engine, runs["id"].tolist()).groupby("run_id").size()
    assert len(per_run) == 4 and (per_run == QUICK_FIGURES_PER_RUN).all()
    stored = runs.set_index("strategy").loc["cross", "config"]
    assert stored["train"]["steps"] == 2 and stored["train"]["batch_size"] == 4 and stored["model"] == str(tiny_model)

    # both workers took part: each submitted at least one of the four flow runs
    logs = {w: (services.state_dir() / f"{w}.log").read_text() for w in ("worker-1", "worker-2")}
    for worker, text in logs.items():
        assert f"Worker '{worker}' submitting flow run" in text, text[-1000:]
