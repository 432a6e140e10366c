"""Languages by coverage: seen in fine-tuning, in pretraining only, never seen by the model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.widgets import (completed_runs, default_treatment, download, experiment_caption, pick_dataset, pick_one,
                               pick_runs, run_figures, run_languages, run_scores, short_labels, show, show_tests)
from hybridcore.analysis.comparison import by_coverage, coverage_differences, paired_tests
from hybridcore.analysis.coverage import label_figures
from hybridcore.analysis.figures import SETTING_LABELS


def render() -> None:
    st.title("Languages by coverage")
    runs = completed_runs()
    chosen = pick_runs(runs, key="coverage-runs")
    treatment = pick_one("Compare this run with each other", chosen, default_treatment(chosen, runs), "coverage-treatment")
    figures = run_figures(runs, chosen)
    dataset = pick_dataset(figures, "coverage-dataset")
    fine_tuning, pretraining = run_languages(runs, chosen)
    st.caption(f"{experiment_caption(chosen)}Seen in fine-tuning: {', '.join(sorted(fine_tuning)) or 'none'}. "
               f"Pretraining languages: {'unknown' if pretraining is None else f'{len(pretraining)} recorded for the model'}. "
               "A group counts for its less covered language (en→yo for Yoruba); each language's mean counts once.")
    short = short_labels(chosen)
    names, treatment = [short[c] for c in chosen], short[treatment]
    table = by_coverage(figures, names, dataset, fine_tuning, pretraining)
    st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
    download(table, "coverage", index=False)

    st.header(f"{treatment} minus each other run")
    differences = coverage_differences(table, treatment)
    st.dataframe(differences.style.format(precision=4), hide_index=True, width="stretch")
    download(differences, "coverage-differences", index=False)
    metric = "map" if (figures["metric"] == "map").any() else figures["metric"].iloc[0]
    if st.toggle(f"Test the differences (paired randomisation test on per-query {metric}, each coverage group apart, "
                 "a question's translations averaged, Holm-corrected within each comparison)", value=True, key="coverage-significance"):
        scores = label_figures(run_scores(runs, chosen, dataset, metric), fine_tuning, pretraining)
        tests = pd.concat([paired_tests(scores, other, treatment, level="coverage").assign(comparison=f"{treatment} - {other}")
                           for other in names if other != treatment], ignore_index=True)
        tests = tests[["comparison", *[c for c in tests.columns if c != "comparison"]]]
        tests["setting"] = tests["setting"].map(lambda s: SETTING_LABELS.get(s, s))
        show_tests(tests)
        download(tests, "coverage-significance", index=False)
    column = next((c for c in table.columns if c not in ("run", "languages")), None)
    if column is not None:
        long = table[table["languages"] != "all"][["run", "languages", column]]
        st.altair_chart(charts.grouped_bars(long, "languages", column, "run", f"{column} by coverage group"), width="stretch")


show(render)
