"""Underrepresented languages: AfriQA's cost of asking in the language, SIB-200's bitext
accuracy and language bias, grouped by what the model saw."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.widgets import (completed_runs, default_treatment, download, experiment_caption, pick_one, pick_runs, run_figures,
                               run_languages, run_scores, short_labels, show, show_tests)
from hybridcore.analysis.comparison import paired_tests
from hybridcore.analysis.coverage import COVERAGE_ORDER, label_figures
from hybridcore.analysis.underrepresented import GAP, afriqa_gap, bitext_and_bias, gap_scores


def _bars(table: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """One bar per language and run, languages sorted by coverage, coloured by it."""
    order = table.drop_duplicates("language")["language"].tolist()
    return alt.Chart(table).mark_bar().encode(
        x=alt.X("language:N", sort=order, title="language"), xOffset=alt.XOffset("run:N"),
        y=alt.Y(f"{value}:Q", title=value),
        color=alt.Color("coverage:N", scale=alt.Scale(domain=list(COVERAGE_ORDER)), title="coverage"),
        opacity=alt.Opacity("run:N", legend=alt.Legend(title="run")),
        tooltip=["run", "language", "coverage", alt.Tooltip(f"{value}:Q", format=".4f")],
    ).properties(title=title, height=320)


def render() -> None:
    st.title("Underrepresented languages")
    runs = completed_runs()
    chosen = pick_runs(runs, key="under-runs")
    treatment = pick_one("Compare this run with each other", chosen, default_treatment(chosen, runs), "under-treatment")
    figures = run_figures(runs, chosen)
    fine_tuning, pretraining = run_languages(runs, chosen)
    short = short_labels(chosen)
    names, treatment = [short[c] for c in chosen], short[treatment]
    st.caption(f"{experiment_caption(chosen)}Coverage: seen in fine-tuning ({', '.join(sorted(fine_tuning)) or 'none'}), "
               "in the model's pretraining only, or never seen.")

    st.header("AfriQA: what asking in the language costs")
    afriqa = figures[figures["setting"].isin(["native", "translated"])]
    if afriqa.empty:
        st.info("The chosen runs have no AfriQA figures (evaluate with --dataset afriqa).")
    else:
        metric = st.sidebar.selectbox("AfriQA metric", ["ndcg@10", "map", "recall@10", "mrr@10"], key="under-metric")
        gap = afriqa_gap(afriqa, fine_tuning, pretraining, metric)
        st.caption(f"{metric} of the questions as asked (X→pivot) and of their human translations (pivot→pivot) on the "
                   "same pool of passages; gap = pivot→pivot − X→pivot.")
        st.dataframe(gap.style.format(precision=4), hide_index=True, width="stretch")
        download(gap, "afriqa-gap", index=False)
        st.altair_chart(_bars(gap, GAP, f"Gap in {metric} (lower: the language costs less)"), width="stretch")
        others = [n for n in names if n != treatment]
        if others:
            st.subheader(f"Did {treatment} change the gap?")
            scores = gap_scores(run_scores(runs, chosen, afriqa["dataset"].iloc[0], metric))
            tests = pd.concat([paired_tests(scores, other, treatment, level="language").assign(comparison=f"{treatment} - {other}")
                               for other in others], ignore_index=True)
            labels = label_figures(tests.assign(candidate_lang="all"), fine_tuning, pretraining)["coverage"]
            tests = tests.assign(coverage=labels.to_numpy())
            st.caption("Paired randomisation test per language on the per-question gap (the same questions in both runs), "
                       "Holm-corrected within each comparison; delta < 0: the language costs less under "
                       f"{treatment}.")
            show_tests(tests[["comparison", "coverage", *[c for c in tests.columns if c not in ("comparison", "coverage")]]])
            download(tests, "afriqa-gap-tests", index=False)

    st.header("SIB-200 (FLORES-200): bitext accuracy and language bias")
    flores = figures[figures["setting"].isin(["bitext", "multi"]) & figures["dataset"].str.startswith("sib")]
    if flores.empty:
        st.info("The chosen runs have no SIB-200 figures (evaluate with --dataset sib-200).")
    else:
        table = bitext_and_bias(flores, fine_tuning, pretraining)
        st.caption("P@1: share of sentences whose translation ranks first against English (both directions averaged); "
                   "pooled mAP and rank distance: each sentence against every chosen language's sentences at once.")
        st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
        download(table, "sib-200-languages", index=False)
        st.altair_chart(_bars(table, "bitext P@1", "Bitext P@1 with English, by coverage"), width="stretch")
        if table["rank distance"].notna().any():
            st.altair_chart(_bars(table, "rank distance", "Rank distance (lower: less language bias)"), width="stretch")


show(render)
