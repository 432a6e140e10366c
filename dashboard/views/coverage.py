"""Languages by coverage: what the model is documented to have seen of each (its exposure card)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import by_coverage, coverage_differences, paired_tests
from hybridcore.analysis.coverage import ALL_LANGUAGES, label_figures
from hybridcore.analysis.figures import setting_label


def render() -> None:
    st.title("Languages by coverage")
    runs, chosen, treatment, figures = widgets.runs_and_one("coverage", "treatment")
    dataset = widgets.pick_dataset(figures, "coverage-dataset")
    fine_tuning, exposure = widgets.run_languages(runs, chosen)
    st.caption(
        f"{widgets.experiment_caption(chosen)}A group counts for its less covered language (en→yo for Yoruba); "
        "each language's mean counts once."
    )
    widgets.exposure_caption(fine_tuning, exposure, figures[figures["dataset"] == dataset])
    short = widgets.short_labels(chosen)
    names, treatment = [short[c] for c in chosen], short[treatment]
    table = by_coverage(figures, names, dataset, fine_tuning, exposure)
    st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
    widgets.download(table, "coverage", index=False)

    st.header(f"{treatment} minus each other run")
    differences = coverage_differences(table, treatment)
    st.dataframe(differences.style.format(precision=4), hide_index=True, width="stretch")
    widgets.download(differences, "coverage-differences", index=False)
    metric = "map" if (figures["metric"] == "map").any() else figures["metric"].iloc[0]
    if st.toggle(
        f"Test the differences, run-level: run against run, not strategy against strategy (paired randomisation "
        f"test on per-query {metric}, each coverage group apart, a question's translations averaged, "
        "Holm-corrected within each comparison)",
        value=True,
        key="coverage-significance",
    ):
        scores = label_figures(widgets.run_scores(runs, chosen, dataset, metric), fine_tuning, exposure)
        tests = pd.concat(
            [
                paired_tests(scores, other, treatment, level="coverage").assign(comparison=f"{treatment} - {other}")
                for other in names
                if other != treatment
            ],
            ignore_index=True,
        )
        tests = tests[["comparison", *[c for c in tests.columns if c != "comparison"]]]
        tests["setting"] = tests["setting"].map(setting_label)
        widgets.show_tests(tests)
        widgets.download(tests, "coverage-significance", index=False)
    column = next((c for c in table.columns if c not in ("run", "languages")), None)
    if column is not None:
        long = table[table["languages"] != ALL_LANGUAGES][["run", "languages", column]]
        st.altair_chart(
            charts.grouped_bars(long, "languages", column, "run", f"{column} by coverage group"), width="stretch"
        )


widgets.show(render)
