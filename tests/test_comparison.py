"""Comparison tables against direct computations on real figures, and the paired tests
against scipy's permutation test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hybridcore.analysis import comparison
from hybridcore.analysis.coverage import ALL_LANGUAGES, FINE_TUNING, PRETRAINING, Exposure, label_figures
from hybridcore.analysis.figures import setting_label
from hybridcore.analysis.tables import coverage_table
from hybridcore.model.pretraining import XLM_R

CC_100 = Exposure.cc100(XLM_R)  # the old three groups, still computable


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def evaluations(real_embeddings, xquad_small):
    """The real e5-small figures, and those of the same embeddings slightly perturbed."""
    q, c = real_embeddings
    rng = np.random.default_rng(7)
    noisy = (_normalised(q + 0.02 * rng.normal(size=q.shape)), _normalised(c + 0.02 * rng.normal(size=c.shape)))
    return {"reference": xquad_small.evaluate(q, c), "other": xquad_small.evaluate(*noisy)}


def _figures(evaluations) -> pd.DataFrame:
    return pd.concat([e.figures().assign(run=run) for run, e in evaluations.items()], ignore_index=True)


def _scores(evaluations) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame(e.per_query_columns()).assign(run=run) for run, e in evaluations.items()], ignore_index=True
    )


def test_side_by_side_equals_the_evaluation_summary_and_its_differences(evaluations):
    table = comparison.side_by_side(_figures(evaluations), ["reference", "other"], "reference").set_index(
        ["setting", "metric"]
    )
    for run, evaluation in evaluations.items():
        for setting, values in evaluation.summary().items():
            for metric, value in values.items():
                label = setting_label(setting)
                assert table.loc[(label, metric), run] == pytest.approx(value)
    assert np.allclose(table["Δ other"], table["other"] - table["reference"])
    assert list(table.index.get_level_values("setting").unique()) == ["Mo", "Cr", "Mul", "Mul rank"]


def test_pair_matrix_has_mono_on_the_diagonal_and_cross_elsewhere(evaluations):
    matrix = comparison.pair_matrix(_figures(evaluations), "reference", "xquad-r")
    assert list(matrix.index) == list(matrix.columns) == ["de", "en", "th"]
    for g in evaluations["reference"].groups:
        if g.setting == "mono":
            assert matrix.loc[g.query_lang, g.query_lang] == pytest.approx(g.mean("map"))
        elif g.setting == "cross":
            assert matrix.loc[g.query_lang, g.candidate_lang] == pytest.approx(g.mean("map"))


def test_coverage_groups_are_the_macro_average_of_their_groups(evaluations):
    # fine-tuned on en and de; th is in XLM-R's pretraining only. A pair counts for its less
    # covered side (en-th and th-de for Thai), for the non-English side on a tie (en-de for German);
    # every language pair weighs the same, in each coverage group and over all languages.
    figures = _figures(evaluations)
    table = comparison.by_coverage(figures, ["reference", "other"], "xquad-r", {"en", "de"}, CC_100).set_index(
        ["run", "languages"]
    )
    cross = {
        (g.query_lang, g.candidate_lang): g.mean("map") for g in evaluations["reference"].groups if g.setting == "cross"
    }
    german = np.mean([cross[("en", "de")], cross[("de", "en")]])
    thai = np.mean([v for pair, v in cross.items() if "th" in pair])
    assert table.loc[("reference", FINE_TUNING), "Cr mAP"] == pytest.approx(german)
    assert table.loc[("reference", PRETRAINING), "Cr mAP"] == pytest.approx(thai)
    assert table.loc[("reference", ALL_LANGUAGES), "Cr mAP"] == pytest.approx(np.mean(list(cross.values())))
    assert table.loc[("reference", ALL_LANGUAGES), "Cr mAP"] == pytest.approx(
        evaluations["reference"].macro("cross", "map")
    )
    mono = {g.query_lang: g.mean("map") for g in evaluations["reference"].groups if g.setting == "mono"}
    assert table.loc[("reference", FINE_TUNING), "Mo mAP"] == pytest.approx((mono["en"] + mono["de"]) / 2)
    diffs = comparison.coverage_differences(table.reset_index(), "other").set_index(["comparison", "languages"])
    assert diffs.loc[("other - reference", PRETRAINING), "Mul mAP"] == pytest.approx(
        table.loc[("other", PRETRAINING), "Mul mAP"] - table.loc[("reference", PRETRAINING), "Mul mAP"]
    )
    text = coverage_table(figures, ["reference", "other"], "xquad-r", {"en", "de"}, CC_100)
    assert f"{table.loc[('reference', PRETRAINING), 'Mo mAP']:.3f}" in text and PRETRAINING in text


def test_results_json_and_store_rows_give_the_same_figures(evaluations):
    records = {run: e.to_dict() for run, e in evaluations.items()}
    from_json = comparison.macro(comparison.figures_from_results(records)).set_index(["run", "setting", "metric"])
    from_rows = comparison.macro(_figures(evaluations)).set_index(["run", "setting", "metric"])
    assert np.allclose(from_json.loc[from_rows.index, "value"], from_rows["value"])


def test_paired_tests_match_scipy_per_language(evaluations):
    scores = _scores(evaluations)
    scores = scores[scores["metric"] == "map"]
    table = comparison.paired_tests(scores, "reference", "other", level="language", permutations=20_000, seed=1)
    row = table[(table["setting"] == "multi") & (table["query_lang"] == "th")].iloc[0]
    part = scores[(scores["setting"] == "multi") & (scores["query_lang"] == "th")].pivot(
        index="query_id", columns="run", values="value"
    )
    ref = stats.permutation_test(
        (part["reference"], part["other"]),
        lambda x, y: np.mean(y - x),
        permutation_type="samples",
        n_resamples=20_000,
        alternative="two-sided",
        random_state=1,
    )
    assert row["n"] == len(part) and row["delta"] == pytest.approx((part["other"] - part["reference"]).mean())
    assert row["p"] == pytest.approx(ref.pvalue, abs=0.01)
    assert np.allclose(table["p_adjusted"], comparison.holm(table["p"].to_numpy()))
    assert (table["significant"] == (table["p_adjusted"] < 0.05)).all()


def test_overall_and_coverage_levels_take_a_question_as_the_unit(evaluations):
    scores = _scores(evaluations)
    scores = scores[scores["metric"] == "map"]
    overall = comparison.paired_tests(scores, "reference", "other", level="overall", permutations=2000).set_index(
        "setting"
    )
    cross = (
        scores[scores["setting"] == "cross"].groupby(["run", "query_lang", "query_id"])["value"].mean().unstack("run")
    )
    per_question = cross.groupby(level="query_id").mean()  # a question's translations averaged
    assert overall.loc["cross", "n"] == len(per_question) < len(cross)
    assert overall.loc["cross", "delta"] == pytest.approx((per_question["other"] - per_question["reference"]).mean())
    labelled = label_figures(scores, {"en", "de"}, CC_100)
    by_coverage = comparison.paired_tests(labelled, "reference", "other", level="coverage", permutations=2000)
    mono = by_coverage[by_coverage["setting"] == "mono"].set_index("coverage")
    mono_queries = scores[(scores["setting"] == "mono") & (scores["run"] == "other")]
    assert mono.loc[PRETRAINING, "n"] == (mono_queries["query_lang"] == "th").sum()
    assert (
        mono.loc[FINE_TUNING, "n"] == mono_queries[mono_queries["query_lang"].isin(["en", "de"])]["query_id"].nunique()
    )
    pairs = comparison.paired_tests(scores, "reference", "other", level="pair", correction="bh", permutations=2000)
    assert len(pairs) == 3 + 6 + 3  # mono per language, cross per pair, multi per language
    assert np.allclose(pairs["p_adjusted"], comparison.benjamini_hochberg(pairs["p"].to_numpy()))
    with pytest.raises(ValueError, match="label_figures"):
        comparison.paired_tests(scores, "reference", "other", level="coverage")


def test_pooled_levels_hold_their_size_when_translations_move_together():
    # No true effect, but each question's difference is shared by its six translations: a test
    # that counted the translations as independent queries rejects far more than 5% of the time.
    rng = np.random.default_rng(0)
    rejected = 0
    for _ in range(100):
        shared = rng.normal(0, 0.1, 30)
        rows = [
            {
                "run": run,
                "setting": "multi",
                "query_lang": lang,
                "candidate_lang": lang,
                "query_id": f"q{q}",
                "value": 0.5 + (shared[q] + rng.normal(0, 0.01) if run == "b" else 0.0),
            }
            for q in range(30)
            for lang in ("en", "de", "es", "th", "ru", "el")
            for run in ("a", "b")
        ]
        table = comparison.paired_tests(pd.DataFrame(rows), "a", "b", level="overall", permutations=500)
        rejected += bool(table["p"].iloc[0] < 0.05)
    assert rejected <= 12  # 5% of 100, with room for chance (P(more than 12) is about 0.002)


def test_identical_runs_differ_nowhere(evaluations):
    scores = _scores({"a": evaluations["reference"], "b": evaluations["reference"]})
    table = comparison.paired_tests(scores[scores["metric"] == "map"], "a", "b", level="pair", permutations=500)
    assert (table["delta"] == 0).all() and (table["p"] == 1).all() and not table["significant"].any()
