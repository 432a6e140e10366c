"""The printed summary of an experiment, read back from the store."""

from __future__ import annotations

from db import queries
from db.session import make_engine
from hybridcore.analysis.coverage import exposure_notes, run_languages
from hybridcore.analysis.figures import arm_labels, pool_statement, strategy_rank
from hybridcore.analysis.tables import coverage_table


def experiment_summary(experiment: str, db_url: str | None = None) -> str:
    """Each arm of the experiment (strategy, and alpha where it sweeps them), per dataset:
    the headline figures over all languages and per coverage group (``coverage``: seen in
    fine-tuning, supervised retrieval data, documented pretraining, no documented exposure),
    averaged over its seeds, with what each set is measured on and its exposure flags."""
    engine = make_engine(db_url)
    runs = queries.runs(engine, experiment=experiment)
    if runs.empty:
        return f"no runs stored for {experiment}"
    runs = runs.assign(arm=arm_labels(runs)).sort_values(["strategy", "alpha"], key=_table_order, kind="stable")
    figures = queries.metrics(engine, runs["id"].tolist())
    figures["run"] = figures["run_id"].map(dict(zip(runs["id"], runs["arm"])))
    fine_tuning, exposure = run_languages(runs)
    arms = list(dict.fromkeys(runs["arm"]))
    seeds = sorted(runs["seed"].dropna().astype(int).unique())
    head = f"means over seeds {', '.join(map(str, seeds))} (the reference has none)\n\n" if len(seeds) > 1 else ""
    tables = []
    for dataset in figures["dataset"].unique():
        lines = [
            f"{dataset} (seen in fine-tuning: {','.join(sorted(fine_tuning)) or '-'})",
            pool_statement(figures[figures["dataset"] == dataset]),
            *exposure_notes(str(dataset), exposure),
            coverage_table(figures, arms, dataset, fine_tuning, exposure),
        ]
        tables.append("\n".join(lines))
    return head + "\n\n".join(tables)


def _table_order(column):
    return column.map(strategy_rank) if column.name == "strategy" else column
