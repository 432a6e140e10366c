"""Significance: is one run better than another, overall, per language, per pair? Run-level:
these tests compare two training runs; a strategy claim needs the report's seed-aware tests."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import paired_tests
from hybridcore.analysis.coverage import label_figures
from hybridcore.eval import catalogue

LEVELS = {
    "overall": "overall (per setting)",
    "coverage": "per coverage group (fine-tuning / supervised / documented pretraining / no documented exposure)",
    "language": "per query language",
    "pair": "per language pair",
}
CORRECTIONS = {"holm": "Holm (family-wise error)", "bh": "Benjamini-Hochberg (false discovery rate)"}


@st.cache_data(ttl=60, show_spinner="Running paired randomisation tests…")
def tests(
    scores: pd.DataFrame, a: str, b: str, level: str, correction: str, permutations: int, alpha: float
) -> pd.DataFrame:
    return paired_tests(scores, a, b, level, correction, permutations, alpha=alpha)


def render() -> None:
    st.title("Significance")
    runs = widgets.completed_runs()
    names = runs["name"].tolist()
    newest = runs[runs["experiment"] == runs["experiment"].iloc[0]]["name"].tolist()
    a = widgets.pick_one("Run A (baseline)", names, widgets.default_baseline(newest, runs), "sig-a")
    b = widgets.pick_one("Run B", names, widgets.default_treatment(newest, runs), "sig-b")
    if a == b:
        st.info("Choose two different runs.")
        return
    figures = widgets.run_figures(runs, [a, b])
    dataset = widgets.pick_dataset(figures, "sig-dataset")
    metrics = [m for m in dict.fromkeys(figures.loc[figures["dataset"] == dataset, "metric"]) if m != "rank_distance"]
    metric = st.sidebar.selectbox("Metric (per query)", metrics, format_func=catalogue.metric_label, key="sig-metric")
    level = st.sidebar.radio("Tests", list(LEVELS), format_func=LEVELS.get, index=2, key="sig-level")
    correction = st.sidebar.radio(
        "Correction for many comparisons", list(CORRECTIONS), format_func=CORRECTIONS.get, key="sig-correction"
    )
    alpha = st.sidebar.select_slider("Significance level", [0.01, 0.05, 0.1], value=0.05, key="sig-alpha")
    permutations = st.sidebar.select_slider(
        "Permutations", [2_000, 10_000, 50_000], value=10_000, key="sig-permutations"
    )

    fine_tuning, exposure = widgets.run_languages(runs, [a, b])
    scores = label_figures(widgets.run_scores(runs, [a, b], dataset, metric), fine_tuning, exposure)
    short = widgets.short_labels([a, b])
    table = tests(scores, short[a], short[b], level, correction, permutations, alpha)
    label = catalogue.metric_label(metric)
    st.caption(
        f"Paired randomisation (sign-flip permutation) test of mean {label}(B) − {label}(A) over the queries both runs "
        f"scored, two-sided, {permutations:,} permutations; effect size Cohen's d for paired samples; p-values "
        f"{CORRECTIONS[correction]}-corrected over the {len(table)} rows of this table. B = {b}, A = {a}. "
        + (
            "A sample is a question, its translations averaged: they are not independent."
            if level in ("overall", "coverage")
            else "A sample is a query (a question in one language)."
        )
        + (f" Seen in fine-tuning: {', '.join(sorted(fine_tuning)) or 'none'}." if level == "coverage" else "")
    )
    st.warning(
        "Run-level: these tests compare two runs (one training seed each), so a significant row says these two "
        "models differ, not that one batch strategy beats another. Strategy claims are the report's "
        "(`hybrid-eval report`): arms over several seeds, the primary hypotheses declared in the spec."
    )
    widgets.show_tests(table.assign(level="run-level"))
    st.metric("Significant rows (run-level)", f"{int(table['significant'].sum())} of {len(table)}")
    widgets.download(table, "significance", index=False)
    if level == "pair" and (table["setting"] == "cross").any():
        cross = table[table["setting"] == "cross"]
        matrix = cross.pivot_table(index="query_lang", columns="candidate_lang", values="delta")
        st.altair_chart(
            charts.heatmap(
                matrix, f"Cr {label}: B − A (* significant)", diverging=True, marks=cross, value_title=f"Δ {label}"
            )
        )


widgets.show(render)
