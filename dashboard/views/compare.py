"""Compare runs: macro figures of one dataset side by side, with differences to a baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import side_by_side
from hybridcore.analysis.figures import format_of, headlines, macro, setting_label
from hybridcore.eval import catalogue


def change_colours(table: pd.DataFrame, deltas: list[str]) -> pd.DataFrame:
    """CSS per cell: green where a run improves on the baseline, red where it is worse."""
    sign = np.where(table["metric"].map(catalogue.lower_is_better), -1.0, 1.0)[:, None]
    better = np.sign(table[deltas].to_numpy(dtype=float) * sign)
    css = np.select([better > 0, better < 0], ["color: #1a7f37", "color: #cf222e"], "")
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    styles[deltas] = css
    return styles


def render() -> None:
    st.title("Compare runs")
    runs, chosen, baseline, figures = widgets.runs_and_one("compare", "baseline")
    dataset = widgets.pick_dataset(figures, "compare-dataset")
    figures = figures[figures["dataset"] == dataset]
    available = list(dict.fromkeys(figures["metric"]))
    headline = list(dict.fromkeys(f.metric for f in headlines(figures)))
    metrics = st.multiselect(
        "Metrics", available, default=headline or available, format_func=catalogue.metric_label, key="compare-metrics"
    )
    short = widgets.short_labels(chosen)
    table = side_by_side(figures, [short[c] for c in chosen], short[baseline], metrics)
    settings = "; ".join(f"{setting_label(s)}: {s_info}" for s, s_info in _descriptions(figures).items())
    st.caption(
        f"{widgets.experiment_caption(chosen)}Macro averages over each setting's groups (languages or language "
        f"pairs) on {dataset}. {settings}. Green: better than the baseline (for rank distance lower is better)."
    )
    deltas = [c for c in table.columns if str(c).startswith("Δ ")]
    st.dataframe(
        table.style.format(precision=4).apply(lambda _: change_colours(table, deltas), axis=None),
        hide_index=True,
        width="stretch",
    )
    widgets.download(table, "comparison", index=False)

    first = next(iter(headlines(figures)), None)
    if first is not None:
        label = catalogue.metric_label(first.metric)
        bars = macro(figures)
        bars = bars[bars["metric"] == first.metric].assign(setting=lambda b: b["setting"].map(setting_label))
        st.altair_chart(
            charts.grouped_bars(
                bars.rename(columns={"value": label}), "setting", label, "run", f"{label} per setting on {dataset}"
            ),
            width="stretch",
        )


def _descriptions(figures: pd.DataFrame) -> dict[str, str]:
    metadata = format_of(figures)
    present = set(figures["setting"])
    return {s.name: s.description for s in metadata.settings if s.name in present} if metadata else {}


widgets.show(render)
