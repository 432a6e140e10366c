"""Underrepresented languages, grouped by what the model saw: for every dataset of the chosen
runs, the per-question gaps its format declares (AfriQA: what asking in the language costs)
and its per-language figures (SIB-200: bitext accuracy and language bias; Tatoeba: bitext)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import widgets
from hybridcore.analysis.comparison import paired_tests
from hybridcore.analysis.coverage import COVERAGE_ORDER, label_figures
from hybridcore.analysis.figures import format_of, setting_label
from hybridcore.analysis.underrepresented import gap_scores, gap_table, language_figures
from hybridcore.data.formats.metadata import POOLED, FormatMetadata, Gap
from hybridcore.data.formats.registry import all_metadata
from hybridcore.eval import catalogue


def _bars(table: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """One bar per language and run, languages sorted by coverage, coloured by it."""
    order = table.drop_duplicates("language")["language"].tolist()
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("language:N", sort=order, title="language"),
            xOffset=alt.XOffset("run:N"),
            y=alt.Y(f"{value}:Q", title=value),
            color=alt.Color("coverage:N", scale=alt.Scale(domain=list(COVERAGE_ORDER)), title="coverage"),
            opacity=alt.Opacity("run:N", legend=alt.Legend(title="run")),
            tooltip=["run", "language", "coverage", alt.Tooltip(f"{value}:Q", format=".4f")],
        )
        .properties(title=title, height=320)
    )


def _gap_section(dataset: str, gap: Gap, metadata: FormatMetadata, figures: pd.DataFrame, context: dict) -> None:
    minuend, subtrahend = setting_label(gap.minuend), setting_label(gap.subtrahend)
    st.header(f"{dataset}: {gap.description}")
    widgets.pool_caption(figures)
    metrics = list(metadata.setting(gap.minuend).metrics)
    metric = st.sidebar.selectbox(
        f"{dataset} metric", metrics, format_func=catalogue.metric_label, key=f"under-metric-{dataset}"
    )
    table = gap_table(figures, gap, metric, context["fine_tuning"], context["exposure"])
    st.caption(
        f"{catalogue.metric_label(metric)} of {subtrahend} and of {minuend} on the same queries and pool; "
        f"{gap.name} = {minuend} − {subtrahend}."
    )
    st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
    widgets.download(table, f"{dataset}-{gap.name}", index=False)
    st.altair_chart(
        _bars(table, gap.name, f"{gap.name} in {catalogue.metric_label(metric)} by language"), width="stretch"
    )
    treatment, others = context["treatment"], [n for n in context["names"] if n != context["treatment"]]
    if others:
        st.subheader(f"Did {treatment} change the {gap.name}?")
        scores = gap_scores(widgets.run_scores(context["runs"], context["chosen"], dataset, metric), gap)
        tests = pd.concat(
            [
                paired_tests(scores, other, treatment, level="language").assign(comparison=f"{treatment} - {other}")
                for other in others
            ],
            ignore_index=True,
        )
        labels = label_figures(tests.assign(candidate_lang=POOLED), context["fine_tuning"], context["exposure"])[
            "coverage"
        ]
        tests = tests.assign(coverage=labels.to_numpy())
        st.caption(
            f"Run-level (run against run, not strategy against strategy): paired randomisation test per language on "
            f"the per-query {gap.name} (the same queries in both runs), "
            f"Holm-corrected within each comparison; delta: the change of {minuend} − {subtrahend} under {treatment}."
        )
        widgets.show_tests(
            tests[["comparison", "coverage", *[c for c in tests.columns if c not in ("comparison", "coverage")]]]
        )
        widgets.download(tests, f"{dataset}-{gap.name}-tests", index=False)


def _language_section(dataset: str, metadata: FormatMetadata, figures: pd.DataFrame, context: dict) -> None:
    st.header(f"{dataset}: per language")
    widgets.pool_caption(figures)
    table = language_figures(figures, metadata.language_figures, context["fine_tuning"], context["exposure"])
    st.caption(
        "; ".join(
            f"{s.label}: {s.description}"
            for s in metadata.settings
            if any(f.setting == s.name for f in metadata.language_figures)
        )
        + "."
    )
    st.dataframe(table.style.format(precision=4), hide_index=True, width="stretch")
    widgets.download(table, f"{dataset}-languages", index=False)
    for figure in metadata.language_figures:
        label = metadata.label(figure)
        if label in table.columns and table[label].notna().any():
            better = "lower" if figure.lower_is_better else "higher"
            st.altair_chart(_bars(table, label, f"{label} by coverage ({better} is better)"), width="stretch")


def render() -> None:
    st.title("Underrepresented languages")
    runs, chosen, treatment, figures = widgets.runs_and_one("under", "treatment")
    fine_tuning, exposure = widgets.run_languages(runs, chosen)
    short = widgets.short_labels(chosen)
    context = {
        "runs": runs,
        "chosen": chosen,
        "names": [short[c] for c in chosen],
        "treatment": short[treatment],
        "fine_tuning": fine_tuning,
        "exposure": exposure,
    }
    st.caption(widgets.experiment_caption(chosen))
    widgets.exposure_caption(fine_tuning, exposure, figures)
    shown = 0
    for dataset, part in figures.groupby("dataset", sort=False):
        metadata = format_of(part)
        if metadata is None:
            continue
        for gap in metadata.gaps:
            _gap_section(str(dataset), gap, metadata, part, context)
            shown += 1
        if metadata.language_figures:
            _language_section(str(dataset), metadata, part, context)
            shown += 1
    if not shown:
        per_language = [m.name for m in all_metadata() if m.gaps or m.language_figures]
        st.info(
            "The chosen runs have no per-language figures of underrepresented languages: evaluate a set in a "
            f"format that declares them ({', '.join(per_language)})."
        )


widgets.show(render)
