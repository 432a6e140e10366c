"""``hybrid-eval store verify``: the files kept on disk and the figures kept in the store.

Files are checked by ``hybridcore.run.inventory``. A stored run is checked against the
result folders it was stored from (its ``evaluation`` artifacts): the folder against its seal,
then every figure and per-query score in the store against the folder's, bit for bit
(``hybridcore.analysis.same_figures``). A run whose folders are whole but whose rows differ is
repaired by storing the folders' figures again; a folder that is not on this machine (nor on
the artifact root) leaves its run unverified, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from db import queries, store
from hybridcore.analysis.same_figures import compare
from hybridcore.errors import DataError
from hybridcore.eval.results import Evaluation, load_evaluation
from hybridcore.files import folder_problem
from hybridcore.run.artifacts import localize
from hybridcore.run.inventory import Finding


def check_runs(engine: Engine, repair: bool = False) -> Iterator[Finding]:
    """Every completed run's stored rows against its result folders (repaired with ``repair``)."""
    runs = queries.runs(engine, status="completed")
    artifacts = queries.artifacts(engine, runs["id"].tolist())
    for run in runs.itertuples(index=False):
        mine = artifacts[artifacts["run_id"] == run.id]
        folders = mine.loc[mine["kind"] == "evaluation", "path"].tolist()
        if not folders:
            continue  # a training run: no figures to check
        try:
            evaluations = [_whole(folder) for folder in folders]
        except (DataError, FileNotFoundError) as err:
            yield Finding("stored run", run.name, f"unverified: {err}")
            continue
        problem = _differs(engine, run.id, evaluations)
        if problem is not None and repair:
            store.store_results(
                engine, run.id, evaluations, list(zip(mine["kind"], mine["path"])), run.timings, run.ended_at
            )
            problem = f"{problem}; stored again from its result folders"
        yield Finding("stored run", run.name, problem)


def _whole(folder: str) -> Evaluation:
    local = localize(folder)  # an artifact URL: the verified local copy
    if not Path(local).exists():
        raise FileNotFoundError(f"its result folder {folder} is not on this machine")
    if (problem := folder_problem(local)) is not None:
        raise DataError(local, "result folder", problem)
    return load_evaluation(local, verified=True)


def _differs(engine: Engine, run_id: int, evaluations: list[Evaluation]) -> str | None:
    stored = queries.metrics(engine, [run_id]).assign(run="run")
    kept = pd.concat([e.figures() for e in evaluations], ignore_index=True).assign(run="run")
    pairs = kept[["dataset", "metric"]].drop_duplicates().itertuples(index=False)
    stored_scores = pd.concat([queries.query_scores(engine, [run_id], d, m) for d, m in pairs], ignore_index=True)
    kept_scores = pd.concat([pd.DataFrame(e.per_query_columns()) for e in evaluations], ignore_index=True)
    result = compare(stored, kept, stored_scores.assign(run="run"), kept_scores.assign(run="run"))
    if result.same:
        return None
    return (
        f"{result.differing_figures} of {result.figures} figures and {result.differing_scores} of "
        f"{result.scores} per-query scores differ from its result folders, {result.only_in_one} rows in one only"
    )
