"""The nightly's pieces without a server: the watch list and its errors, finding models,
the keys that say what was evaluated, the one-sided test, and the night's comparisons."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hybridcore.analysis import nightly
from hybridcore.analysis.significance import holm, sign_flip_p_below
from hybridcore.config.spec import RunSpec, SpecError
from hybridcore.config.watch import Watched, WatchList, load_watch_file
from tests.helpers import write_checkpoint


def test_a_watch_entry_needs_exactly_one_source_and_hub_revisions_order_by_time():
    with pytest.raises(ValueError, match="exactly one of folder, glob or hub"):
        Watched(series="a")
    with pytest.raises(ValueError, match="exactly one of folder, glob or hub"):
        Watched(series="a", folder="/x", hub="org/model")
    with pytest.raises(ValueError, match="a revision applies to a hub model only"):
        Watched(series="a", folder="/x", revision="main")
    with pytest.raises(ValueError, match="use order 'time'"):
        Watched(series="a", hub="org/model")
    assert Watched(series="a", hub="org/model", order="time").hub == "org/model"
    with pytest.raises(ValueError, match=r"series names must not repeat, but \['a'\] do"):
        WatchList(series=(Watched(series="a", folder="/x"), Watched(series="a", folder="/y")))


def test_a_bad_watch_file_is_one_line_naming_the_file_and_the_field(tmp_path):
    path = tmp_path / "watch.json"
    path.write_text(json.dumps({"series": [{"series": "job", "folder": "/x", "oder": "step"}]}))
    with pytest.raises(SpecError) as err:
        load_watch_file(path)
    assert str(err.value).startswith(f"{path}: WatchList: series.0.oder = 'step': unknown field")
    path.write_text(json.dumps({"series": [], "webhook": "ftp://host/hook", "margin": -1}))
    message = str(pytest.raises(SpecError, load_watch_file, path).value)
    assert (
        "webhook = 'ftp://host/hook': 'ftp://host/hook' is not an http(s) URL" in message and "margin = -1" in message
    )
    path.write_text("{not json")
    assert str(pytest.raises(SpecError, load_watch_file, path).value).startswith(f"{path}: not JSON (line 1")
    assert "cannot read the watch list" in str(pytest.raises(SpecError, load_watch_file, tmp_path / "none").value)
    # in a run spec, the same checks: the spec never builds
    with pytest.raises(SpecError, match=r"watch.series.0 .*exactly one of folder, glob or hub"):
        RunSpec.from_dict({"watch": {"series": [{"series": "job"}]}})


def test_a_watch_file_adds_its_series_and_rules_to_the_spec_s(tmp_path):
    path = tmp_path / "watch.json"
    path.write_text(json.dumps({"series": [{"series": "b", "glob": "/b/*"}], "margin": 0.02}))
    inline = WatchList(series=(Watched(series="a", folder="/a"),), file=str(path), alpha=0.01)
    resolved = inline.resolved()
    assert [s.series for s in resolved.series] == ["a", "b"] and resolved.file is None
    assert resolved.margin == 0.02 and resolved.alpha == 0.01
    spec = RunSpec.from_dict({"watch": inline.to_dict()})
    assert RunSpec.from_dict(spec.to_dict()) == spec


def test_find_models_lists_checkpoints_by_step_and_leaves_aside_what_is_not_ready(tiny_model, tmp_path):
    from hybridcore.run.watching import find_models

    job = tmp_path / "job"
    job.mkdir()
    write_checkpoint(tiny_model, job / "checkpoint-200")
    write_checkpoint(tiny_model, job / "checkpoint-1000")
    (job / "runs").mkdir()  # a training job's logs: not a model
    write_checkpoint(tiny_model, job / "latest")  # no step in its name
    old = time.time() - 3600
    for folder in (job / "checkpoint-200", job / "checkpoint-1000", job / "latest"):
        for path in [folder, *folder.iterdir()]:
            os.utime(path, (old, old))
    write_checkpoint(tiny_model, job / "checkpoint-1500")  # written just now: may be unfinished
    found, skipped = find_models(Watched(series="job", folder=str(job)), settle=60)
    assert [(m.step, m.label) for m in sorted(found, key=lambda m: m.step)] == [
        (200, "checkpoint-200"),
        (1000, "checkpoint-1000"),
    ]
    assert len(skipped) == 3
    assert any("runs is not a model folder" in s for s in skipped)
    assert any("latest has no step number" in s for s in skipped)
    assert any("checkpoint-1500 changed" in s and "left for the next night" in s for s in skipped)
    by_time, _ = find_models(Watched(series="job", glob=str(job / "lat*"), order="time"), settle=0)
    assert [m.label for m in by_time] == ["latest"] and by_time[0].step is None
    assert find_models(Watched(series="x", folder=str(tmp_path / "nothing")), 0) == (
        [],
        [f"x: {tmp_path / 'nothing'} is not a folder (yet)"],
    )


def test_keys_follow_the_weights_the_series_and_for_the_reference_the_code(tiny_model, tmp_path, monkeypatch):
    from hybridcore.run import watching

    spec = RunSpec.from_dict({"model": str(tiny_model), "strategies": [], "eval_sets": ["xquad-r?sample=5"]})
    same = shutil.copytree(tiny_model, tmp_path / "copy")  # copied, not saved again
    moved = write_checkpoint(tiny_model, tmp_path / "moved", noise=1e-3)
    assert watching.watched_key("a", str(tiny_model), spec) == watching.watched_key("a", str(same), spec)
    assert watching.watched_key("a", str(tiny_model), spec) != watching.watched_key("a", str(moved), spec)
    assert watching.watched_key("a", str(tiny_model), spec) != watching.watched_key("b", str(tiny_model), spec)
    other_sets = replace(spec, eval_sets=("xquad-r?sample=6",))
    assert watching.watched_key("a", str(tiny_model), spec) != watching.watched_key("a", str(tiny_model), other_sets)

    before = watching.reference_key(spec)
    assert watching.reference_key(spec) == before
    monkeypatch.setattr(watching, "code_version", lambda: "another-commit")
    assert watching.reference_key(spec) != before  # new code: the reference is evaluated again


def test_the_one_sided_test_agrees_with_scipy_s_permutation_test():
    rng = np.random.default_rng(3)
    for shift, bound in ((-0.05, -0.01), (0.0, -0.01), (-0.02, -0.02)):
        d = rng.normal(shift, 0.1, size=80)
        ours = sign_flip_p_below(d, bound, permutations=20_000, seed=1)
        theirs = stats.permutation_test(
            (d - bound,),
            np.mean,
            permutation_type="samples",
            alternative="less",
            n_resamples=20_000,
            random_state=2,
        ).pvalue
        assert abs(ours - theirs) < 0.01, (shift, ours, theirs)


def _points(kind="watched"):
    return pd.DataFrame(
        {
            "run_id": [1, 2, 3, 4, 5],
            "series": ["a", "a", "a", "b", "b"],
            "kind": [kind] * 5,
            "step": [300, 100, 200, np.nan, np.nan],
            "appeared_at": pd.to_datetime(["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-02", "2026-12-01"]),
        }
    )


def test_each_new_point_is_compared_with_its_previous_and_the_first_of_its_series():
    pairs = nightly.comparisons(_points(), [1, 3, 4])
    # a: steps 100 (run 2), 200 (run 3), 300 (run 1); b by time: run 5, then run 4
    assert pairs == [(3, "first", 2), (1, "previous", 3), (1, "first", 2), (4, "first", 5)]


def _scores(values: dict[int, np.ndarray]) -> pd.DataFrame:
    rows = []
    for run, v in values.items():
        for q, x in enumerate(v):
            for lang in ("en", "de"):
                rows.append((run, "xquad-r", "mono", lang, lang, f"q{q}", "map", x))
    return pd.DataFrame(
        rows, columns=["run_id", "dataset", "setting", "query_lang", "candidate_lang", "query_id", "metric", "value"]
    )


def test_a_drop_beyond_the_margin_is_a_regression_and_a_small_one_is_not():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.9, size=120)
    values = {2: base, 3: base + rng.normal(0, 0.002, 120), 1: np.clip(base - 0.2, 0, 1)}
    points = _points().iloc[:3]
    runs = pd.DataFrame({"id": [1, 2, 3], "seen_languages": [""] * 3, "exposure": [None] * 3})

    def scores_of(ids, dataset, metric):
        data = _scores(values)
        return data[data["run_id"].isin(ids)]

    mono_map = [nightly.PrimaryFigure("xquad-r", "mono", "map", False)]
    changes = nightly.series_changes(points, runs, [3, 1], mono_map, scores_of, 0.01, 0.05)
    assert len(changes) == 3  # one group (no card): overall only
    flagged = changes[changes["regression"]]
    assert sorted(zip(flagged["run_id"], flagged["against"])) == [(1, "first"), (1, "previous")]
    assert not changes.loc[changes["run_id"] == 3, "regression"].any()
    # Holm over the night's regression tests, as corrected by hand
    assert np.allclose(changes["p_regression_holm"], holm(changes["p_regression"].to_numpy()))
    drop = changes[(changes["run_id"] == 1) & (changes["against"] == "previous")].iloc[0]
    assert drop["delta"] == pytest.approx(values[1].mean() - values[3].mean())

    # the reference moving is the evaluation changing: reported, never a regression
    reference = nightly.series_changes(_points("reference").iloc[:3], runs, [3, 1], mono_map, scores_of, 0.01, 0.05)
    assert not reference["regression"].any() and len(nightly.evaluation_changed(reference)) == 3


def test_the_nightly_command_refuses_a_bad_watch_list_in_one_line_before_any_work(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "watch.json"
    path.write_text(json.dumps({"series": [{"series": "job", "folder": "/x", "glob": "/y/*"}]}))
    store = tmp_path / "store.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "nightly", "--watch", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "HYBRID_EVAL_DB_URL": f"duckdb:///{store}"},
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {path}: WatchList: series.0 = {{'series': 'job', 'folder': '/x', 'glob': '/y/*'}}: "
        "series 'job' needs exactly one of folder, glob or hub (got ['folder', 'glob'])"
    ]
    assert not store.exists()  # nothing started, nothing written


def test_a_gap_is_better_lower_as_its_hypothesis_declares_so_a_wider_gap_regresses():
    """Found on the real learning curve: AfriQA's gap (pivot->pivot minus X->pivot nDCG@10)
    widening by 0.05 read as an improvement, nDCG's own direction."""
    from hybridcore.config.spec import PRIMARY_HYPOTHESES

    figures = nightly.primary_figures(PRIMARY_HYPOTHESES, ["afriqa-sampled-pool", "xquad-r"])
    assert nightly.PrimaryFigure("afriqa-sampled-pool", "gap", "ndcg@10", True) in figures
    assert nightly.PrimaryFigure("xquad-r", "multi", "map", False) in figures
    assert nightly.PrimaryFigure("xquad-r", "multi", "rank_distance_norm", True) in figures

    rng = np.random.default_rng(1)
    base = rng.uniform(0.1, 0.4, size=150)
    values = {2: base, 1: base + 0.05}  # the gap widened by 0.05
    runs = pd.DataFrame({"id": [1, 2], "seen_languages": [""] * 2, "exposure": [None] * 2})
    points = _points().iloc[:2]

    def scores_of(ids, dataset, metric):
        data = _scores(values).assign(setting="gap")
        return data[data["run_id"].isin(ids)]

    gap = [nightly.PrimaryFigure("afriqa", "gap", "ndcg@10", True)]
    changes = nightly.series_changes(points, runs, [1], gap, scores_of, 0.01, 0.05)
    assert changes["gain"].iloc[0] == pytest.approx(-0.05) and changes["regression"].all()
    assert nightly.improved(changes, 0.01, 0.05).empty
