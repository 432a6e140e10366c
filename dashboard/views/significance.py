"""Significance: is one run better than another, overall, per language, per pair?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.widgets import (completed_runs, default_baseline, default_treatment, download, pick_dataset, run_figures,
                               run_languages, run_scores, short_labels, show, show_tests)
from hybridcore.analysis.comparison import paired_tests
from hybridcore.analysis.coverage import label_figures
from hybridcore.analysis.figures import METRIC_LABELS

LEVELS = {"overall": "overall (per setting)", "coverage": "per coverage group (fine-tuning / pretraining / never seen)",
          "language": "per query language",
          "pair": "per language pair"}
CORRECTIONS = {"holm": "Holm (family-wise error)", "bh": "Benjamini-Hochberg (false discovery rate)"}


@st.cache_data(ttl=60, show_spinner="Running paired randomisation tests…")
def tests(scores: pd.DataFrame, a: str, b: str, level: str, correction: str, permutations: int, alpha: float) -> pd.DataFrame:
    return paired_tests(scores, a, b, level, correction, permutations, alpha=alpha)


def render() -> None:
    st.title("Significance")
    runs = completed_runs()
    names = runs["name"].tolist()
    newest = runs[runs["experiment"] == runs["experiment"].iloc[0]]["name"].tolist()
    a = st.sidebar.selectbox("Run A (baseline)", names, index=names.index(default_baseline(newest, runs)), key="sig-a")
    b = st.sidebar.selectbox("Run B", names, index=names.index(default_treatment(newest, runs)), key="sig-b")
    if a == b:
        st.info("Choose two different runs.")
        return
    figures = run_figures(runs, [a, b])
    dataset = pick_dataset(figures, "sig-dataset")
    metrics = [m for m in dict.fromkeys(figures.loc[figures["dataset"] == dataset, "metric"]) if m != "rank_distance"]
    metric = st.sidebar.selectbox("Metric (per query)", metrics, format_func=lambda m: METRIC_LABELS.get(m, m), key="sig-metric")
    level = st.sidebar.radio("Tests", list(LEVELS), format_func=LEVELS.get, index=2, key="sig-level")
    correction = st.sidebar.radio("Correction for many comparisons", list(CORRECTIONS), format_func=CORRECTIONS.get, key="sig-correction")
    alpha = st.sidebar.select_slider("Significance level", [0.01, 0.05, 0.1], value=0.05, key="sig-alpha")
    permutations = st.sidebar.select_slider("Permutations", [2_000, 10_000, 50_000], value=10_000, key="sig-permutations")

    fine_tuning, pretraining = run_languages(runs, [a, b])
    scores = label_figures(run_scores(runs, [a, b], dataset, metric), fine_tuning, pretraining)
    short = short_labels([a, b])
    table = tests(scores, short[a], short[b], level, correction, permutations, alpha)
    label = METRIC_LABELS.get(metric, metric)
    st.caption(f"Paired randomisation (sign-flip permutation) test of mean {label}(B) − {label}(A) over the queries both runs "
               f"scored, two-sided, {permutations:,} permutations; effect size Cohen's d for paired samples; p-values "
               f"{CORRECTIONS[correction]}-corrected over the {len(table)} rows of this table. B = {b}, A = {a}. "
               + ("A sample is a question, its translations averaged: they are not independent."
                  if level in ("overall", "coverage") else "A sample is a query (a question in one language).")
               + (f" Seen in fine-tuning: {', '.join(sorted(fine_tuning)) or 'none'}." if level == "coverage" else ""))
    show_tests(table)
    st.metric("Significant rows", f"{int(table['significant'].sum())} of {len(table)}")
    download(table, "significance", index=False)
    if level == "pair" and (table["setting"] == "cross").any():
        cross = table[table["setting"] == "cross"]
        matrix = cross.pivot_table(index="query_lang", columns="candidate_lang", values="delta")
        st.altair_chart(charts.heatmap(matrix, f"Cr {label}: B − A (* significant)", diverging=True, marks=cross,
                                       value_title=f"Δ {label}"))


show(render)
