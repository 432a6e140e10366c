"""Runs: every stored run, filterable, and the scheduled (nightly) evaluations over time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, data
from dashboard.widgets import download, labels, show
from hybridcore.analysis.figures import headlines, macro, metric_label, strategy_rank
from hybridcore.analysis.report import build_report, to_html
from hybridcore.eval.pools import SAMPLED_POOL_CAVEAT, pool_caveat

LEADING = ["id", "name", "strategy", "status"]
TRAILING = [
    "experiment",
    "alpha",
    "model",
    "train_set",
    "eval_sets",
    "started_at",
    "duration_s",
    "seed",
    "code_version",
    "error",
]


def selection(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: the step whose weights were kept, the steps trained, and the realised share
    of mono batches (empty for the reference and for runs stored before it was recorded)."""
    records = [r if isinstance(r, dict) else {} for r in runs.get("training", pd.Series([None] * len(runs)))]
    return pd.DataFrame(
        {
            "name": runs["name"].to_numpy(),
            "kept step": [r.get("best_step") for r in records],
            "steps": [r.get("steps_done") for r in records],
            "mono share": [r.get("mono_share") for r in records],
        }
    )


def headline(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run and evaluation set: its headline figures, as each set's format declares them."""
    figures = data.figures(tuple(runs["id"].tolist()), labels(runs))
    if figures.empty:
        return pd.DataFrame(columns=["name", "dataset"])
    ordered = [
        (dataset, f.setting, f.metric)
        for dataset, part in figures.groupby("dataset", sort=False)
        for f in headlines(part)
    ]
    wanted = set(ordered)
    columns = list(dict.fromkeys(metric_label(s, m) for _, s, m in ordered))
    table = macro(figures)
    keep = [(d, s, m) in wanted for d, s, m in zip(table["dataset"], table["setting"], table["metric"])]
    table = table[keep].assign(
        column=[metric_label(s, m) for s, m in zip(table["setting"][keep], table["metric"][keep])]
    )
    wide = table.pivot_table(index=["run", "dataset"], columns="column", values="value", sort=False)
    wide = wide.reindex(columns=[c for c in columns if c in wide.columns])
    return wide.reset_index().rename(columns={"run": "name"}).rename_axis(columns=None)


def filtered_runs() -> pd.DataFrame:
    everything = data.runs()
    if everything.empty:
        st.info("The store has no runs yet. Run `make run`, or start the workers and a deployment (see the README).")
        st.stop()
    first = everything["started_at"].min().date()
    last = everything["started_at"].max().date()
    cols = st.columns(6)
    choices = {}
    for col, field in zip(cols, ["model", "train_set", "strategy", "status"]):
        options = sorted(everything[field].dropna().unique(), key=lambda v: (strategy_rank(v), v))
        choices[field] = col.multiselect(field.replace("_", " "), options, key=f"runs-{field}")
    eval_sets = sorted({s for value in everything["eval_sets"].dropna() for s in value.split(",")})
    chosen_sets = cols[4].multiselect("evaluation set", eval_sets, key="runs-eval-set")
    dates = cols[5].date_input("started between", (first, last), key="runs-dates")
    start, end = dates if isinstance(dates, tuple | list) and len(dates) == 2 else (first, last)
    runs = data.runs(
        since=datetime.combine(start, time.min, UTC), until=datetime.combine(end + timedelta(days=1), time.min, UTC)
    )
    for field, values in choices.items():
        if values:
            runs = runs[runs[field].isin(values)]
    if chosen_sets:
        runs = runs[runs["eval_sets"].fillna("").map(lambda v: bool(set(v.split(",")) & set(chosen_sets)))]
    return runs


def report_section(runs: pd.DataFrame) -> None:
    """An experiment's report, the page `hybrid-eval report` writes, built from the store on request."""
    st.header("Experiment report")
    done = runs[runs["status"] == "completed"]
    experiments = list(dict.fromkeys(done["experiment"].dropna()))
    if not experiments:
        st.info("No completed experiment among these runs.")
        return
    experiment = st.selectbox("Experiment", experiments, key="report-experiment")
    st.caption(
        "Set-up, each arm's figures over its seeds with 95% intervals, hybrid minus mono and cross tested with the "
        f"question and the seed as the unit, and the paper's claims. The same page: `hybrid-eval report {experiment}`."
    )
    if st.button("Build the report", key="report-build"):
        chosen = done[done["experiment"] == experiment].reset_index(drop=True)
        ids, names = chosen["id"].tolist(), dict(zip(chosen["id"], chosen["name"]))
        report = build_report(experiment, chosen, data.figures(ids, names), lambda d, m: data.scores(ids, names, d, m))
        st.download_button(
            "Download the report (HTML)",
            to_html(report),
            file_name=f"{experiment}.html",
            mime="text/html",
            key="report-download",
        )


def render() -> None:
    st.title("Runs")
    runs = filtered_runs()
    st.caption(
        f"{len(runs)} runs. Each is one model (the untrained reference or one batch strategy) evaluated zero-shot."
    )
    # the figures next to the names; how the model was selected and provenance after them
    table = (
        runs[LEADING]
        .merge(headline(runs), on="name", how="left")
        .merge(selection(runs), on="name")
        .merge(runs[["name", *TRAILING]], on="name")
    )
    st.dataframe(table, hide_index=True, width="stretch")
    sampled = sorted(d for d in table.get("dataset", pd.Series(dtype=str)).dropna().unique() if pool_caveat(d))
    if sampled:
        st.warning(f"{', '.join(sampled)}: {SAMPLED_POOL_CAVEAT}.")
    download(table, "runs", index=False)

    report_section(runs)

    st.header("Scheduled evaluations over time")
    prefix = st.text_input("Experiments whose name starts with", "nightly", key="series-prefix")
    series = data.runs(experiment_prefix=prefix)
    series = series[series["status"] == "completed"]
    if series.empty:
        st.info(
            f"No completed runs of experiments starting with '{prefix}' yet. The `hybrid-eval/nightly` deployment "
            "names its experiments 'nightly-…'; it runs at 02:30 Berlin time while a worker is up."
        )
        return
    figures = macro(data.figures(tuple(series["id"].tolist()), labels(series)))
    left, right = st.columns(2)
    dataset = left.selectbox("Evaluation set", list(dict.fromkeys(figures["dataset"])), key="series-dataset")
    mine = figures[figures["dataset"] == dataset]
    options = [(f.setting, f.metric) for f in headlines(mine)] or sorted(set(zip(mine["setting"], mine["metric"])))
    setting, metric = right.selectbox("Figure", options, format_func=lambda o: metric_label(*o), key="series-figure")
    points = figures[(figures["dataset"] == dataset) & (figures["setting"] == setting) & (figures["metric"] == metric)]
    # one x per experiment (its first start), so a night's strategies line up
    series = series.assign(experiment_start=series.groupby("experiment")["started_at"].transform("min"))
    points = points.merge(
        series[["name", "experiment", "strategy", "experiment_start"]], left_on="run", right_on="name"
    )
    points = points.sort_values(["experiment_start", "strategy"])[
        ["experiment_start", "experiment", "strategy", "value"]
    ]
    st.altair_chart(
        charts.time_series(points, "experiment_start", "value", "strategy", metric_label(setting, metric)),
        width="stretch",
    )
    st.dataframe(points, hide_index=True, width="stretch")
    download(points, "series", index=False)


show(render)
