"""What every view shares: the store guard, run and dataset pickers, CSV downloads."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import data
from hybridcore.analysis import coverage
from hybridcore.analysis.figures import pool_statement, strategy_rank
from hybridcore.eval.pools import pool_caveat


def show(view: Callable[[], None]) -> None:
    """Render ``view``; a store that cannot be read gives its message instead of a trace."""
    st.sidebar.caption(f"Store (read-only): `{data.store_url()}`")
    try:
        view()
    except data.StoreUnavailable as err:
        st.info(str(err))


def completed_runs() -> pd.DataFrame:
    """Completed runs, newest first; stops the page with a message when there are none."""
    runs = data.runs()
    done = runs[runs["status"] == "completed"]
    if done.empty:
        st.info("No completed run in the store yet. Run `make run`, or wait for the running ones to finish.")
        st.stop()
    return done


def latest_experiment(runs: pd.DataFrame) -> list[str]:
    """Names of the newest experiment's runs, reference first."""
    newest = runs[runs["experiment"] == runs["experiment"].iloc[0]]
    return newest.sort_values("strategy", key=lambda s: s.map(strategy_rank), kind="stable")["name"].tolist()


def run_option(name: str) -> str:
    """How a run reads in a selector: what differs first (strategy, alpha, seed), then the
    experiment it belongs to, so a narrow sidebar cuts the part all runs share."""
    experiment, _, suffix = name.rpartition("/")
    return f"{suffix} · {experiment}" if experiment else name


def pick_runs(runs: pd.DataFrame, key: str, label: str = "Runs") -> list[str]:
    chosen = st.sidebar.multiselect(
        label, runs["name"].tolist(), default=latest_experiment(runs), key=key, format_func=run_option
    )
    if not chosen:
        st.info("Choose at least one run in the sidebar.")
        st.stop()
    return chosen


def pick_one(label: str, options: list[str], default: str | None, key: str) -> str:
    index = options.index(default) if default in options else 0
    return st.sidebar.selectbox(label, options, index=index, key=key, format_func=run_option)


def default_baseline(chosen: list[str], runs: pd.DataFrame) -> str:
    """The reference run among the chosen ones, else the first chosen."""
    strategies = runs.set_index("name")["strategy"]
    return next((r for r in chosen if strategies.get(r) == "reference"), chosen[0])


def default_treatment(chosen: list[str], runs: pd.DataFrame) -> str:
    """The hybrid run among the chosen ones, else the last chosen."""
    strategies = runs.set_index("name")["strategy"]
    return next((r for r in chosen if strategies.get(r) == "hybrid"), chosen[-1])


def short_labels(names: list[str]) -> dict[str, str]:
    """Run names as tables show them: only the strategy when the runs share one experiment."""
    experiments = {name.rpartition("/")[0] for name in names}
    strategies = {name.rpartition("/")[2] for name in names}
    if len(experiments) == 1 and len(strategies) == len(names):
        return {name: name.rpartition("/")[2] for name in names}
    return {name: name for name in names}


def experiment_caption(names: list[str]) -> str:
    """Which experiment the short labels belong to, if they are short."""
    experiments = {name.rpartition("/")[0] for name in names}
    return f"Runs of experiment `{experiments.pop()}`. " if len(experiments) == 1 and len(names) > 1 else ""


def labels(runs: pd.DataFrame, names: list[str] | None = None) -> dict[int, str]:
    """Run id -> label: the run's name, or its short label among ``names``."""
    if names is None:
        return dict(zip(runs["id"].tolist(), runs["name"].tolist()))
    short = short_labels(names)
    chosen = runs[runs["name"].isin(names)]
    return {i: short[n] for i, n in zip(chosen["id"].tolist(), chosen["name"].tolist())}


PROMPTS = {"baseline": "Baseline (differences are run − baseline)", "treatment": "Compare this run with each other"}


def runs_and_one(view: str, role: str) -> tuple[pd.DataFrame, list[str], str, pd.DataFrame]:
    """What most views start with: the completed runs, the ones chosen in the sidebar, one of
    them picked as the ``baseline`` or the ``treatment``, and the chosen runs' figures."""
    runs = completed_runs()
    chosen = pick_runs(runs, key=f"{view}-runs")
    default = default_baseline if role == "baseline" else default_treatment
    picked = pick_one(PROMPTS[role], chosen, default(chosen, runs), f"{view}-{role}")
    return runs, chosen, picked, run_figures(runs, chosen)


def run_figures(runs: pd.DataFrame, chosen: list[str]) -> pd.DataFrame:
    """The chosen runs' figures, ``run`` holding their short labels."""
    mapping = labels(runs, chosen)
    figures = data.figures(tuple(mapping), mapping)
    if figures.empty:
        st.info("The chosen runs have no stored figures.")
        st.stop()
    return figures


def run_scores(
    runs: pd.DataFrame, chosen: list[str], dataset: str, metric: str, only: list[str] | None = None
) -> pd.DataFrame:
    """Per-query scores of the chosen runs (or of ``only`` these among them), labelled like ``run_figures``."""
    mapping = labels(runs, chosen)
    if only is not None:
        keep = set(runs.loc[runs["name"].isin(only), "id"])
        mapping = {i: label for i, label in mapping.items() if i in keep}
    return data.scores(tuple(mapping), mapping, dataset, metric)


def run_languages(runs: pd.DataFrame, chosen: list[str]) -> tuple[set[str], coverage.Exposure | None]:
    """The chosen runs' fine-tuning languages and their model's exposure
    (``coverage.run_languages``), in the coverage scheme picked in the sidebar: the exposure
    card's labels, or the old three groups (XLM-R's CC-100 list) to compare with."""
    scheme = st.sidebar.radio(
        "Coverage groups",
        coverage.SCHEMES,
        key="coverage-scheme",
        help="Exposure card: what the model's training stages document, with sources. CC-100 (old): "
        "seen in fine-tuning / in XLM-R's pretraining list / never seen, as figures were labelled before.",
    )
    return coverage.run_languages(runs[runs["name"].isin(chosen)], scheme)


def exposure_caption(fine_tuning: set[str], exposure: coverage.Exposure | None, figures: pd.DataFrame) -> None:
    """What the coverage labels mean for these runs, and the flags of the sets they were evaluated on."""
    seen = ", ".join(sorted(fine_tuning)) or "none"
    if exposure is None:
        st.caption(f"Seen in fine-tuning: {seen}. The model has no exposure card: other languages are *unknown*.")
    elif exposure.scheme == coverage.CC100:
        st.caption(
            f"Seen in fine-tuning: {seen}; *pretraining only*: in XLM-R's CC-100 list ({len(exposure.pretraining)} "
            "languages); *never seen*: neither. The old scheme, kept for comparison: the model's own training "
            "stages saw more (pick *exposure card*)."
        )
    else:
        st.caption(
            f"Seen in fine-tuning: {seen}; *supervised retrieval data*: {len(exposure.supervised)} languages of the "
            f"base model's supervised stage; *documented pretraining*: {len(exposure.pretraining)} languages its "
            "pretraining corpora document; *no documented exposure*: none of its stages documents the language, "
            f"but {len(exposure.undocumented)} corpora publish no language list ({', '.join(exposure.undocumented)}), "
            "so this is not *never seen*. Source: the model's exposure card."
        )
    for dataset in dict.fromkeys(figures["dataset"]):
        for line in coverage.exposure_notes(str(dataset), exposure):
            st.warning(f"{dataset}: {line}")


def pick_dataset(figures: pd.DataFrame, key: str, settings: tuple[str, ...] | None = None) -> str:
    """An evaluation set of ``figures`` (only those with one of ``settings``, if given), in
    the order the runs were evaluated on them."""
    part = figures if settings is None else figures[figures["setting"].isin(settings)]
    datasets = list(dict.fromkeys(part["dataset"]))
    if not datasets:
        st.info(f"The chosen runs have no figures of the settings this view shows ({', '.join(settings or ())}).")
        st.stop()
    dataset = st.sidebar.selectbox("Evaluation set", datasets, key=key)
    pool_caption(figures[figures["dataset"] == dataset])
    return dataset


def pool_caption(figures: pd.DataFrame) -> None:
    """What one dataset's figures were measured on (groups, queries, pool sizes; the sampled
    pool's caveat), above the view's figures."""
    if figures.empty:
        return
    statement = pool_statement(figures)
    (st.warning if pool_caveat(str(figures["dataset"].iloc[0])) else st.caption)(statement)


def show_tests(table: pd.DataFrame) -> None:
    """A table of paired tests, significant rows marked."""
    shown = table.assign(significant=table["significant"].map({True: "✱ yes", False: ""}))
    st.dataframe(
        shown.style.format(
            {
                "mean_a": "{:.4f}",
                "mean_b": "{:.4f}",
                "delta": "{:+.4f}",
                "cohens_d": "{:+.3f}",
                "p": "{:.4g}",
                "p_adjusted": "{:.4g}",
            }
        ),
        hide_index=True,
        width="stretch",
    )


def download(frame: pd.DataFrame, name: str, index: bool = True) -> None:
    """A CSV download button under a table."""
    st.download_button(
        f"Download {name}.csv",
        frame.to_csv(index=index).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download-{name}",
    )
