"""An evaluation's results: per-query values per group, their figures, and their files.

On disk a result is a folder: ``summary.json`` (figures and what produced them),
``per_query.parquet`` (one row per group, query and metric) and ``checksums.json`` (the seal
every ``atomic_folder`` carries, checked before a folder is read back); no pickle anywhere.
Torch-free.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hybridcore.errors import DataError
from hybridcore.eval.aggregate import FIGURE_COLUMNS, macro
from hybridcore.files import atomic_folder, folder_problem

_KEY = ["setting", "query_lang", "candidate_lang"]


@dataclass(frozen=True)
class GroupScores:
    """Per-query metric values of one (setting, query language, candidate language) group."""

    setting: str
    query_lang: str
    candidate_lang: str
    query_ids: tuple[str, ...]
    per_query: dict[str, np.ndarray] = field(compare=False)
    pool_size: int | None = None  # candidates each query is ranked against (None: not recorded)

    def mean(self, metric: str) -> float:
        values = self.per_query[metric]
        return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


@dataclass(frozen=True)
class Evaluation:
    """All groups of one dataset's evaluation."""

    dataset: str
    groups: tuple[GroupScores, ...]
    notes: dict = field(default_factory=dict, compare=False)  # what the data left out, and why

    def figures(self) -> pd.DataFrame:
        """One row per (group, metric): the group's mean (None where no query has a value)."""
        rows = [
            (
                self.dataset,
                g.setting,
                g.query_lang,
                g.candidate_lang,
                metric,
                None if math.isnan(mean := g.mean(metric)) else mean,
                len(g.query_ids),
                g.pool_size,
            )
            for g in self.groups
            for metric in g.per_query
        ]
        return pd.DataFrame(rows, columns=FIGURE_COLUMNS).astype({"value": "float64", "pool_size": "Int64"})

    def summary(self) -> dict[str, dict[str, float]]:
        """Macro averages: setting -> metric -> value."""
        table = macro(self.figures(), by=("setting", "metric"))
        out: dict[str, dict[str, float]] = {}
        for row in table.itertuples(index=False):
            out.setdefault(row.setting, {})[row.metric] = float(row.value)
        return out

    def macro(self, setting: str, metric: str) -> float:
        return self.summary().get(setting, {}).get(metric, math.nan)

    def per_query_columns(self) -> dict[str, np.ndarray]:
        """One row per (group, query, metric), as arrays (hundreds of thousands of rows)."""
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("setting", "query_lang", "candidate_lang", "query_id", "metric", "value")
        }
        for g in self.groups:
            n = len(g.query_ids)
            for metric, values in g.per_query.items():
                parts["setting"].append(np.full(n, g.setting, dtype=object))
                parts["query_lang"].append(np.full(n, g.query_lang, dtype=object))
                parts["candidate_lang"].append(np.full(n, g.candidate_lang, dtype=object))
                parts["query_id"].append(np.asarray(g.query_ids, dtype=object))
                parts["metric"].append(np.full(n, metric, dtype=object))
                parts["value"].append(np.asarray(values, dtype=np.float64))
        cols = {k: np.concatenate(v) if v else np.array([], dtype=object) for k, v in parts.items()}
        cols["dataset"] = np.full(len(cols["value"]), self.dataset, dtype=object)
        return cols

    def to_dict(self) -> dict:
        """JSON-ready figures: macro summary and every group's means (no per-query values)."""
        return {
            "dataset": self.dataset,
            "notes": self.notes,
            "summary": self.summary(),
            "groups": [
                {
                    "setting": g.setting,
                    "query_lang": g.query_lang,
                    "candidate_lang": g.candidate_lang,
                    "n_queries": len(g.query_ids),
                    "pool_size": g.pool_size,
                    "metrics": {m: g.mean(m) for m in g.per_query},
                }
                for g in self.groups
            ],
        }


def save_evaluation(evaluation: Evaluation, folder: str | Path, extra: dict | None = None) -> Path:
    """Write ``summary.json`` (figures and ``extra``) and ``per_query.parquet``, atomically."""
    with atomic_folder(folder) as tmp:
        (tmp / "summary.json").write_text(json.dumps({**(extra or {}), **evaluation.to_dict()}, indent=1))
        pd.DataFrame(evaluation.per_query_columns()).to_parquet(tmp / "per_query.parquet", index=False)
    return Path(folder)


def read_summary(folder: str | Path) -> dict:
    """``summary.json`` of a result folder: figures, and the run spec and provenance beside them."""
    path = Path(folder) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a result folder (no summary.json)")
    return json.loads(path.read_text())


def load_evaluation(folder: str | Path, verified: bool = False) -> Evaluation:
    """The inverse of ``save_evaluation``, checked against the folder's seal first (unless
    the caller just did: ``verified``); groups keep the order they were saved in."""
    folder = Path(folder)
    if not verified and (problem := folder_problem(folder)) is not None:
        raise DataError(folder, "result folder", problem)
    summary = read_summary(folder)
    frame = pd.read_parquet(folder / "per_query.parquet")
    groups = []
    by_group = {key: part for key, part in frame.groupby(_KEY, sort=False)}
    for g in summary["groups"]:
        part = by_group[(g["setting"], g["query_lang"], g["candidate_lang"])]
        metrics = list(dict.fromkeys(part["metric"]))
        ids = tuple(part.loc[part["metric"] == metrics[0], "query_id"])
        per_query = {m: part.loc[part["metric"] == m, "value"].to_numpy(dtype=np.float64) for m in metrics}
        groups.append(
            GroupScores(g["setting"], g["query_lang"], g["candidate_lang"], ids, per_query, g.get("pool_size"))
        )
    return Evaluation(summary["dataset"], tuple(groups), summary.get("notes", {}))
