"""The printed summary of an experiment, read back from the store."""

from __future__ import annotations

from db import queries
from db.session import make_engine
from hybridcore.analysis.comparison import seen_languages
from hybridcore.analysis.figures import strategy_rank
from hybridcore.analysis.tables import seen_unseen_table


def experiment_summary(experiment: str, db_url: str | None = None) -> str:
    """Each run of the experiment: Mo / Cr / Mul mAP and rank distance, seen vs unseen."""
    engine = make_engine(db_url)
    runs = queries.runs(engine, experiment=experiment)
    runs = runs.sort_values("strategy", key=lambda s: s.map(strategy_rank), kind="stable")
    if runs.empty:
        return f"no runs stored for {experiment}"
    figures = queries.metrics(engine, runs["id"].tolist())
    figures["run"] = figures["run_id"].map(dict(zip(runs["id"], runs["strategy"])))
    seen = seen_languages(runs["seen_languages"])
    tables = [f"{dataset} (seen in training: {','.join(sorted(seen)) or '-'})\n"
              f"{seen_unseen_table(figures, runs['strategy'].tolist(), dataset, seen)}"
              for dataset in figures["dataset"].unique()]
    return "\n\n".join(tables)
