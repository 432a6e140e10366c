"""The nightly's steps: what is new, what changed, and telling whoever asked to be told."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from db import queries, store
from db.session import make_engine
from hybridcore.analysis import nightly
from hybridcore.config.spec import RunSpec
from hybridcore.config.watch import WatchList, dashboard_url
from hybridcore.run.watching import find_models, reference_key, watched_key

ARTIFACT_KEY = "nightly-report"
REGRESSION_TAG = "regression"


@task
def new_models(spec: RunSpec, watch: WatchList, db_url: str | None = None) -> tuple[list[dict], list[str]]:
    """The models of every watched series whose key no completed run holds, and the
    reference when its key (code, data) is new; plus one line per folder left aside."""
    found, skipped = [], []
    for entry in watch.series:
        models, left = find_models(entry, watch.settle_seconds)
        skipped += left
        found += [
            {**asdict(m), "kind": nightly.WATCHED, "key": watched_key(m.series, m.model, spec), "base": entry.base}
            for m in models
        ]
    reference = {
        "series": f"reference-{Path(spec.model).name}",
        "model": spec.model,
        "label": "reference",
        "step": None,
        "revision": None,
        "appeared_at": datetime.now().astimezone().isoformat(),
        "kind": nightly.REFERENCE,
        "key": reference_key(spec),
        "base": None,
    }
    candidates = [reference, *found]
    done = queries.evaluated_keys(make_engine(db_url), [c["key"] for c in candidates])
    fresh, seen = [], set(done)
    for c in candidates:
        if c["key"] not in seen:  # one series listing a model twice (a folder and a glob) counts it once
            fresh.append(c)
            seen.add(c["key"])
    return fresh, skipped


@task
def night_points(night: str, db_url: str | None = None) -> pd.DataFrame:
    """The series points a night stored: ``run_id``, ``name``, ``series``, ``step``, ``kind``."""
    points = queries.series_points(make_engine(db_url))
    return points[points["night"] == night].reset_index(drop=True)


@task
def night_changes(spec: RunSpec, watch: WatchList, new_run_ids: list[int], db_url: str | None = None) -> pd.DataFrame:
    """Each new model against the previous and the first of its series (``analysis.nightly``)."""
    engine = make_engine(db_url)
    series = queries.series_points(engine)
    mine = series[series["series"].isin(series.loc[series["run_id"].isin(new_run_ids), "series"])]
    if mine.empty:
        return pd.DataFrame(columns=nightly.CHANGE_COLUMNS)
    runs = queries.runs(engine)
    runs = runs[runs["id"].isin(mine["run_id"])]
    datasets = queries.metrics(engine, mine["run_id"].tolist())["dataset"].unique()

    def scores_of(run_ids, dataset, metric):
        return queries.query_scores(engine, run_ids, dataset, metric)

    figures = nightly.primary_figures(spec.hypotheses, datasets)
    return nightly.series_changes(mine, runs, new_run_ids, figures, scores_of, watch.margin, watch.alpha)


@task
def publish_night(
    night: str,
    started_at: datetime,
    watch: WatchList,
    evaluated: pd.DataFrame,
    changes: pd.DataFrame,
    skipped: list[str],
    db_url: str | None = None,
) -> dict:
    """The night's markdown as a Prefect artifact and in the store; a night with a regression
    tags its flow run and calls the configured hooks once."""
    logger = get_run_logger()
    names = queries.series_points(make_engine(db_url)).set_index("run_id")["name"].to_dict()
    changes = changes.assign(against_name=changes["against_run_id"].map(names))
    markdown = nightly.night_markdown(night, evaluated, changes, watch.margin, watch.alpha, dashboard_url(), skipped)
    regressions = int(changes["regression"].sum()) if len(changes) else 0
    moved = len(nightly.evaluation_changed(changes)) if len(changes) else 0
    create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description=f"Nightly evaluation {night}")
    run_id = str(flow_run.id) if flow_run.id else None
    store.store_night(
        make_engine(db_url),
        night,
        started_at,
        changes,
        evaluated=len(evaluated),
        regressions=regressions,
        evaluation_changed=moved > 0,
        markdown=markdown,
        flow_run_id=run_id,
    )
    if regressions:
        if run_id:
            with get_client(sync_client=True) as client:
                client.update_flow_run(flow_run.id, tags=sorted({*flow_run.tags, REGRESSION_TAG}))
        notify(watch, night, regressions, markdown)
    logger.info("%s", markdown)
    return {"night": night, "evaluated": len(evaluated), "regressions": regressions, "evaluation_changed": moved > 0}


def notify(watch: WatchList, night: str, regressions: int, markdown: str) -> None:
    """Call the watch list's webhook (a JSON POST) and notification block, once each. A hook
    that fails is logged: the night's results are stored already and stay so."""
    logger = get_run_logger()
    subject = f"hybrid-eval nightly {night}: {regressions} regression(s)"
    if watch.webhook:
        body = json.dumps({"night": night, "regressions": regressions, "subject": subject, "markdown": markdown})
        request = urllib.request.Request(
            watch.webhook, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                logger.info("webhook %s answered %s", watch.webhook, response.status)
        except OSError as err:
            logger.warning("webhook %s failed: %s", watch.webhook, err)
    if watch.notify_block:
        from prefect.blocks.core import Block

        try:
            Block.load(watch.notify_block).notify(body=markdown, subject=subject)  # type: ignore[attr-defined]
        except Exception as err:  # a missing block or a refused notification: logged, never fatal
            logger.warning("notification block %s failed: %s", watch.notify_block, err)
