"""Language pairs: the query x candidate language heatmap of one run, and the difference of two."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import pair_matrix, paired_tests
from hybridcore.eval import catalogue


def render() -> None:
    st.title("Language pairs")
    runs = widgets.completed_runs()
    chosen = widgets.pick_runs(runs, key="pairs-runs")
    figures = widgets.run_figures(runs, chosen)
    dataset = widgets.pick_dataset(figures, "pairs-dataset", ("mono", "cross"))
    figures = figures[figures["dataset"] == dataset]
    pair_metrics = sorted(set(figures.loc[figures["setting"] == "cross", "metric"]))
    if not pair_metrics:
        st.info(f"{dataset} has no cross-lingual groups (BEIR-format sets have one language pair each).")
        return
    metric = st.sidebar.selectbox(
        "Metric",
        pair_metrics,
        index=pair_metrics.index("map") if "map" in pair_metrics else 0,
        format_func=catalogue.metric_label,
        key="pairs-metric",
    )
    run = widgets.pick_one("Heatmap of run", chosen, widgets.default_treatment(chosen, runs), "pairs-run")
    label = catalogue.metric_label(metric)
    short = widgets.short_labels(chosen)
    matrix = pair_matrix(figures, short[run], dataset, metric)
    st.caption(
        f"{widgets.experiment_caption(chosen)}{label} of every query-language × candidate-language group of {dataset}: "
        "the diagonal is "
        "monolingual (X→X), the rest cross-lingual (X→Y)."
    )
    st.altair_chart(charts.heatmap(matrix, f"{short[run]}: {label}", value_title=label))
    widgets.download(matrix, "pairs", index=True)

    if len(chosen) < 2:
        st.info("Choose a second run to see the differences between two runs.")
        return
    st.header("Difference between two runs")
    others = [r for r in chosen if r != run]
    baseline = widgets.pick_one("Minus run", others, widgets.default_baseline(others, runs), "pairs-baseline")
    difference = matrix - pair_matrix(figures, short[baseline], dataset, metric)
    marks = None
    if st.toggle(
        "Mark significant cells, run-level (paired randomisation test per pair, Holm-corrected, p < 0.05)",
        value=True,
        key="pairs-significance",
    ):
        scores = widgets.run_scores(runs, chosen, dataset, metric, only=[run, baseline])
        scores = scores[scores["setting"].isin(["mono", "cross"])]
        scores = scores.assign(
            candidate_lang=scores["candidate_lang"].where(scores["setting"] == "cross", scores["query_lang"])
        )
        marks = paired_tests(scores, short[baseline], short[run], level="pair")
    st.altair_chart(
        charts.heatmap(
            difference,
            f"{short[run]} − {short[baseline]}: {label}" + (" (* significant)" if marks is not None else ""),
            diverging=True,
            marks=marks,
            value_title=f"Δ {label}",
        )
    )
    widgets.download(difference, "pairs-difference", index=True)


widgets.show(render)
