"""The one aggregation of figures: the macro average over a setting's groups.

``figures`` are long frames, one row per (run, dataset, setting, query_lang, candidate_lang,
metric) with a ``value`` (a group's mean over its queries), the shape the store keeps and
``Evaluation.figures`` produces. A setting's figure over a set of groups (every group of the
setting, or those of one language-coverage group) is the unweighted mean of their values,
groups without a value left out: each language (or language pair, for a cross-lingual
setting) weighs the same, as LAReQA's macro averages do. The printed summary, the dashboard
and the report all call ``macro``, so they print the same figure. Torch-free.
"""

from __future__ import annotations

import pandas as pd

# n_queries: the queries a group's value averages; pool_size: the candidates each of them was
# ranked against (missing for results written before it was recorded)
FIGURE_COLUMNS = ["dataset", "setting", "query_lang", "candidate_lang", "metric", "value", "n_queries", "pool_size"]


def macro(figures: pd.DataFrame, by: tuple[str, ...] = ("run", "dataset", "setting", "metric")) -> pd.DataFrame:
    """Mean over each ``by`` key's groups (NaN left out), with the number of groups
    (``groups``); columns of ``by`` missing from ``figures`` are skipped."""
    keys = [k for k in by if k in figures.columns]
    return figures.groupby(keys, sort=False)["value"].agg(value="mean", groups="size").reset_index()
