"""Compare runs: macro Mo / Cr / Mul figures side by side, with differences to a baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.widgets import (completed_runs, default_baseline, download, experiment_caption,
                               pick_dataset, pick_one, pick_runs, run_figures, short_labels, show)
from hybridcore.analysis.comparison import side_by_side
from hybridcore.analysis.figures import METRIC_LABELS, macro

DEFAULT_METRICS = ["map", "recall@1", "recall@10", "ndcg@10", "rank_distance"]
LOWER_IS_BETTER = {"rank_distance"}


def change_colours(table: pd.DataFrame, deltas: list[str]) -> pd.DataFrame:
    """CSS per cell: green where a run improves on the baseline, red where it is worse."""
    sign = np.where(table["metric"].isin(LOWER_IS_BETTER), -1.0, 1.0)[:, None]
    better = np.sign(table[deltas].to_numpy(dtype=float) * sign)
    css = np.select([better > 0, better < 0], ["color: #1a7f37", "color: #cf222e"], "")
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    styles[deltas] = css
    return styles


def render() -> None:
    st.title("Compare runs")
    runs = completed_runs()
    chosen = pick_runs(runs, key="compare-runs")
    baseline = pick_one("Baseline (differences are run − baseline)", chosen, default_baseline(chosen, runs), "compare-baseline")
    figures = run_figures(runs, chosen)
    dataset = pick_dataset(figures, "compare-dataset")
    figures = figures[figures["dataset"] == dataset]
    available = list(dict.fromkeys(figures["metric"]))
    metrics = st.multiselect("Metrics", available, default=[m for m in DEFAULT_METRICS if m in available],
                             format_func=lambda m: METRIC_LABELS.get(m, m), key="compare-metrics")
    short = short_labels(chosen)
    table = side_by_side(figures, [short[c] for c in chosen], short[baseline], metrics)
    st.caption(f"{experiment_caption(chosen)}Macro averages over each setting's groups on {dataset}: Mo = X→X per language, Cr = X→Y per "
               "language pair, Mul = one query language against the candidates of all languages. "
               "For rank distance lower is better.")
    deltas = [c for c in table.columns if str(c).startswith("Δ ")]
    st.dataframe(table.style.format(precision=4).apply(lambda _: change_colours(table, deltas), axis=None), hide_index=True, width="stretch")
    download(table, "comparison", index=False)

    bars = macro(figures)
    bars = bars[(bars["metric"] == "map") & bars["setting"].isin(["mono", "cross", "multi", "beir"])]
    bars = bars.assign(setting=bars["setting"].map({"mono": "Mo", "cross": "Cr", "multi": "Mul", "beir": "BEIR"}))
    st.altair_chart(charts.grouped_bars(bars.rename(columns={"value": "mAP"}), "setting", "mAP", "run",
                                        f"mAP per setting on {dataset}"), width="stretch")


show(render)
