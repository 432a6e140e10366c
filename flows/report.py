"""``hybrid-eval report EXPERIMENT``: the experiment's report, from the store alone."""

from __future__ import annotations

from pathlib import Path

from db import queries
from db.session import make_engine
from hybridcore.analysis.nightly import CHECKPOINT, curve_experiment
from hybridcore.analysis.report import build_report, write_report
from hybridcore.config.paths import home_dir


def experiment_report(experiment: str, db_url: str | None = None, out: Path | None = None) -> tuple[Path, Path]:
    """Write ``<experiment>.html`` and ``.md`` (default folder: ``reports/`` in the home)."""
    engine = make_engine(db_url, read_only=True)
    runs = queries.runs(engine, experiment=experiment)
    runs = runs[runs["status"] == "completed"].reset_index(drop=True)
    if runs.empty:
        raise ValueError(f"no completed run is stored for experiment {experiment!r}")
    ids = runs["id"].tolist()
    curve_runs = queries.runs(engine, experiment=curve_experiment(experiment), status="completed")
    points = queries.series_points(engine, kind=CHECKPOINT, series=runs["name"].tolist())
    steps = {int(r): int(s) for r, s in zip(points["run_id"], points["step"]) if r in set(curve_runs["id"])}
    curve = (curve_runs, steps, queries.metrics(engine, list(steps))) if steps else None
    report = build_report(
        experiment,
        runs,
        queries.metrics(engine, ids),
        lambda dataset, metric: queries.query_scores(engine, ids, dataset, metric),
        curve,
    )
    return write_report(report, out or home_dir() / "reports")
