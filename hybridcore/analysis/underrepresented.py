"""Figures per language, labelled by coverage, for the languages a model barely knows: the
per-language figures a format declares (``FormatMetadata.language_figures``), and its
per-question gaps between two settings (``FormatMetadata.gaps``; AfriQA: what asking in the
language costs).

``figures`` and ``scores`` are long frames as in ``comparison`` (a ``run`` column labels the
runs). Torch-free: the dashboard uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from hybridcore.analysis.coverage import COVERAGE_ORDER, Exposure, label_figures
from hybridcore.analysis.figures import macro, metric_label
from hybridcore.data.formats.metadata import Figure, Gap

FLAG = "exposure flag"  # the column naming an evaluation set the model may have seen
_KEYS = ("run", "language", "coverage", "flag")
_COLUMNS = ["run", "language", "coverage", FLAG]


def language_figures(
    figures: pd.DataFrame, wanted: Sequence[Figure], fine_tuning: Iterable[str], exposure: Exposure | None
) -> pd.DataFrame:
    """Per run and language: each ``wanted`` figure over the groups about that language
    (``macro``: ``en -> yo`` and ``yo -> en`` both count for Yoruba), with its coverage and
    its evaluation-set exposure flag (``FLAG``, "" for none); best covered, then
    alphabetically, first. Columns are the figures' labels."""
    labels = [metric_label(f.setting, f.metric) for f in wanted]
    parts = []
    for figure, label in zip(wanted, labels):
        cell = figures[(figures["setting"] == figure.setting) & (figures["metric"] == figure.metric)]
        if not cell.empty:
            per_language = macro(label_figures(cell, fine_tuning, exposure), by=_KEYS).rename(columns={"flag": FLAG})
            parts.append(per_language.set_index(_COLUMNS)["value"].rename(label))
    if not parts:
        return pd.DataFrame(columns=[*_COLUMNS, *labels])
    table = pd.concat(parts, axis=1).reset_index().rename_axis(columns=None)
    return _by_coverage(table.reindex(columns=[*_COLUMNS, *labels]))


def gap_table(
    figures: pd.DataFrame, gap: Gap, metric: str, fine_tuning: Iterable[str], exposure: Exposure | None
) -> pd.DataFrame:
    """Per run and query language: both settings' ``metric`` and the gap between them
    (``minuend - subtrahend``), with the language's coverage and exposure flag."""
    columns = [*_COLUMNS, gap.subtrahend, gap.minuend, gap.name]
    part = figures[figures["setting"].isin([gap.minuend, gap.subtrahend]) & (figures["metric"] == metric)]
    if part.empty:
        return pd.DataFrame(columns=columns)
    part = label_figures(part, fine_tuning, exposure).rename(columns={"flag": FLAG})
    index = ["run", "query_lang", "coverage", FLAG]
    wide = part.pivot_table(index=index, columns="setting", values="value").reset_index()
    wide[gap.name] = wide[gap.minuend] - wide[gap.subtrahend]
    wide = wide.rename(columns={"query_lang": "language"}).rename_axis(columns=None)
    return _by_coverage(wide[columns])


def gap_scores(scores: pd.DataFrame, gap: Gap) -> pd.DataFrame:
    """Per-query gaps (the same question in both settings) as scores of a setting named
    ``gap.name``, ready for ``comparison.paired_tests``."""
    part = scores[scores["setting"].isin([gap.minuend, gap.subtrahend])]
    keys = ["run", "dataset", "query_lang", "candidate_lang", "query_id", "metric"]
    wide = part.pivot_table(index=keys, columns="setting", values="value").reset_index()
    wide = wide.dropna(subset=[gap.minuend, gap.subtrahend])
    return wide.assign(setting=gap.name, value=wide[gap.minuend] - wide[gap.subtrahend])[[*keys, "setting", "value"]]


def with_gaps(scores: pd.DataFrame, metadata, metric: str) -> pd.DataFrame:
    """Per-query scores with each of the format's gaps (AfriQA: translated minus native) as a
    setting of its own, so the gap is tested like any figure."""
    if metadata is None or scores.empty:
        return scores
    parts = [scores]
    for gap in metadata.gaps:
        if metric in metadata.setting(gap.minuend).metrics:
            gaps = gap_scores(scores.assign(run=scores["run_id"]), gap).rename(columns={"run": "run_id"})
            if "run" in scores.columns:  # scores labelled with their runs' names (the dashboard's) keep them
                gaps["run"] = gaps["run_id"].map(dict(zip(scores["run_id"], scores["run"])))
            parts.append(gaps[scores.columns])
    return pd.concat(parts, ignore_index=True)


def _by_coverage(table: pd.DataFrame) -> pd.DataFrame:
    order = {label: i for i, label in enumerate(COVERAGE_ORDER)}
    return table.sort_values(
        ["coverage", "language", "run"], key=lambda c: c.map(order) if c.name == "coverage" else c, kind="stable"
    ).reset_index(drop=True)
