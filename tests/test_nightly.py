"""The nightly evaluation of what changed, on a real Prefect server with a worker: a watched
training job's folder gets two checkpoints on night 1 and a third (made worse on purpose) on
night 2; each night is the `hybrid-eval/nightly` deployment started by hand."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from db import queries
from db.session import make_engine
from flows import services
from tests.helpers import free_port, write_checkpoint

EVAL_SETS = ["xquad-r?languages=en,de,ar&sample=60&pool=sampled"]


class Receiver(BaseHTTPRequestHandler):
    """A webhook on loopback: keeps every JSON body posted to it."""

    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers["Content-Length"])
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def hook():
    server = HTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Receiver.bodies
    server.shutdown()


@pytest.fixture(scope="module")
def nightly_services(shared_data, postgres, tmp_path_factory):
    """Server, deployments and one worker (limit 3: the nightly and two model runs at once)."""
    url = postgres.new_database()
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYBRID_EVAL_DB_URL", url)
        env.setenv("HYBRID_EVAL_DASHBOARD_URL", "http://dashboard.example:8501")
        services.start_server(port)
        try:
            services.deploy(port)
            services.start_workers(1, port, limit=3)
            yield port, url
        finally:
            services.stop_all()


def api(port: int, path: str, body: dict | None = None):
    """The Prefect server's REST API (the CLI's rich output would eat the markdown's [links])."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run_night(port: int, spec: dict, watch_file: Path) -> None:
    done = subprocess.run(
        [
            str(services.BIN / "prefect"),
            "deployment",
            "run",
            "hybrid-eval/nightly",
            "--watch",
            "-p",
            f"spec={json.dumps(spec)}",
            "-p",
            f"watch_file={watch_file}",
        ],
        env=services.environment(port),
        capture_output=True,
        text=True,
        timeout=900,
    )
    worker_log = services.state_dir() / "worker-1.log"
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + worker_log.read_text()[-4000:]


def test_two_nights_evaluate_only_the_new_checkpoint_and_flag_the_planted_regression(
    nightly_services, tiny_model, tmp_path, hook
):
    port, url = nightly_services
    hook_url, calls = hook
    job = tmp_path / "training-job"
    job.mkdir()
    write_checkpoint(tiny_model, job / "checkpoint-100")
    write_checkpoint(tiny_model, job / "checkpoint-200", noise=1e-3)
    watch_file = tmp_path / "watch.json"
    watch_file.write_text(
        json.dumps({"series": [{"series": "job", "folder": str(job)}], "settle_seconds": 0, "webhook": hook_url})
    )
    spec = {"model": str(tiny_model), "strategies": [], "eval_sets": EVAL_SETS}
    engine = make_engine(url)

    run_night(port, spec, watch_file)
    first = queries.series_points(engine)
    assert sorted(first["kind"]) == ["reference", "watched", "watched"]
    assert sorted(first.loc[first["kind"] == "watched", "step"]) == [100, 200]
    assert calls == []  # a checkpoint barely moved is no regression

    write_checkpoint(tiny_model, job / "checkpoint-300", broken=True)
    run_night(port, spec, watch_file)
    points = queries.series_points(engine)
    nights = queries.nightly_reports(engine)
    assert len(nights) == 2
    second = nights.iloc[0]  # newest first
    tonight = points[points["night"] == second["night"]]
    # only the new checkpoint; the reference's code and data did not change
    assert tonight["step"].tolist() == [300] and tonight["kind"].tolist() == ["watched"]
    job_points = points[points["series"] == "job"]
    assert job_points["step"].tolist() == [100, 200, 300]
    assert len(job_points["model_key"].unique()) == 3
    runs = queries.runs(engine)
    assert (runs.loc[runs["id"].isin(points["run_id"]), "status"] == "completed").all()
    assert len(runs) == 4  # nothing was evaluated twice

    # the regression: flagged in the store, the artifact, the flow run's tags and the hook, once
    assert second["regressions"] > 0 and not second["evaluation_changed"]
    query = {"artifacts": {"key": {"any_": ["nightly-report"]}}, "sort": "CREATED_DESC"}
    newest = api(port, "artifacts/filter", query)[0]
    assert newest["data"] == second["markdown"]
    assert f"## Regressions: {second['regressions']}" in newest["data"] and "checkpoint-300" in newest["data"]
    assert "http://dashboard.example:8501/nightly?series=job" in newest["data"]
    assert "Run-level" in newest["data"]
    assert "regression" in api(port, f"flow_runs/{second['flow_run_id']}")["tags"]
    assert "regression" not in api(port, f"flow_runs/{nights.iloc[1]['flow_run_id']}")["tags"]
    assert len(calls) == 1
    assert calls[0]["night"] == second["night"] and calls[0]["regressions"] == second["regressions"]
