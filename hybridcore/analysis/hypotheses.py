"""What an experiment may claim: its pre-declared primary hypotheses, tested as one family,
and everything else as exploratory.

The primary family is the spec's ``hypotheses`` (``hybridcore.config.spec.Hypothesis``): each
is one-sided (superiority, non-inferiority with its margin) or two one-sided tests
(equivalence within its margin, TOST), on the seed-aware difference of two arms
(``seeds.seed_aware_test``: its difference, standard error and degrees of freedom), and Holm's
correction runs over exactly the hypotheses tested. Every other difference of the report is
exploratory: two-sided, with Benjamini-Hochberg over the whole table.

A difference between arms with one seed each compares two training runs, not two
strategies: it is ``run-level``, and no hypothesis is tested on it (a strategy test needs at
least two seeds of every trained arm; the untrained reference needs none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from hybridcore.analysis.significance import benjamini_hochberg, holm
from hybridcore.config.spec import Hypothesis
from hybridcore.eval.catalogue import lower_is_better
from hybridcore.eval.pools import benchmark_name

RUN_LEVEL = "run-level"
STRATEGY = "strategy"
LEVEL = 0.05
PRIMARY_COLUMNS = [
    "hypothesis",
    "kind",
    "margin",
    "dataset",
    "comparison",
    "setting",
    "metric",
    "difference",
    "low",
    "high",
    "level",
    "p",
    "p_holm",
    "verdict",
]


def comparison_level(treatment_seeds: int, baseline_seeds: int, baseline: str) -> str:
    """``strategy`` when every trained arm of the comparison has at least two seeds (the
    untrained reference has none to have), else ``run-level``."""
    baseline_ok = baseline == "reference" or baseline_seeds >= 2
    return STRATEGY if treatment_seeds >= 2 and baseline_ok else RUN_LEVEL


def one_sided_p(hypothesis: Hypothesis, difference: float, se: float, df: float) -> float:
    """The p-value of ``hypothesis`` against its null, from a t-distributed difference:
    superiority H0: no better; non-inferiority H0: worse by the margin or more; equivalence
    H0: outside the margin on either side (the larger of the two one-sided p-values)."""
    lower = hypothesis.better == "lower" if hypothesis.better else lower_is_better(hypothesis.metric)
    gain = -difference if lower else difference  # > 0: the treatment is better
    if not np.isfinite(se) or se <= 0:
        return float(gain > -hypothesis.margin) if hypothesis.kind != "superiority" else float(gain <= 0)
    t = stats.t
    if hypothesis.kind == "superiority":
        return float(t.sf(gain / se, df))
    if hypothesis.kind == "non-inferiority":
        return float(t.sf((gain + hypothesis.margin) / se, df))
    return float(max(t.sf((gain + hypothesis.margin) / se, df), t.cdf((gain - hypothesis.margin) / se, df)))


def primary_tests(
    differences: pd.DataFrame, hypotheses: Sequence[Hypothesis], arm_label: Callable[[str], str]
) -> pd.DataFrame:
    """One row per declared hypothesis: its difference, interval and p-value, Holm-corrected
    over the hypotheses tested, and a verdict (``supported``, ``not supported``, or why it was
    not tested). ``differences``: ``experiment.arm_differences`` rows of every dataset and
    metric, with ``dataset`` and ``metric`` columns; ``arm_label`` maps a hypothesis's arm
    (``hybrid``) to the report's label of it (``hybrid α=0.5``)."""
    rows = []
    for h in hypotheses:
        comparison = f"{arm_label(h.treatment)} - {arm_label(h.baseline)}"
        found = differences[
            (differences["dataset"].map(benchmark_name) == h.dataset)
            & (differences["comparison"] == comparison)
            & (differences["setting"] == h.setting)
            & (differences["metric"] == h.metric)
            & (differences["languages"] == h.languages)
        ]
        row = {
            "hypothesis": h.name,
            "kind": h.kind,
            "margin": h.margin,
            "dataset": h.dataset,
            "comparison": comparison,
            "setting": h.setting,
            "metric": h.metric,
            "p": np.nan,
        }
        if found.empty:
            rows.append({**row, "verdict": f"not tested: no {comparison} difference on {h.dataset} in this experiment"})
            continue
        test = found.iloc[0]
        row |= {k: test[k] for k in ("dataset", "difference", "low", "high", "level")}
        if test["level"] == RUN_LEVEL:
            rows.append({**row, "verdict": "not tested: run-level (one seed); a strategy test needs 2 seeds or more"})
            continue
        rows.append({**row, "p": one_sided_p(h, test["difference"], test["se"], test["df"]), "verdict": ""})
    table = pd.DataFrame(rows).reindex(columns=PRIMARY_COLUMNS)
    table["p_holm"] = holm(table["p"].to_numpy(dtype=np.float64))
    tested = table["p"].notna()
    table.loc[tested, "verdict"] = np.where(table.loc[tested, "p_holm"] < LEVEL, "supported", "not supported")
    return table


def exploratory(differences: pd.DataFrame) -> pd.DataFrame:
    """``differences`` with ``q_bh``, Benjamini-Hochberg over every two-sided test of the
    table (rows marked ``primary`` are left out of it: they have their own family), and
    ``significant`` (q < 0.05)."""
    out = differences.copy()
    family = ~out["primary"].to_numpy(dtype=bool) if "primary" in out.columns else np.ones(len(out), dtype=bool)
    q = np.full(len(out), np.nan)
    q[family] = benjamini_hochberg(out.loc[family, "p"].to_numpy(dtype=np.float64))
    out["q_bh"] = q
    out["significant"] = out["q_bh"] < LEVEL
    return out


def mark_primary(
    differences: pd.DataFrame, hypotheses: Sequence[Hypothesis], arm_label: Callable[[str], str]
) -> pd.Series:
    """Which rows of ``differences`` test a declared hypothesis."""
    keys = {
        (h.dataset, f"{arm_label(h.treatment)} - {arm_label(h.baseline)}", h.setting, h.metric, h.languages)
        for h in hypotheses
    }
    return pd.Series(
        [
            (benchmark_name(d), c, s, m, g) in keys
            for d, c, s, m, g in zip(
                differences["dataset"],
                differences["comparison"],
                differences["setting"],
                differences["metric"],
                differences["languages"],
            )
        ],
        index=differences.index,
        dtype=bool,
    )
