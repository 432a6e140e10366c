"""Plain-text tables of an evaluation, for the terminal and the logs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from hybridcore.analysis import comparison
from hybridcore.analysis.figures import METRIC_LABELS, SETTING_LABELS, per_language

if TYPE_CHECKING:
    from hybridcore.eval.results import Evaluation


def _fmt(value: float, metric: str) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.1f}" if metric == "rank_distance" else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def summary_table(evaluation: Evaluation) -> str:
    """Macro averages: one row per setting, one column per metric."""
    summary = evaluation.summary()
    metrics = list(dict.fromkeys(m for s in summary.values() for m in s))
    rows = []
    for setting, values in summary.items():
        n = sum(1 for g in evaluation.groups if g.setting == setting)
        rows.append([SETTING_LABELS.get(setting, setting), str(n)] + [_fmt(values.get(m, math.nan), m) for m in metrics])
    return _table(["setting", "groups"] + [METRIC_LABELS.get(m, m) for m in metrics], rows)


def language_table(evaluation: Evaluation, metric: str = "map") -> str:
    """Per query language: Mo, mean Cr over candidate languages, Mul, and rank distance."""
    figures = evaluation.figures().assign(run="run")
    langs = list(dict.fromkeys(figures["query_lang"]))
    columns = [per_language(figures, ["run"], evaluation.dataset, setting, m).get("run", pd.Series(dtype=float))
               for setting, m in (("mono", metric), ("cross", metric), ("multi", metric), ("multi", "rank_distance"))]
    rows = [[lang] + [_fmt(float(col.get(lang, math.nan)), "rank_distance" if i == 3 else metric) for i, col in enumerate(columns)]
            for lang in langs]
    label = METRIC_LABELS.get(metric, metric)
    return _table(["lang", f"Mo {label}", f"Cr {label}", f"Mul {label}", "rank dist"], rows)


def seen_unseen_table(figures: pd.DataFrame, runs: list[str], dataset: str, seen: set[str]) -> str:
    """Runs side by side: macro Mo / Cr / Mul mAP and rank distance, over all query languages,
    the languages seen in training, and the unseen ones (``figures`` as in ``comparison``)."""
    table = comparison.seen_unseen(figures, runs, dataset, seen)
    columns = [c for c in table.columns if c not in ("run", "languages")]
    rows = []
    for row in table.itertuples(index=False):
        record = row._asdict()
        cells = [record["run"] if record["languages"] == "all" else "", record["languages"]]
        cells += [_fmt(value, "rank_distance" if column.endswith("rank_distance") else "map")
                  for column, value in zip(columns, row[2:])]
        rows.append(cells)
    header = [c.replace(" map", " mAP").replace(" rank_distance", " rank dist") for c in columns]
    return _table(["run", "languages", *header], rows)
