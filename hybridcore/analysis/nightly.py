"""What changed tonight: each new model of a series against the one before it and the first.

A *series* is a training job's checkpoints, a hub model over its revisions, the nightly
reference, or an experiment arm's exported checkpoints (a learning curve); its points are
ordered by step, else by the time they appeared. For every new point, each declared primary
figure (the spec's hypotheses: dataset, setting, metric) is compared with the previous point
and with the series' first, overall and per exposure group, on per-question scores:

- ``delta``: the new figure minus the old; ``gain`` the same signed so that > 0 is better;
- ``p``: the two-sided paired sign-flip test of no difference;
- ``p_regression``: one-sided, H0 "worse by at most ``margin``" against "worse by more";
  Holm-corrected over every regression test of the night (``p_regression_holm``). A row
  below ``alpha`` there is a *regression*.

Run-level: one model against another, never a strategy claim. The reference series is
compared the same way, but a change in its figures means the evaluation changed (the
code or data), not the model: its rows are ``kind == "reference"`` and never regressions.
Torch-free and SQL-free: the nightly flow and the dashboard both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd

from hybridcore.analysis.comparison import unit_scores
from hybridcore.analysis.coverage import ALL_LANGUAGES, COVERAGE_ORDER, label_figures, run_languages
from hybridcore.analysis.figures import format_of, metric_label
from hybridcore.analysis.significance import holm, paired_randomization_test, sign_flip_p_below
from hybridcore.analysis.underrepresented import with_gaps
from hybridcore.config.spec import Hypothesis
from hybridcore.eval.catalogue import lower_is_better
from hybridcore.eval.pools import benchmark_name

WATCHED, REFERENCE, CHECKPOINT = "watched", "reference", "checkpoint"  # the kinds of series point
CURVE_SUFFIX = "-curve"


def curve_experiment(experiment: str) -> str:
    """Where an experiment's exported checkpoints are stored (``train.export_at``): apart from
    its arms, so that the report's arms over seeds hold the kept models only."""
    return f"{experiment}{CURVE_SUFFIX}"


RUN_LEVEL_NOTE = (
    "Run-level: each comparison is one model against another (one training run), not a claim about a batch strategy."
)
ScoresOf = Callable[[Sequence[int], str, str], pd.DataFrame]  # (run ids, dataset, metric) -> per-query scores
CHANGE_COLUMNS = [
    "series",
    "kind",
    "run_id",
    "against",
    "against_run_id",
    "dataset",
    "setting",
    "metric",
    "figure",
    "languages",
    "n",
    "before",
    "after",
    "delta",
    "gain",
    "p",
    "p_regression",
    "p_regression_holm",
    "regression",
]


def ordered(points: pd.DataFrame) -> pd.DataFrame:
    """Series points in their order: by step where the series has steps, else by the time
    they appeared (the run id breaks ties)."""
    return points.sort_values(["series", "step", "appeared_at", "run_id"], na_position="last", kind="stable")


@dataclass(frozen=True)
class PrimaryFigure:
    """A declared primary figure of one stored dataset, and which way is better (a gap's, as
    its hypothesis declares it: lower; else the metric's own direction)."""

    dataset: str
    setting: str
    metric: str
    lower_is_better: bool


def primary_figures(hypotheses: Iterable[Hypothesis], datasets: Iterable[str]) -> list[PrimaryFigure]:
    """The figures the declared hypotheses name, for the datasets present (a sampled pool of
    a benchmark counts as the benchmark)."""
    datasets = list(datasets)
    wanted = []
    for h in hypotheses:
        lower = h.better == "lower" if h.better else lower_is_better(h.metric)
        wanted += [PrimaryFigure(d, h.setting, h.metric, lower) for d in datasets if benchmark_name(d) == h.dataset]
    return list(dict.fromkeys(wanted))


def comparisons(points: pd.DataFrame, new_run_ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(new run, "previous" or "first", the run it is compared with) for every new point
    that is not the first of its series; a point whose previous is the first is compared once."""
    new = set(int(r) for r in new_run_ids)
    pairs = []
    for _, series in ordered(points).groupby("series", sort=False):
        ids = [int(r) for r in series["run_id"]]
        for i, run in enumerate(ids):
            if run in new and i > 0:
                pairs.append((run, "previous" if i > 1 else "first", ids[i - 1]))
                if i > 1:
                    pairs.append((run, "first", ids[0]))
    return pairs


def _tests(units: pd.DataFrame, before: int, after: int, lower: bool, margin: float) -> Iterable[dict]:
    for group, rows in units.groupby(level=0, sort=False):
        pair = rows[[before, after]].dropna()
        if pair.empty:
            continue
        a, b = pair[before].to_numpy(), pair[after].to_numpy()
        gain = (a - b) if lower else (b - a)
        test = paired_randomization_test(a, b)
        yield {
            "languages": group,
            "n": test.n,
            "before": test.mean_a,
            "after": test.mean_b,
            "delta": test.mean_difference,
            "gain": float(gain.mean()),
            "p": test.p_value,
            "p_regression": sign_flip_p_below(gain, -margin),
        }


def series_changes(
    points: pd.DataFrame,
    runs: pd.DataFrame,
    new_run_ids: Iterable[int],
    figures: Sequence[PrimaryFigure],
    scores_of: ScoresOf,
    margin: float,
    alpha: float,
) -> pd.DataFrame:
    """Every new point against its previous and its first, per figure and exposure group
    (``CHANGE_COLUMNS``). ``points``: ``series``, ``kind``, ``run_id``, ``step``,
    ``appeared_at``; ``runs``: the store's runs (for each model's languages and card)."""
    rows = []
    kinds = dict(zip(points["run_id"].astype(int), points["kind"]))
    series_of = dict(zip(points["run_id"].astype(int), points["series"]))
    by_id = runs.set_index(runs["id"].astype(int))
    for run, against, other in comparisons(points, new_run_ids):
        fine_tuning, exposure = run_languages(by_id.loc[[run]])
        for figure in figures:
            dataset, setting, metric = figure.dataset, figure.setting, figure.metric
            scores = scores_of([other, run], dataset, metric)
            if scores.empty:
                continue
            scores = with_gaps(scores, format_of(scores), metric)
            scores = scores[scores["setting"] == setting]
            if scores.empty:
                continue
            labelled = label_figures(scores.assign(run=scores["run_id"].astype(int)), fine_tuning, exposure)
            overall = unit_scores(labelled, "overall").groupby(level="query_id").mean()
            overall.index = pd.MultiIndex.from_product([[ALL_LANGUAGES], overall.index])
            groups = unit_scores(labelled, "coverage").droplevel("setting")
            # one exposure group is the overall figure again: testing it twice would only cost power
            several = groups.index.get_level_values(0).nunique() > 1
            units = pd.concat([overall, groups]) if several else overall
            if other not in units.columns or run not in units.columns:
                continue
            for test in _tests(units, other, run, figure.lower_is_better, margin):
                rows.append(
                    {
                        "series": series_of[run],
                        "kind": kinds[run],
                        "run_id": run,
                        "against": against,
                        "against_run_id": other,
                        "dataset": dataset,
                        "setting": setting,
                        "metric": metric,
                        "figure": metric_label(setting, metric),
                        **test,
                    }
                )
    table = pd.DataFrame(rows, columns=[c for c in CHANGE_COLUMNS if c not in ("p_regression_holm", "regression")])
    family = table["kind"] != REFERENCE
    table["p_regression_holm"] = np.nan
    if family.any():
        table.loc[family, "p_regression_holm"] = holm(table.loc[family, "p_regression"].to_numpy())
    table["regression"] = family & (table["p_regression_holm"] < alpha)
    order = {label: i for i, label in enumerate((ALL_LANGUAGES, *COVERAGE_ORDER))}
    table = table.sort_values(
        ["series", "run_id", "against", "dataset", "figure", "languages"],
        key=lambda c: c.map(order) if c.name == "languages" else c,
        kind="stable",
    )
    return table[CHANGE_COLUMNS].reset_index(drop=True)


def improved(changes: pd.DataFrame, margin: float, alpha: float) -> pd.DataFrame:
    """Rows better by more than ``margin`` with a two-sided p below ``alpha`` after Holm over
    the night's two-sided tests (the reference's rows aside)."""
    family = changes[changes["kind"] != REFERENCE]
    if family.empty:
        return family
    adjusted = holm(family["p"].to_numpy())
    return family[(adjusted < alpha) & (family["gain"] > margin)]


def evaluation_changed(changes: pd.DataFrame) -> pd.DataFrame:
    """The reference's rows whose figure moved: the same model, so the evaluation changed."""
    rows = changes[changes["kind"] == REFERENCE]
    return rows[rows["delta"].abs() > 0]


def _short(name: object) -> str:
    """A run's label within its series: ``<night>/<series>/checkpoint-300`` -> ``checkpoint-300``."""
    return str(name).rsplit("/", 1)[-1]


def _table(rows: pd.DataFrame, names: dict[int, str]) -> str:
    lines = [
        "| series | model | against | figure | languages | before | after | Δ | p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows.itertuples(index=False):
        p = r.p_regression_holm if r.regression else r.p
        model, other = _short(names.get(r.run_id, r.run_id)), _short(names.get(r.against_run_id, r.against_run_id))
        lines.append(
            f"| {r.series} | {model} | {r.against} ({other}) | {r.dataset} {r.figure} | {r.languages} "
            f"| {r.before:.4f} | {r.after:.4f} | {r.delta:+.4f} | {p:.3g} |"
        )
    return "\n".join(lines)


def night_markdown(
    night: str,
    evaluated: pd.DataFrame,
    changes: pd.DataFrame,
    margin: float,
    alpha: float,
    dashboard_url: str,
    notes: Sequence[str] = (),
) -> str:
    """The night's artifact: what was evaluated, what regressed, improved, or moved in the
    reference, with links to the dashboard's Nightly view. ``evaluated``: ``run_id``,
    ``name``, ``series``, ``step``, ``kind``."""
    names = dict(zip(evaluated["run_id"].astype(int), evaluated["name"])) if len(evaluated) else {}
    names |= {int(r): n for r, n in zip(changes.get("against_run_id", []), changes.get("against_name", []))}
    link = f"{dashboard_url.rstrip('/')}/nightly"
    regressions = changes[changes["regression"]] if len(changes) else changes
    better = improved(changes, margin, alpha) if len(changes) else changes
    moved = evaluation_changed(changes) if len(changes) else changes
    out = [f"# Nightly evaluation {night}", ""]
    if evaluated.empty:
        out.append(
            "Nothing new: every watched model was evaluated before, and the reference's code and data are unchanged."
        )
    else:
        out.append(f"Evaluated {len(evaluated)} new model(s) ([Nightly view]({link})):")
        out.append("")
        for r in evaluated.itertuples(index=False):
            if r.kind == REFERENCE:
                where = "the reference: its first evaluation, or the code or the data changed"
            else:
                where = f"step {int(r.step)}" if pd.notna(r.step) else "a new revision"
            out.append(f"- [{r.series}]({link}?series={quote(str(r.series))}): `{r.name}` ({where})")
    out += ["", RUN_LEVEL_NOTE, ""]
    tests = int((changes["kind"] != REFERENCE).sum()) if len(changes) else 0
    rule = (
        f"worse than the previous or the first model of its series by more than {margin:g}, one-sided p below "
        f"{alpha:g} after Holm over the night's {tests} tests"
    )
    out += [f"## Regressions: {len(regressions)}", "", f"A regression is a figure {rule}.", ""]
    if len(regressions):
        out += [_table(regressions, names), ""]
    out += [f"## Improved: {len(better)}", ""]
    if len(better):
        out += [
            f"Better by more than {margin:g}, two-sided p below {alpha:g} after Holm.",
            "",
            _table(better, names),
            "",
        ]
    if len(moved):
        out += [
            "## The evaluation changed",
            "",
            "The reference (the untrained base model) was evaluated again because the code or the data changed, "
            "and its figures moved: figures before and after this night are not comparable as they stand.",
            "",
            _table(moved, names),
            "",
        ]
    out += [f"- {note}" for note in notes]
    return "\n".join(out).rstrip() + "\n"
