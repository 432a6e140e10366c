"""Nightly: each watched series' figures along its steps (or over time), per exposure group,
with the regressions the nightlies flagged, and a night's report beside them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, widgets
from hybridcore.analysis.comparison import by_coverage
from hybridcore.analysis.coverage import run_languages
from hybridcore.analysis.figures import headlines, metric_label
from hybridcore.analysis.nightly import CHECKPOINT, RUN_LEVEL_NOTE, ordered


def curve_chart(points: pd.DataFrame, x: str, figure: str) -> alt.Chart:
    """A line per language group along ``x``; a regression is a red cross on its point."""
    x_type = "Q" if x == "step" else "T"
    base = alt.Chart(points).encode(
        x=alt.X(f"{x}:{x_type}", title="step" if x == "step" else "appeared"),
        y=alt.Y("value:Q", title=figure, scale=alt.Scale(zero=False)),
        color=alt.Color("languages:N", title="language group"),
        tooltip=["model", "languages", alt.Tooltip("value:Q", format=".4f"), "regression"],
    )
    lines = base.mark_line(point=True)
    flagged = (
        alt.Chart(points[points["regression"]])
        .mark_point(shape="cross", size=220, color="red", filled=True)
        .encode(x=f"{x}:{x_type}", y="value:Q", tooltip=["model", "languages", "regression"])
    )
    return (lines + flagged).properties(title=figure, height=340)


def render() -> None:
    st.title("Nightly evaluations")
    points = data.series_points()
    watched = points[points["kind"] != CHECKPOINT]
    nights = data.nightly_reports()
    left, right = st.columns([3, 2])
    with left:
        st.header("Series over their steps")
        if watched.empty:
            st.info(
                "No watched series yet: no nightly has evaluated a checkpoint or a reference. Point the "
                "`hybrid-eval/nightly` deployment at a training job's folder (a watch list, see the README) "
                "and each night's new checkpoints appear here."
            )
        else:
            series_chart(watched)
    with right:
        st.header("The night's report")
        if nights.empty:
            st.info("No nightly has run yet: its report (the Prefect artifact's text) will be shown here.")
        else:
            night = st.selectbox("Night", nights["night"].tolist(), key="nightly-night")
            report = nights[nights["night"] == night].iloc[0]
            st.caption(
                f"{report['evaluated']} evaluated, {report['regressions']} regression(s)"
                + (", the evaluation changed" if report["evaluation_changed"] else "")
            )
            st.markdown(report["markdown"])


def series_chart(points: pd.DataFrame) -> None:
    names = list(dict.fromkeys(points["series"]))
    asked = st.query_params.get("series")
    series = st.sidebar.selectbox(
        "Series", names, index=names.index(asked) if asked in names else 0, key="nightly-series"
    )
    mine = ordered(points[points["series"] == series])
    runs = widgets.completed_runs()
    runs = runs[runs["id"].isin(mine["run_id"])]
    short = mine["name"].str.rsplit("/", n=1).str[-1]  # checkpoint-300; the reference's repeat: whole names
    label = dict(zip(mine["run_id"], short if short.is_unique else mine["name"]))
    figures = data.figures(tuple(label), {int(k): v for k, v in label.items()})
    if figures.empty:
        st.info(f"The runs of series {series} have no stored figures.")
        return
    dataset = widgets.pick_dataset(figures, "nightly-dataset")
    fine_tuning, exposure = run_languages(runs)
    table = by_coverage(figures, list(label.values()), dataset, fine_tuning, exposure)
    options = [metric_label(f.setting, f.metric) for f in headlines(figures[figures["dataset"] == dataset])]
    figure = st.sidebar.selectbox("Figure", [o for o in options if o in table.columns], key="nightly-figure")
    changes = data.night_changes([series])
    flagged = changes[changes["regression"] & (changes["dataset"] == dataset) & (changes["figure"] == figure)]
    marks = {(label.get(r), g) for r, g in zip(flagged["run_id"], flagged["languages"])}
    x = "step" if mine["step"].notna().all() else "appeared_at"
    curve = table[["run", "languages", figure]].rename(columns={"run": "model", figure: "value"})
    curve = curve.merge(
        mine.assign(model=mine["run_id"].map(label))[["model", "step", "appeared_at", "night"]], on="model"
    )
    curve["regression"] = [(m, g) in marks for m, g in zip(curve["model"], curve["languages"])]
    st.altair_chart(curve_chart(curve, x, f"{dataset} {figure}"), width="stretch")
    st.caption(
        f"{len(mine)} model(s) of series {series}, ordered by {'step' if x == 'step' else 'the time they appeared'}; "
        f"a red cross marks a regression the nightly flagged against the previous or the first model. {RUN_LEVEL_NOTE}"
    )
    st.dataframe(curve, hide_index=True, width="stretch")
    widgets.download(curve, f"nightly-{series}", index=False)
    if len(changes):
        st.subheader("What each night compared")
        shown = changes[(changes["dataset"] == dataset)].assign(model=changes["run_id"].map(label))
        columns = ["night", "model", "against", "figure", "languages", "before", "after", "delta", "p_regression_holm"]
        st.dataframe(shown[[*columns, "regression"]], hide_index=True, width="stretch")
        st.metric("Regressions flagged (run-level)", int(shown["regression"].sum()))


widgets.show(render)
