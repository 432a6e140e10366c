"""Altair charts of the dashboard (Altair ships with Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def heatmap(
    matrix: pd.DataFrame,
    title: str,
    diverging: bool = False,
    marks: pd.DataFrame | None = None,
    value_title: str = "mAP",
    value_format: str = "{:.2f}",
) -> alt.LayerChart:
    """Query language x candidate language; ``marks`` (query_lang, candidate_lang, significant)
    puts a star on significant cells. ``diverging`` centres the colours on zero (differences)."""
    long = (
        matrix.rename_axis(index="query_lang", columns="candidate_lang")
        .stack(future_stack=True)
        .rename("value")
        .reset_index()
    )
    long["significant"] = False
    if marks is not None and not marks.empty:
        flags = marks.set_index(["query_lang", "candidate_lang"])["significant"]
        long["significant"] = [
            bool(flags.get((q, c), False)) for q, c in zip(long["query_lang"], long["candidate_lang"])
        ]
    long["label"] = [
        ("" if pd.isna(v) else f"{v:+.3f}" if diverging else value_format.format(v)) + ("*" if s else "")
        for v, s in zip(long["value"], long["significant"])
    ]
    # light text on the dark ends of the colour scale
    spread = long["value"].abs().max() if diverging else (long["value"].max() - long["value"].min())
    low = 0 if diverging else long["value"].min()
    long["dark"] = (long["value"] - low).abs() > 0.6 * spread if diverging else (long["value"] - low) < 0.35 * spread
    scale = alt.Scale(scheme="redblue", domainMid=0) if diverging else alt.Scale(scheme="viridis")
    base = alt.Chart(long).encode(
        x=alt.X("candidate_lang:N", title="candidate language", sort=list(matrix.columns)),
        y=alt.Y("query_lang:N", title="query language", sort=list(matrix.index)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", scale=scale, title=value_title),
        tooltip=["query_lang", "candidate_lang", alt.Tooltip("value:Q", format=".4f"), "significant"],
    )
    text = base.mark_text(fontSize=10).encode(
        text="label:N", color=alt.condition("datum.dark", alt.value("white"), alt.value("black"))
    )
    size = 38 * max(len(matrix.columns), 1)
    return (cells + text).properties(title=title, width=size, height=size)


def grouped_bars(frame: pd.DataFrame, category: str, value: str, series: str, title: str) -> alt.Chart:
    """One group of bars per ``category``, one bar per ``series`` within it."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{category}:N", title=category),
            xOffset=alt.XOffset(f"{series}:N"),
            y=alt.Y(f"{value}:Q", title=value),
            color=alt.Color(f"{series}:N", title=series),
            tooltip=[category, series, alt.Tooltip(f"{value}:Q", format=".4f")],
        )
        .properties(title=title, height=320)
    )


def time_series(frame: pd.DataFrame, x: str, y: str, series: str, title: str) -> alt.Chart:
    """A line per ``series`` over time, with points."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title="started"),
            y=alt.Y(f"{y}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color(f"{series}:N", title=series),
            tooltip=[alt.Tooltip(f"{x}:T"), series, alt.Tooltip(f"{y}:Q", format=".4f"), "experiment"],
        )
        .properties(title=title, height=320)
    )
