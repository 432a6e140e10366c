"""Primary hypotheses and exploratory tests: one-sided and TOST p-values against statsmodels,
the multiplicity correction over exactly the declared family, and no strategy claim from a
one-seed comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_paired

from hybridcore.analysis.experiment import paper_agreement
from hybridcore.analysis.hypotheses import RUN_LEVEL, STRATEGY, exploratory, mark_primary, one_sided_p, primary_tests
from hybridcore.analysis.seeds import seed_aware_test
from hybridcore.config.spec import PRIMARY_HYPOTHESES, Hypothesis, RunSpec, SpecError
from hybridcore.data.formats.metadata import Figure, Paper


def _row(comparison, setting, metric, difference, se, level=STRATEGY, dataset="xquad-r", p=0.5):
    return {
        "dataset": dataset,
        "metric": metric,
        "comparison": comparison,
        "setting": setting,
        "languages": "all languages",
        "questions": 100,
        "seeds": "3 vs 3",
        "difference": difference,
        "low": difference - 2 * se,
        "high": difference + 2 * se,
        "cohens_d": 0.1,
        "p": p,
        "se": se,
        "df": 30.0,
        "level": level,
    }


def test_tost_and_one_sided_tests_equal_statsmodels_on_paired_scores():
    """With one run per arm the seed-aware test is the paired t-test, so its TOST within a
    margin must be statsmodels' ``ttost_paired``."""
    rng = np.random.default_rng(0)
    a = rng.normal(0.6, 0.2, 400)
    b = a + rng.normal(0.004, 0.05, 400)
    test = seed_aware_test(a[None, :], b[None, :])
    equivalence = Hypothesis("eq", "x", "mono", "map", "mono", kind="equivalence", margin=0.01)
    theirs = ttost_paired(b, a, -0.01, 0.01)[0]
    assert one_sided_p(equivalence, test.difference, test.standard_error, test.degrees_of_freedom) == pytest.approx(
        theirs, rel=1e-9
    )
    non_inferior = Hypothesis("ni", "x", "mono", "map", "cross", margin=0.01)
    lower_bound_p = ttost_paired(b, a, -0.01, 1e9)[1][1]  # H0: b - a <= -margin
    p = one_sided_p(non_inferior, test.difference, test.standard_error, test.degrees_of_freedom)
    assert p == pytest.approx(lower_bound_p, rel=1e-9)
    # lower is better (a rank distance, a gap): the same test on the negated difference
    narrower = Hypothesis("gap", "afriqa", "gap", "ndcg@10", "mono", kind="superiority", better="lower")
    assert one_sided_p(narrower, -0.02, 0.01, 30) == pytest.approx(0.0272, abs=5e-4)  # t(30).sf(2)
    assert one_sided_p(narrower, 0.02, 0.01, 30) == pytest.approx(1 - 0.0272, abs=5e-4)


def test_holm_runs_over_exactly_the_declared_family_and_bh_over_everything_else():
    hypotheses = [
        Hypothesis("mono map vs mono", "xquad-r", "mono", "map", "mono", margin=0.01),
        Hypothesis("cross map vs cross", "xquad-r", "cross", "map", "cross", margin=0.01),
        Hypothesis("gap vs mono", "afriqa", "gap", "ndcg@10", "mono", kind="superiority", better="lower"),
    ]
    rows = [
        _row("hybrid - mono", "mono", "map", 0.002, 0.004, p=0.6),
        _row("hybrid - cross", "cross", "map", -0.004, 0.004, p=0.3),
        _row("hybrid - mono", "gap", "ndcg@10", -0.03, 0.01, dataset="afriqa", p=0.004),
        *(
            _row("hybrid - reference", "multi", "map", 0.01 * k, 0.01, p=p)
            for k, p in enumerate([0.01, 0.2, 0.04, 0.9])
        ),
    ]
    table = pd.DataFrame(rows)
    table["primary"] = mark_primary(table, hypotheses, lambda arm: arm)
    assert list(table["primary"]) == [True, True, True, False, False, False, False]
    table = exploratory(table)
    expected_q = multipletests([0.01, 0.2, 0.04, 0.9], method="fdr_bh")[1]
    np.testing.assert_allclose(table.loc[~table["primary"], "q_bh"], expected_q)
    assert table.loc[table["primary"], "q_bh"].isna().all()  # primary rows are their own family

    primary = primary_tests(table, hypotheses, lambda arm: arm)
    raw = [one_sided_p(h, r["difference"], r["se"], r["df"]) for h, r in zip(hypotheses, rows)]
    np.testing.assert_allclose(primary["p"], raw)
    np.testing.assert_allclose(primary["p_holm"], multipletests(raw, method="holm")[1])
    assert list(primary["verdict"]) == [
        "supported" if q < 0.05 else "not supported" for q in multipletests(raw, method="holm")[1]
    ]
    # a family of one more untestable hypothesis: Holm still runs over the tested ones only
    missing = Hypothesis("absent", "tatoeba", "bitext", "precision@1", "mono", margin=0.01)
    again = primary_tests(table, [*hypotheses, missing], lambda arm: arm)
    np.testing.assert_allclose(again["p_holm"][:3], primary["p_holm"])
    assert again["verdict"].iloc[3].startswith("not tested: no hybrid - mono difference on tatoeba")


def test_a_one_seed_comparison_makes_no_strategy_claim():
    hypotheses = [Hypothesis("mono map", "xquad-r", "mono", "map", "mono", margin=0.01)]
    table = pd.DataFrame([_row("hybrid - mono", "mono", "map", 0.05, 0.001, level=RUN_LEVEL, p=1e-6)])
    table["primary"] = mark_primary(table, hypotheses, lambda arm: arm)
    primary = primary_tests(exploratory(table), hypotheses, lambda arm: arm)
    assert np.isnan(primary["p"].iloc[0]) and primary["verdict"].iloc[0].startswith("not tested: run-level")
    claims = Paper(claims=(Figure("mono", "map"),))
    rows = pd.DataFrame(
        [_row(f"hybrid - {b}", "mono", "map", 0.05, 0.001, level=RUN_LEVEL, p=1e-6) for b in ("mono", "cross")]
    )
    verdict = paper_agreement(exploratory(rows), claims, primary=primary)["verdict"].iloc[0]
    assert verdict.startswith("no verdict: run-level")


def test_no_difference_is_not_called_agreement_without_a_margin():
    claims = Paper(claims=(Figure("mono", "map"),))
    rows = pd.DataFrame([_row(f"hybrid - {b}", "mono", "map", 0.001, 0.01, p=0.9) for b in ("mono", "cross")])
    verdict = paper_agreement(exploratory(rows), claims)["verdict"].iloc[0]
    assert verdict.startswith("undecided: no difference shown, which is not equivalence")


def test_the_spec_declares_the_paper_s_claims_and_checks_each_hypothesis():
    assert len(PRIMARY_HYPOTHESES) == 10 and RunSpec().hypotheses == PRIMARY_HYPOTHESES
    kinds = {(h.dataset, h.kind) for h in PRIMARY_HYPOTHESES}
    assert kinds == {("xquad-r", "non-inferiority"), ("afriqa", "superiority")}
    declared = {"name": "x", "dataset": "xquad-r", "setting": "mono", "metric": "map"}
    for bad, problem in (
        ({"baseline": "mono", "kind": "equivalence"}, "needs a margin > 0"),
        ({"baseline": "hybrid", "margin": 0.01}, "treatment and baseline are both"),
    ):
        with pytest.raises(SpecError, match=problem):
            RunSpec.from_dict({"hypotheses": [{**declared, **bad}]})


def test_the_report_tests_a_format_s_gap_like_any_figure():
    """AfriQA's gap (translated minus native, per question) joins the per-query scores with
    the store's columns, so the gap hypotheses find their differences."""
    from hybridcore.analysis.underrepresented import with_gaps
    from hybridcore.data.formats.registry import formats

    rows = [
        (run, "afriqa", setting, "yo", "en", f"q{i}", "ndcg@10", value + 0.1 * i)
        for run in (1, 2)
        for setting, value in (("native", 0.4), ("translated", 0.9))
        for i in range(3)
    ]
    columns = ["run_id", "dataset", "setting", "query_lang", "candidate_lang", "query_id", "metric", "value"]
    scores = pd.DataFrame(rows, columns=columns)
    both = with_gaps(scores, formats()["afriqa"].metadata, "ndcg@10")
    gaps = both[both["setting"] == "gap"]
    assert list(both.columns) == columns and len(gaps) == 6
    np.testing.assert_allclose(gaps["value"], 0.5)
    assert set(gaps["run_id"]) == {1, 2}
    labelled = with_gaps(
        scores.assign(run=scores["run_id"].map({1: "mono", 2: "hybrid"})), formats()["afriqa"].metadata, "ndcg@10"
    )
    assert set(labelled.loc[labelled["setting"] == "gap", "run"]) == {"mono", "hybrid"}  # as the dashboard labels them
