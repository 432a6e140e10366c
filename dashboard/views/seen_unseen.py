"""Seen vs unseen: languages of the training data against the rest, the zero-shot question."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.widgets import (completed_runs, default_treatment, download, experiment_caption, pick_dataset,
                               pick_one, pick_runs, run_figures, run_scores, short_labels, show, show_tests)
from hybridcore.analysis.comparison import paired_tests, seen_languages, seen_unseen, seen_unseen_differences
from hybridcore.analysis.figures import SETTING_LABELS


def render() -> None:
    st.title("Seen vs unseen languages")
    runs = completed_runs()
    chosen = pick_runs(runs, key="seen-runs")
    treatment = pick_one("Compare this run with each other", chosen, default_treatment(chosen, runs), "seen-treatment")
    figures = run_figures(runs, chosen)
    dataset = pick_dataset(figures, "seen-dataset")
    seen = seen_languages(runs.loc[runs["name"].isin(chosen), "seen_languages"])
    if not seen:
        st.info("The chosen runs record no training languages, so nothing counts as seen.")
        return
    languages = sorted(set(figures.loc[figures["dataset"] == dataset, "query_lang"]))
    unseen = ", ".join(x for x in languages if x not in seen) or "none"
    st.caption(f"{experiment_caption(chosen)}Seen in training: {', '.join(sorted(seen))}. Unseen: {unseen}. "
               "A group counts by its query language; each language's mean counts once.")
    short = short_labels(chosen)
    names, treatment = [short[c] for c in chosen], short[treatment]
    table = seen_unseen(figures, names, dataset, seen)
    st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
    download(table, "seen-unseen", index=False)

    st.header(f"{treatment} minus each other run")
    differences = seen_unseen_differences(table, treatment)
    st.dataframe(differences.style.format(precision=4), hide_index=True, width="stretch")
    download(differences, "seen-unseen-differences", index=False)
    if st.toggle("Test the differences (paired randomisation test on per-query mAP, seen and unseen query languages "
                 "apart, a question's translations averaged, Holm-corrected within each comparison)", value=True, key="seen-significance"):
        scores = run_scores(runs, chosen, dataset, "map")
        tests = pd.concat([paired_tests(scores, other, treatment, level="seen", seen=seen).assign(comparison=f"{treatment} - {other}")
                           for other in names if other != treatment], ignore_index=True)
        tests = tests[["comparison", *[c for c in tests.columns if c != "comparison"]]]
        tests["setting"] = tests["setting"].map(lambda s: SETTING_LABELS.get(s, s))
        show_tests(tests)
        download(tests, "seen-unseen-significance", index=False)
    if "Mul map" in table.columns:
        long = table[table["languages"] != "all"][["run", "languages", "Mul map"]]
        st.altair_chart(charts.grouped_bars(long, "languages", "Mul map", "run", "Multilingual mAP, seen vs unseen query languages"),
                        width="stretch")


show(render)
