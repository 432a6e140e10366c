"""Plain-text tables of an evaluation, for the terminal and the logs."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from hybridcore.analysis import comparison
from hybridcore.analysis.comparison import headline_columns
from hybridcore.analysis.coverage import ALL_LANGUAGES, COVERAGE_ORDER, Exposure, label_figures
from hybridcore.analysis.figures import metric_label, pool_statement, setting_label
from hybridcore.eval import catalogue

if TYPE_CHECKING:
    from hybridcore.eval.results import Evaluation


def _fmt(value: float, metric: str) -> str:
    if math.isnan(value):
        return "-"
    return catalogue.value_format(metric).format(value)


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
        rows.append([setting_label(setting), str(n)] + [_fmt(values.get(m, math.nan), m) for m in metrics])
    table = _table(["setting", "groups"] + [catalogue.metric_label(m) for m in metrics], rows)
    return f"{evaluation.dataset}: {pool_statement(evaluation.figures())}\n{table}"


def language_table(evaluation: Evaluation, fine_tuning: Iterable[str] = (), exposure: Exposure | None = None) -> str:
    """Per language, its coverage label, its evaluation-set exposure flag and each headline
    figure (a pair's figure counts for the language it is about: ``en -> yo`` and ``yo -> en``
    for Yoruba), best covered first."""
    figures = label_figures(evaluation.figures(), fine_tuning, exposure)
    columns = headline_columns(figures)
    rows = []
    for (label, lang), part in sorted(
        figures.groupby(["coverage", "language"]), key=lambda kv: (COVERAGE_ORDER.index(kv[0][0]), kv[0][1])
    ):
        cells = [lang, label, part["flag"].iloc[0] or "-"]
        for setting, metric in columns:
            values = part.loc[(part["setting"] == setting) & (part["metric"] == metric), "value"]
            cells.append(_fmt(float(values.mean()) if len(values) else math.nan, metric))
        rows.append(cells)
    return _table(["lang", "coverage", "exposure flag", *[metric_label(s, m) for s, m in columns]], rows)


def coverage_table(
    figures: pd.DataFrame, runs: list[str], dataset: str, fine_tuning: Iterable[str], exposure: Exposure | None
) -> str:
    """Runs side by side: each headline figure over all languages and over each coverage
    group (``figures`` as in ``comparison``)."""
    headlines = comparison.headline_columns(figures[figures["dataset"] == dataset])
    table = comparison.by_coverage(figures, runs, dataset, fine_tuning, exposure, headlines)
    metric_of = {metric_label(s, m): m for s, m in headlines}
    columns = [c for c in table.columns if c not in ("run", "languages")]
    rows = []
    for row in table.itertuples(index=False):
        record = row._asdict()
        cells = [record["run"] if record["languages"] == ALL_LANGUAGES else "", record["languages"]]
        cells += [_fmt(value, metric_of[column]) for column, value in zip(columns, row[2:])]
        rows.append(cells)
    return _table(["run", "languages", *columns], rows)
