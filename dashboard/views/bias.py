"""Language bias: how far apart a query's answers in different languages rank in the pooled
multilingual set (rank distance, LAReQA's Mul setting)."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, widgets
from hybridcore.analysis.comparison import per_language, with_differences
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

    st.header("Multilingual mAP per query language")
    mul = with_differences(per_language(figures, names, dataset, "multi", "map"), baseline)
    st.dataframe(mul.style.format(precision=4), width="stretch")
    widgets.download(mul, "multilingual-map", index=True)


widgets.show(render)
