"""Plain-text tables of an evaluation, for the terminal and the logs."""

from __future__ import annotations

import math

import numpy as np

from hybridcore.evaluation import Evaluation

SETTING_LABELS = {"mono": "Mo", "cross": "Cr", "multi": "Mul", "beir": "BEIR"}
METRIC_LABELS = {"map": "mAP", "recall@1": "R@1", "recall@10": "R@10", "recall@100": "R@100",
                 "ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "rank_distance": "rank dist"}


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
    langs = list(dict.fromkeys(g.query_lang for g in evaluation.groups))
    rows = []
    for lang in langs:
        def mean_of(setting: str, m: str = metric) -> float:
            values = [g.mean(m) for g in evaluation.groups if g.setting == setting and g.query_lang == lang]
            return float(np.mean(values)) if values else math.nan
        rows.append([lang, _fmt(mean_of("mono"), metric), _fmt(mean_of("cross"), metric),
                     _fmt(mean_of("multi"), metric), _fmt(mean_of("multi", "rank_distance"), "rank_distance")])
    label = METRIC_LABELS.get(metric, metric)
    return _table(["lang", f"Mo {label}", f"Cr {label}", f"Mul {label}", "rank dist"], rows)


def _language_means(record: dict, setting: str, metric: str) -> dict[str, float]:
    """Per query language: mean over that language's groups of a setting (from a results JSON)."""
    per_lang: dict[str, list[float]] = {}
    for g in record["groups"]:
        value = g["metrics"].get(metric)
        if g["setting"] == setting and value is not None and not math.isnan(value):
            per_lang.setdefault(g["query_lang"], []).append(value)
    return {lang: float(np.mean(v)) for lang, v in per_lang.items()}


def seen_unseen_table(records: dict[str, dict], seen: set[str]) -> str:
    """Runs side by side: macro Mo / Cr / Mul mAP and rank distance, over all query languages,
    the languages seen in training, and the unseen ones."""
    columns = [("mono", "map", "Mo mAP"), ("cross", "map", "Cr mAP"), ("multi", "map", "Mul mAP"),
               ("multi", "rank_distance", "rank dist")]
    rows = []
    for label, record in records.items():
        for subset in ("all", "seen", "unseen"):
            cells = [label if subset == "all" else "", subset]
            for setting, metric, _ in columns:
                means = _language_means(record, setting, metric)
                keep = [v for lang, v in means.items()
                        if subset == "all" or (lang in seen) == (subset == "seen")]
                cells.append(_fmt(float(np.mean(keep)) if keep else math.nan, metric))
            rows.append(cells)
    return _table(["run", "languages"] + [c[2] for c in columns], rows)
