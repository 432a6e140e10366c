"""An experiment's answer: each arm's figures over its seeds, the differences between arms
tested with the question and the seed as the unit, and how they compare with the paper.

Inputs are the store's frames (``db.queries``): ``runs`` (one row per run, with ``id``,
``name``, ``strategy``, ``alpha``, ``seed``), ``figures`` (the long figures, with ``run_id``)
and per-query ``scores`` (with ``run_id``). Torch-free and SQL-free: the report command and
the dashboard both call it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from hybridcore.analysis.comparison import by_coverage, headline_columns, unit_scores
from hybridcore.analysis.coverage import ALL_LANGUAGES, label_figures
from hybridcore.analysis.figures import arm_labels, metric_label
from hybridcore.analysis.seeds import over_seeds, seed_aware_test
from hybridcore.analysis.significance import holm
from hybridcore.data.formats.metadata import Paper

PAPER_SETS = "XQuAD-R and MLQA-R"  # the only sets arXiv 2408.10536's Tables 1-2 report


def arm_figures(
    runs: pd.DataFrame, figures: pd.DataFrame, fine_tuning: Iterable[str], pretraining: Iterable[str] | None
) -> pd.DataFrame:
    """Per dataset, language group, headline column and arm: the mean over the arm's seeds,
    its SD and 95% interval (NaN with one seed)."""
    names = dict(zip(runs["id"], runs["name"]))
    arm_of = dict(zip(runs["name"], arm_labels(runs)))
    labelled = figures.assign(run=figures["run_id"].map(names))
    rows = []
    for dataset in labelled["dataset"].unique():
        table = by_coverage(labelled, list(runs["name"]), dataset, fine_tuning, pretraining)
        long = table.melt(id_vars=["run", "languages"], var_name="column", value_name="value").dropna(subset=["value"])
        long["arm"] = long["run"].map(arm_of)
        for (languages, column, arm), part in long.groupby(["languages", "column", "arm"], sort=False):
            spread = over_seeds(part["value"].to_numpy())
            rows.append(
                {
                    "dataset": dataset,
                    "languages": languages,
                    "column": column,
                    "arm": arm,
                    "seeds": spread.seeds,
                    "mean": spread.mean,
                    "sd": spread.sd,
                    "low": spread.low,
                    "high": spread.high,
                }
            )
    return pd.DataFrame(rows, columns=["dataset", "languages", "column", "arm", "seeds", "mean", "sd", "low", "high"])


def arm_differences(
    runs: pd.DataFrame,
    scores: pd.DataFrame,
    treatment: str,
    baselines: Iterable[str],
    fine_tuning: Iterable[str],
    pretraining: Iterable[str] | None,
) -> pd.DataFrame:
    """``treatment`` minus each baseline arm on one dataset's per-query scores of one metric,
    per setting and language group (and all languages), by ``seed_aware_test`` on questions
    (a question's translations averaged). p-values are Holm-corrected within each
    comparison."""
    names = dict(zip(runs["id"], runs["name"]))
    runs_of = pd.Series(list(runs["name"]), index=list(arm_labels(runs))).groupby(level=0).agg(list).to_dict()
    labelled = label_figures(scores.assign(run=scores["run_id"].map(names)), fine_tuning, pretraining)
    per_group = unit_scores(labelled, "coverage")
    overall = unit_scores(labelled, "overall")
    overall.index = pd.MultiIndex.from_arrays(
        [
            overall.index.get_level_values("setting"),
            np.full(len(overall), ALL_LANGUAGES),
            overall.index.get_level_values("query_id"),
        ],
        names=["setting", "coverage", "query_id"],
    )
    units = pd.concat([overall, per_group.reorder_levels(["setting", "coverage", "query_id"])])
    rows = []
    for baseline in baselines:
        if treatment not in runs_of or baseline not in runs_of:
            continue
        found = []
        for (setting, coverage), group in units.groupby(level=["setting", "coverage"], sort=False):
            a, b = group[runs_of[baseline]].to_numpy().T, group[runs_of[treatment]].to_numpy().T
            if np.isfinite(a).all(axis=0).sum() < 2:
                continue
            test = seed_aware_test(a, b)
            found.append(
                {
                    "comparison": f"{treatment} - {baseline}",
                    "setting": setting,
                    "languages": coverage,
                    "questions": test.questions,
                    "seeds": f"{test.seeds_b} vs {test.seeds_a}",
                    "difference": test.difference,
                    "low": test.low,
                    "high": test.high,
                    "cohens_d": test.cohens_d,
                    "p": test.p_value,
                }
            )
        if found:
            part = pd.DataFrame(found)
            part["p_adjusted"] = holm(part["p"].to_numpy())
            part["significant"] = part["p_adjusted"] < 0.05
            rows.append(part)
    columns = [
        "comparison",
        "setting",
        "languages",
        "questions",
        "seeds",
        "difference",
        "low",
        "high",
        "cohens_d",
        "p",
        "p_adjusted",
        "significant",
    ]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def paper_agreement(
    differences: dict[str, pd.DataFrame],
    paper: Paper | None,
    treatment: str = "hybrid",
    baselines: tuple[str, ...] = ("mono", "cross"),
) -> pd.DataFrame:
    """For each claim of the paper (``paper``: what the dataset's format declares) that the
    figures can check (``differences`` per metric, from ``arm_differences`` over all
    languages): agrees (treatment no worse than either baseline), disagrees (significantly
    worse than one), or undecided (worse, within chance)."""
    rows = []
    for claim in paper.claims if paper else ():
        table = differences.get(claim.metric)
        if table is None or table.empty:
            continue
        mine = table[
            (table["setting"] == claim.setting)
            & (table["languages"] == ALL_LANGUAGES)
            & table["comparison"].isin([f"{treatment} - {b}" for b in baselines])
        ]
        if mine.empty:
            continue
        better = -1 if claim.lower_is_better else 1
        worse = mine[better * mine["difference"] < 0]
        verdict = ("disagrees" if worse["significant"].any() else "undecided") if len(worse) else "agrees"
        detail = "; ".join(f"{r.comparison} {r.difference:+.3f} (p {r.p_adjusted:.3g})" for r in mine.itertuples())
        rows.append(
            {
                "figure": metric_label(claim.setting, claim.metric),
                "paper": "hybrid lower than mono and cross"
                if claim.lower_is_better
                else "hybrid at least as good as mono and cross",
                "here": detail,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows, columns=["figure", "paper", "here", "verdict"])


def paper_scope(dataset: str, agreement: pd.DataFrame, paper: Paper | None) -> str:
    """Which of the paper's figures a dataset's agreement table stands for, in one sentence."""
    if paper is None or agreement.empty:
        return (
            f"The paper's Tables 1-2 report Mo, Cr and Mul figures on {PAPER_SETS} only; {dataset} reports "
            "none of them, so there is no claim of the paper to check here."
        )
    checked = ", ".join(agreement["figure"])
    if dataset in paper.reported_on:
        return f"The paper's Tables 1-2 report {checked} on {dataset}: its claims are checked on the same figures."
    return (
        f"The paper's Tables 1-2 report {checked} on {PAPER_SETS} only; here the same directions are checked "
        f"on {dataset}, a set the paper did not evaluate."
    )


def headline_metrics(figures: pd.DataFrame, dataset: str) -> list[tuple[str, str]]:
    """The (setting, metric) pairs the dataset reports."""
    return headline_columns(figures[figures["dataset"] == dataset])
