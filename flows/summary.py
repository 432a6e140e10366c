"""The printed summary of an experiment, read back from the store."""

from __future__ import annotations

from db import queries
from db.session import make_engine
from hybridcore.report import seen_unseen_table


def experiment_summary(experiment: str, db_url: str | None = None) -> str:
    """Each run of the experiment: Mo / Cr / Mul mAP and rank distance, seen vs unseen."""
    engine = make_engine(db_url, read_only=False)
    runs = queries.runs(engine, experiment=experiment)
    if runs.empty:
        return f"no runs stored for {experiment}"
    rows = queries.metrics(engine, runs["id"].tolist())
    tables = []
    for dataset, part in rows.groupby("dataset", sort=False):
        records = {}
        for run in runs.sort_values("id").itertuples():
            mine = part[part["run_id"] == run.id]
            groups = {}
            for r in mine.itertuples():
                g = groups.setdefault((r.setting, r.query_lang, r.candidate_lang), {
                    "setting": r.setting, "query_lang": r.query_lang, "candidate_lang": r.candidate_lang,
                    "n_queries": r.n_queries, "metrics": {}})
                g["metrics"][r.metric] = r.value
            records[run.strategy] = {"groups": list(groups.values())}
        seen = set((runs["seen_languages"].iloc[0] or "").split(","))
        tables.append(f"{dataset} (seen in training: {','.join(sorted(seen))})\n{seen_unseen_table(records, seen)}")
    return "\n\n".join(tables)
