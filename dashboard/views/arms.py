"""Arms: one experiment's arms over their seeds, as the report computes them (mean, the
report's 95% interval, each seed's value), and each arm's learning curve where the
experiment exported checkpoints. The same function builds both, so they never disagree."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, widgets
from hybridcore.analysis.nightly import CHECKPOINT, CURVE_SUFFIX, curve_experiment
from hybridcore.analysis.report import Report, build_report, curve_table, figure_table
from hybridcore.config.spec import STRATEGIES


@st.cache_data(ttl=data.CACHE_SECONDS, show_spinner="Computing the report's figures and intervals…")
def experiment_report(url: str, experiment: str) -> Report:
    runs = data.runs()
    mine = runs[(runs["experiment"] == experiment) & (runs["status"] == "completed")].reset_index(drop=True)
    ids = mine["id"].tolist()
    names = dict(zip(ids, mine["name"]))
    curve_runs = runs[(runs["experiment"] == curve_experiment(experiment)) & (runs["status"] == "completed")]
    points = data.series_points()
    points = points[(points["kind"] == CHECKPOINT) & points["run_id"].isin(curve_runs["id"])]
    steps = {int(r): int(s) for r, s in zip(points["run_id"], points["step"])}
    curve = (curve_runs, steps, data.figures(tuple(steps), {})) if steps else None
    return build_report(
        experiment, mine, data.figures(tuple(ids), names), lambda d, m: data.scores(tuple(ids), names, d, m), curve
    )


def curve_chart(curves: pd.DataFrame, figure: str) -> alt.Chart:
    """Each arm's figure along the exported steps, one panel per language group."""
    part = curves[curves["column"] == figure]
    return (
        alt.Chart(part)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", title="step"),
            y=alt.Y("mean:Q", title=f"{figure} (mean over seeds)", scale=alt.Scale(zero=False)),
            color=alt.Color("arm:N", title="arm"),
            tooltip=["arm", "languages", "step", alt.Tooltip("mean:Q", format=".4f"), "seeds"],
        )
        .properties(width=260, height=220)
        .facet(facet=alt.Facet("languages:N", title="language group"), columns=3)
    )


def render() -> None:
    st.title("Arms over their seeds")
    runs = widgets.completed_runs()
    experiments = [e for e in dict.fromkeys(runs["experiment"].dropna()) if not e.endswith(CURVE_SUFFIX)]
    trained = [e for e in experiments if runs.loc[runs["experiment"] == e, "strategy"].isin(STRATEGIES).any()]
    if not trained:
        st.info("No experiment with trained arms is stored yet: `make run` trains mono, cross and hybrid.")
        return
    experiment = st.sidebar.selectbox("Experiment", trained, key="arms-experiment")
    report = experiment_report(data.store_url(), experiment)
    st.caption(
        f"Experiment `{experiment}`: each cell is the arm's mean over its seeds [the report's 95% interval, with "
        "the questions and the training seeds as sources of chance] (each seed's value). With one seed an "
        "arm has no interval and its comparisons are run-level. The same numbers as `hybrid-eval report`."
    )
    for section in report.sections:
        st.header(section.name)
        st.caption(section.pool)
        table = figure_table(section.figures, section.value_formats)
        st.dataframe(table, hide_index=True, width="stretch")
        widgets.download(table, f"arms-{section.name}", index=False)
    st.header("Learning curves")
    if report.curves.empty:
        st.info(
            "This experiment exported no checkpoints. Run it with `--export-at 0.25 --export-at 0.5 --export-at 1` "
            "and each arm is evaluated at those shares of its steps too."
        )
        return
    dataset = st.selectbox("Evaluation set", list(dict.fromkeys(report.curves["dataset"])), key="arms-curve-dataset")
    curves = report.curves[report.curves["dataset"] == dataset]
    figure = st.selectbox("Figure", list(dict.fromkeys(curves["column"])), key="arms-curve-figure")
    st.altair_chart(curve_chart(curves, figure), width="content")
    table = curve_table(curves)
    st.dataframe(table, hide_index=True, width="stretch")
    widgets.download(table, f"learning-curves-{dataset}", index=False)


widgets.show(render)
