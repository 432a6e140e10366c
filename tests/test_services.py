"""End to end on loopback, as two machines would run it: a real Prefect server, two process
workers each with its own cache (``HYBRID_EVAL_HOME``) and compute slots, a shared artifact
root and a PostgreSQL store; `prefect deployment run 'hybrid-eval/default' --watch`, then
the rows in the store."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from db import queries
from db.session import make_engine
from flows import services
from hybridcore.config.spec import QUICK_EVAL_SETS
from tests.helpers import QUICK_FIGURES_PER_RUN, free_port


@pytest.fixture(scope="module")
def prefect_services(shared_data, postgres, tmp_path_factory):
    """Server, deployments and two workers as two machines; yields (port, store URL, artifact root, homes)."""
    folder = tmp_path_factory.mktemp("two-machines")
    root, homes = f"file://{folder / 'artifacts'}", [folder / "machine-1", folder / "machine-2"]
    url = postgres.new_database()
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYBRID_EVAL_DB_URL", url)
        env.setenv("HYBRID_EVAL_ARTIFACTS", root)
        services.start_server(port)
        try:
            services.deploy(port)
            services.start_workers(2, port, homes=homes)
            yield port, url, root, homes
        finally:
            stopped = services.stop_all()
            assert "server" in stopped


def test_deployment_run_on_two_machines_stores_every_row_once(prefect_services, tiny_model, tmp_path):
    port, url, root, homes = prefect_services
    listed = services.prefect(port, "deployment", "ls").stdout
    for name in ("hybrid-eval/default", "hybrid-eval/nightly", "train-and-evaluate/worker"):
        assert name in listed
    spec = {
        "model": str(tiny_model),
        "strategies": ["mono", "cross", "hybrid"],
        "eval_sets": list(QUICK_EVAL_SETS),
        "train": {"steps": 2, "batch_size": 4},
    }
    params = ["-p", f"spec={json.dumps(spec)}", "-p", "experiment=e2e"]
    done = subprocess.run(
        [str(services.BIN / "prefect"), "deployment", "run", "hybrid-eval/default", "--watch", *params],
        env=services.environment(port),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    engine = make_engine(url)
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

    # what passed between flow runs lives in the artifact root, not in one machine's cache
    files = queries.artifacts(engine, runs["id"].tolist())
    assert len(files) == 4 * len(QUICK_EVAL_SETS) + 3 and files["path"].str.startswith(root + "/").all()
    shared = Path(root.removeprefix("file://"))
    assert len(list((shared / "models").glob("*.complete"))) == 3
    assert len(list((shared / "data").glob("*.complete"))) == 1
    # each machine worked in its own cache: both evaluated something there
    for home in homes:
        assert list((home / "evaluations").glob("*/summary.json")), home
    assert queries.row_counts(engine)["runs"] == 4  # every run stored once
    # the compute slots were Prefect's own concurrency limits, one per machine
    for machine in ("machine-1", "machine-2"):
        limit = json.loads(services.prefect(port, "gcl", "inspect", f"compute-{machine}", "-o", "json").stdout)
        assert limit["name"] == f"compute-{machine}" and limit["limit"] == 1
