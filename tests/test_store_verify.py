"""``hybrid-eval store verify`` on a damaged home: it names every damaged entry (exit 1),
``--repair`` removes them and stores a run's figures again from its whole result folder, and
the next run makes the removed entries again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from db import queries
from db.models import MetricRow
from db.session import make_engine
from hybridcore.config.spec import EncoderSettings
from hybridcore.run import pipeline
from tests.test_integrity import SIB, figures, flip_byte, flip_floats, truncate

CLI = str(Path(sys.executable).parent / "hybrid-eval")


def verify(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "store", "verify", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=600
    )


def test_verify_finds_every_damaged_kind_and_repair_removes_it(tiny_model, shared_data, tmp_path, monkeypatch):
    home, url = tmp_path / "home", f"duckdb:///{tmp_path / 'store.duckdb'}"
    env = {"HYBRID_EVAL_HOME": str(home), "HYBRID_EVAL_DB_URL": url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = EncoderSettings(precision="fp32")
    stored = pipeline.evaluate_model(str(tiny_model), SIB, settings)
    other = pipeline.evaluate_model(str(tiny_model), "sib-200?languages=quick&split=test&sample=10", settings)
    data = pipeline.prepare_training_data("mlqa-r")
    done = subprocess.run(
        [CLI, "store", "import", stored.path], capture_output=True, text=True, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    healthy = verify(env)
    assert healthy.returncode == 0 and "0 damaged" in healthy.stdout, healthy.stdout + healthy.stderr

    embedding = next((home / "embeddings").rglob("*.safetensors"))
    flip_floats(embedding)
    flip_byte(Path(other.path, "per_query.parquet"))
    truncate(Path(data.path))
    engine = make_engine(url)
    with engine.begin() as conn:  # a stored figure changed behind the product's back
        conn.execute(update(MetricRow).where(MetricRow.metric == "map").values(value=0.5))

    found = verify(env)
    assert found.returncode == 1, found.stdout + found.stderr
    for name in (embedding.name, Path(other.path).name, Path(data.path).name, "reference"):
        assert any(name in line and line.startswith("damaged") for line in found.stdout.splitlines()), found.stdout
    assert "4 damaged" in found.stdout, found.stdout

    repaired = verify(env, "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert not embedding.exists() and not Path(other.path).exists() and not Path(data.path).exists()
    runs = queries.runs(engine)
    kept = queries.metrics(engine, runs["id"].tolist()).set_index(["setting", "query_lang", "candidate_lang", "metric"])
    assert kept["value"].to_dict() == figures(stored.path)  # stored again from the result folder
    assert "0 damaged" in verify(env).stdout
