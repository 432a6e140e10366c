"""The printed summary of an experiment, read back from the store."""

from __future__ import annotations

from db import queries
from db.session import make_engine
from hybridcore.analysis.coverage import run_languages
from hybridcore.analysis.figures import strategy_rank
from hybridcore.analysis.tables import coverage_table


def experiment_summary(experiment: str, db_url: str | None = None) -> str:
    """Each run of the experiment, per dataset: the headline figures over all languages and
    per coverage group (seen in fine-tuning, pretraining only, never seen)."""
    engine = make_engine(db_url)
    runs = queries.runs(engine, experiment=experiment)
    runs = runs.sort_values("strategy", key=lambda s: s.map(strategy_rank), kind="stable")
    if runs.empty:
        return f"no runs stored for {experiment}"
    figures = queries.metrics(engine, runs["id"].tolist())
    figures["run"] = figures["run_id"].map(dict(zip(runs["id"], runs["strategy"])))
    fine_tuning, pretraining = run_languages(runs)
    tables = [f"{dataset} (seen in fine-tuning: {','.join(sorted(fine_tuning)) or '-'})\n"
              f"{coverage_table(figures, runs['strategy'].tolist(), dataset, fine_tuning, pretraining)}"
              for dataset in figures["dataset"].unique()]
    return "\n\n".join(tables)
