"""Evaluations on disk: figures as JSON, per-query values as Parquet (no pickle anywhere)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from hybridcore.evaluation import Evaluation, GroupScores

_KEY = ["setting", "query_lang", "candidate_lang"]


def save_evaluation(evaluation: Evaluation, folder: str | Path, extra: dict | None = None) -> Path:
    """Write ``summary.json`` (figures and ``extra``) and ``per_query.parquet``, atomically."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "summary.json").write_text(json.dumps({**(extra or {}), **evaluation.to_dict()}, indent=1))
    pd.DataFrame(evaluation.per_query_columns()).to_parquet(tmp / "per_query.parquet", index=False)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def load_evaluation(folder: str | Path) -> Evaluation:
    """The inverse of ``save_evaluation``; groups keep the order they were saved in."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    frame = pd.read_parquet(folder / "per_query.parquet")
    groups = []
    by_group = {key: part for key, part in frame.groupby(_KEY, sort=False)}
    for g in summary["groups"]:
        part = by_group[(g["setting"], g["query_lang"], g["candidate_lang"])]
        metrics = list(dict.fromkeys(part["metric"]))
        ids = tuple(part.loc[part["metric"] == metrics[0], "query_id"])
        per_query = {m: part.loc[part["metric"] == m, "value"].to_numpy(dtype=np.float64) for m in metrics}
        groups.append(GroupScores(g["setting"], g["query_lang"], g["candidate_lang"], ids, per_query))
    return Evaluation(summary["dataset"], tuple(groups))
