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
from scipy import stats

from hybridcore.analysis.comparison import by_coverage, headline_columns, unit_scores
from hybridcore.analysis.coverage import ALL_LANGUAGES, Exposure, label_figures
from hybridcore.analysis.figures import arm_labels, metric_label
from hybridcore.analysis.hypotheses import RUN_LEVEL, comparison_level
from hybridcore.analysis.seeds import arm_standard_error, over_seeds, seed_aware_test
from hybridcore.data.formats.metadata import Paper

PAPER_SETS = "XQuAD-R and MLQA-R"  # the only sets arXiv 2408.10536's Tables 1-2 report


def arm_figures(
    runs: pd.DataFrame, figures: pd.DataFrame, fine_tuning: Iterable[str], exposure: Exposure | None
) -> pd.DataFrame:
    """Per dataset, language group, headline column and arm: the mean over the arm's seeds,
    its SD, 95% t-interval over the seeds' figures (NaN with one seed; ``with_intervals``
    replaces it by the tests' decomposition) and each seed's value, in seed order."""
    names = dict(zip(runs["id"], runs["name"]))
    arm_of = dict(zip(runs["name"], arm_labels(runs)))
    seed_of = dict(zip(runs["name"], runs["seed"]))
    labelled = figures.assign(run=figures["run_id"].map(names))
    rows = []
    for dataset in labelled["dataset"].unique():
        table = by_coverage(labelled, list(runs["name"]), dataset, fine_tuning, exposure)
        long = table.melt(id_vars=["run", "languages"], var_name="column", value_name="value").dropna(subset=["value"])
        long["arm"] = long["run"].map(arm_of)
        for (languages, column, arm), part in long.groupby(["languages", "column", "arm"], sort=False):
            spread = over_seeds(part["value"].to_numpy())
            by_seed = part.assign(seed=part["run"].map(seed_of)).sort_values("seed", na_position="first")
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
                    "seed_values": tuple(by_seed["value"]),
                }
            )
    columns = ["dataset", "languages", "column", "arm", "seeds", "mean", "sd", "low", "high", "seed_values"]
    return pd.DataFrame(rows, columns=columns)


def learning_curves(
    runs: pd.DataFrame,
    steps: dict[int, int],
    figures: pd.DataFrame,
    fine_tuning: Iterable[str],
    exposure: Exposure | None,
) -> pd.DataFrame:
    """``arm_figures`` at each exported step (``steps``: run id -> step): how each arm's
    figures, per language group, move along its training; one row per step and arm."""
    runs = runs[runs["id"].isin(steps)]
    parts = [
        arm_figures(at, figures[figures["run_id"].isin(at["id"])], fine_tuning, exposure).assign(step=step)
        for step, at in runs.groupby(runs["id"].map(steps), sort=True)
    ]
    columns = ["step", "dataset", "languages", "column", "arm", "seeds", "mean", "sd", "low", "high", "seed_values"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def with_intervals(arms: pd.DataFrame, errors: pd.DataFrame, dataset: str, label: dict[str, str]) -> pd.DataFrame:
    """``arm_figures`` rows of ``dataset`` with 95% intervals from the tests' decomposition
    (``arm_standard_errors``; ``label``: setting -> the column label of its metric): mean
    +- t(df) x SE. A trained arm with one seed keeps no interval (its seeds' term is unknown)."""
    out = arms.copy()
    for row in errors.itertuples():
        column = label.get(row.setting)
        if column is None or not np.isfinite(row.se):
            continue
        hit = (
            (out["dataset"] == dataset)
            & (out["column"] == column)
            & (out["languages"] == row.languages)
            & (out["arm"] == row.arm)
        )
        if not hit.any() or (row.arm != "reference" and (out.loc[hit, "seeds"] < 2).all()):
            continue
        half = float(stats.t.ppf(0.975, row.df)) * row.se
        out.loc[hit, "low"] = out.loc[hit, "mean"] - half
        out.loc[hit, "high"] = out.loc[hit, "mean"] + half
    return out


def _units(
    runs: pd.DataFrame, scores: pd.DataFrame, fine_tuning: Iterable[str], exposure: Exposure | None
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Per (setting, language group, question): each run's score (a question's translations
    averaged), over every language and per coverage group; and each arm's runs."""
    names = dict(zip(runs["id"], runs["name"]))
    runs_of = pd.Series(list(runs["name"]), index=list(arm_labels(runs))).groupby(level=0).agg(list).to_dict()
    labelled = label_figures(scores.assign(run=scores["run_id"].map(names)), fine_tuning, exposure)
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
    return pd.concat([overall, per_group.reorder_levels(["setting", "coverage", "query_id"])]), runs_of


def arm_standard_errors(
    runs: pd.DataFrame, scores: pd.DataFrame, fine_tuning: Iterable[str], exposure: Exposure | None
) -> pd.DataFrame:
    """Per setting, language group and arm: the standard error of the arm's mean and its
    degrees of freedom, by the tests' own decomposition (``seeds.arm_standard_error``)."""
    units, runs_of = _units(runs, scores, fine_tuning, exposure)
    rows = []
    for (setting, coverage), group in units.groupby(level=["setting", "coverage"], sort=False):
        for arm, names in runs_of.items():
            se, df = arm_standard_error(group[names].to_numpy().T)
            rows.append({"setting": setting, "languages": coverage, "arm": arm, "se": se, "df": df})
    return pd.DataFrame(rows, columns=["setting", "languages", "arm", "se", "df"])


def arm_differences(
    runs: pd.DataFrame,
    scores: pd.DataFrame,
    treatment: str,
    baselines: Iterable[str],
    fine_tuning: Iterable[str],
    exposure: Exposure | None,
) -> pd.DataFrame:
    """``treatment`` minus each baseline arm on one dataset's per-query scores of one metric,
    per setting and language group (and all languages), by ``seed_aware_test`` on questions
    (a question's translations averaged): the difference, its interval, standard error and
    degrees of freedom, the two-sided p-value (uncorrected: ``hypotheses`` corrects the
    primary family and the whole table) and whether the comparison is ``strategy`` or
    ``run-level`` (``hypotheses.comparison_level``)."""
    units, runs_of = _units(runs, scores, fine_tuning, exposure)
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
                    "se": test.standard_error,
                    "df": test.degrees_of_freedom,
                    "level": comparison_level(test.seeds_b, test.seeds_a, baseline),
                }
            )
        if found:
            rows.append(pd.DataFrame(found))
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
        "se",
        "df",
        "level",
    ]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def paper_agreement(
    differences: pd.DataFrame,
    paper: Paper | None,
    treatment: str = "hybrid",
    primary: pd.DataFrame | None = None,
    baselines: tuple[str, ...] = ("mono", "cross"),
) -> pd.DataFrame:
    """For each claim of the paper (``paper``: what the dataset's format declares) that the
    figures can check (``differences``: one dataset's ``arm_differences`` of every metric,
    through ``hypotheses.exploratory``), a verdict that claims no more than its test: from the
    primary hypotheses where the spec declares the claim (``primary``: non-inferiority within
    the margin to every baseline, Holm over the family), else from the exploratory two-sided
    tests (better or worse at q < 0.05; otherwise no difference shown, which is not
    equivalence); none where a comparison is run-level."""
    rows = []
    for claim in paper.claims if paper else ():
        comparisons = [f"{treatment} - {b}" for b in baselines]
        mine = differences[
            (differences["setting"] == claim.setting)
            & (differences["metric"] == claim.metric)
            & (differences["languages"] == ALL_LANGUAGES)
            & differences["comparison"].isin(comparisons)
        ]
        if mine.empty:
            continue
        declared = pd.DataFrame()
        if primary is not None and not primary.empty:
            declared = primary[
                (primary["setting"] == claim.setting)
                & (primary["metric"] == claim.metric)
                & primary["comparison"].isin(comparisons)
            ]
        better = -1 if claim.lower_is_better else 1
        if (mine["level"] == RUN_LEVEL).any():
            verdict = "no verdict: run-level (one seed per arm), a comparison of two runs, not of strategies"
        elif len(declared) == len(mine):
            margins = ", ".join(sorted({f"{m:g}" for m in declared["margin"]}))
            verdict = (
                f"agrees: non-inferior within {margins} to {' and '.join(baselines)} (primary, Holm)"
                if (declared["verdict"] == "supported").all()
                else f"not shown: non-inferiority within {margins} not supported for every baseline (primary)"
            )
        elif (mine["significant"] & (better * mine["difference"] < 0)).any():
            verdict = "disagrees: significantly worse than a baseline (exploratory, BH)"
        elif (mine["significant"] & (better * mine["difference"] > 0)).all():
            verdict = "agrees: significantly better than every baseline (exploratory, BH)"
        else:
            verdict = "undecided: no difference shown, which is not equivalence (no margin declared)"
        detail = "; ".join(
            f"{r.comparison} {r.difference:+.3f} [{r.low:+.3f}, {r.high:+.3f}]" for r in mine.itertuples()
        )
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
