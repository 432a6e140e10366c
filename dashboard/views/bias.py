"""Language bias: how far apart a query's answers in different languages rank in the pooled
multilingual set (rank distance, LAReQA's Mul setting)."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import per_language, per_language_median, rank_matrix, with_differences
from hybridcore.analysis.coverage import ALL_LANGUAGES


def render() -> None:
    st.title("Language bias")
    runs, chosen, baseline, figures = widgets.runs_and_one("bias", "baseline")
    dataset = widgets.pick_dataset(figures, "bias-dataset", ("multi",))
    if not ((figures["dataset"] == dataset) & (figures["metric"] == "rank_distance")).any():
        st.info(f"{dataset} has no multilingual (Mul) setting, so no rank distance.")
        return
    st.caption(
        widgets.experiment_caption(chosen)
        + "Rank distance (LAReQA): for each query, in the pool of all languages' candidates, the rank of its "
        "lowest-ranked answer minus that of its highest-ranked one (one answer per language). Small means the "
        "answers in every language sit together; lower is better. `all languages` is the mean over query languages."
    )
    short = widgets.short_labels(chosen)
    names, baseline = [short[c] for c in chosen], short[baseline]
    distance = per_language(figures, names, dataset, "multi", "rank_distance")
    table = with_differences(distance, baseline)
    st.dataframe(table.style.format(precision=1), width="stretch")
    widgets.download(table, "rank-distance", index=True)
    long = (
        distance.drop(index=ALL_LANGUAGES)
        .reset_index()
        .melt(id_vars="query_lang", var_name="run", value_name="rank distance")
    )
    st.altair_chart(
        charts.grouped_bars(
            long, "query_lang", "rank distance", "run", f"Rank distance per query language on {dataset}"
        ),
        width="stretch",
    )

    if ((figures["dataset"] == dataset) & (figures["metric"] == "rank_distance_norm")).any():
        st.header("Normalised rank distance per query language")
        st.caption(
            "The raw distance grows with the pool (its floor is n - 1 for n answers; a random ranking of N "
            "candidates gives about (N + 1)(n - 1) / (n + 1)), so it is rescaled: 0 = every answer adjacent, "
            "1 = a random ranking. Pools of different sizes compare on this scale. Mean (left), and the median "
            "over queries (right): a few scattered queries move the mean."
        )
        mean = with_differences(per_language(figures, names, dataset, "multi", "rank_distance_norm"), baseline)
        scores = widgets.run_scores(runs, chosen, dataset, "rank_distance_norm")
        median = with_differences(per_language_median(scores[scores["setting"] == "multi"], names), baseline)
        left, right = st.columns(2)
        left.dataframe(mean.style.format(precision=3), width="stretch")
        right.dataframe(median.style.format(precision=3), width="stretch")
        widgets.download(mean.join(median, rsuffix=" (median)"), "normalised-rank-distance", index=True)

    matrix = rank_matrix(figures, baseline, dataset)  # has this set a rank matrix?
    if not matrix.empty:
        st.header("Mean rank of the answer in each language")
        run = widgets.pick_one("Matrix of run", chosen, widgets.default_treatment(chosen, runs), "bias-matrix-run")
        matrix = rank_matrix(figures, short[run], dataset)
        st.caption(
            "Rows: the query's language; columns: the language of the answer; each cell is the mean rank of that "
            "answer in the pool of every language (1 = first). An unbiased model has flat rows; a row whose "
            "diagonal is far lower than its other cells prefers answers in the query's own language."
        )
        st.altair_chart(
            charts.heatmap(
                matrix, f"{short[run]}: mean rank of the answer", value_title="mean rank", value_format="{:.0f}"
            )
        )
        widgets.download(matrix, "mean-rank-matrix", index=True)

    st.header("Multilingual mAP per query language")
    mul = with_differences(per_language(figures, names, dataset, "multi", "map"), baseline)
    st.dataframe(mul.style.format(precision=4), width="stretch")
    widgets.download(mul, "multilingual-map", index=True)


widgets.show(render)
