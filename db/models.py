"""Tables: runs, one row per metric figure, per-query scores as arrays, artifacts, series
points and nightly reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# DuckDB has no SERIAL: keys come from sequences.
run_id_seq = Sequence("run_id_seq")
artifact_id_seq = Sequence("artifact_id_seq")


# Per-query values one row each: the layout before packed arrays (``hybrid-eval store upgrade``).
OLD_SCORES_TABLE = "query_scores"


# The layout this code writes and reads: 1 kept per-query values one row each
# (``OLD_SCORES_TABLE``), 2 keeps them packed and records its version in ``store_info``.
SCHEMA_VERSION = 2


class Base(DeclarativeBase):
    pass


class StoreInfo(Base):
    """Facts about the store itself, one row each: ``schema_version``."""

    __tablename__ = "store_info"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(String)


class Run(Base):
    """One trained (or reference) model's evaluation; ``name`` identifies it across re-runs."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, run_id_seq, server_default=run_id_seq.next_value(), primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    experiment: Mapped[str | None] = mapped_column(String)
    strategy: Mapped[str] = mapped_column(String)  # reference, mono, cross, hybrid
    alpha: Mapped[float | None] = mapped_column(Double)
    model: Mapped[str] = mapped_column(String)
    train_set: Mapped[str | None] = mapped_column(String)
    eval_sets: Mapped[str] = mapped_column(String)  # comma-separated
    seen_languages: Mapped[str | None] = mapped_column(String)  # comma-separated: the fine-tuning languages
    pretraining_languages: Mapped[str | None] = mapped_column(String)  # comma-separated; NULL: unknown
    exposure: Mapped[dict | None] = mapped_column(JSON)  # the model's exposure card as recorded; NULL: no card
    config: Mapped[dict] = mapped_column(JSON)
    seed: Mapped[int | None] = mapped_column(Integer)
    code_version: Mapped[str | None] = mapped_column(String)
    machine: Mapped[dict | None] = mapped_column(JSON)  # where it ran: CPU, matrix ISA, GPU, threads
    status: Mapped[str] = mapped_column(String)  # running, completed, failed
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timings: Mapped[dict | None] = mapped_column(JSON)
    training: Mapped[dict | None] = mapped_column(JSON)  # the kept step, early stop, realised mono share
    leakage: Mapped[list | None] = mapped_column(JSON)


class GroupKey:
    """The evaluation group a value belongs to: run, dataset, setting and language pair."""

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    setting: Mapped[str] = mapped_column(String, primary_key=True)  # mono, cross, multi, beir
    query_lang: Mapped[str] = mapped_column(String, primary_key=True)
    candidate_lang: Mapped[str] = mapped_column(String, primary_key=True)  # or "all"


class MetricRow(GroupKey, Base):
    """One figure: a metric of one (dataset, setting, query language, candidate language)."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run", "run_id"),)

    metric: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[float | None] = mapped_column(Double)
    n_queries: Mapped[int] = mapped_column(Integer)
    pool_size: Mapped[int | None] = mapped_column(Integer)  # candidates ranked per query; NULL: not recorded


class QueryIdList(Base):
    """An ordered list of query ids, stored once for every run and group that shares it
    (see ``db.packing``); ``digest`` is the SHA-256 of its content."""

    __tablename__ = "query_id_lists"

    digest: Mapped[str] = mapped_column(String, primary_key=True)
    n_queries: Mapped[int] = mapped_column(Integer)
    ids: Mapped[bytes] = mapped_column(LargeBinary)


class QueryScores(GroupKey, Base):
    """One metric's per-query values in one group, for paired significance tests between
    runs: a packed float64 array aligned with the id list ``query_ids`` names."""

    __tablename__ = "per_query_scores"
    __table_args__ = (Index("ix_per_query_scores_run", "run_id"),)

    metric: Mapped[str] = mapped_column(String, primary_key=True)
    # No foreign key: id lists are shared and never deleted, and DuckDB checks a foreign
    # key on every delete of the referencing rows.
    query_ids: Mapped[str] = mapped_column(String)
    n_queries: Mapped[int] = mapped_column(Integer)
    scores: Mapped[bytes] = mapped_column(LargeBinary)


class Artifact(Base):
    """A file a run produced: checkpoint, model folder, embeddings, TREC run, results JSON."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(
        BigInteger, artifact_id_seq, server_default=artifact_id_seq.next_value(), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    kind: Mapped[str] = mapped_column(String)
    path: Mapped[str] = mapped_column(Text)


class SeriesPoint(Base):
    """A run's place in a series: a watched checkpoint (``watched``), a followed hub model's
    revision, the nightly reference (``reference``), or an experiment arm's exported
    checkpoint (``checkpoint``: a learning curve). ``model_key`` is what makes its
    evaluation (``hybridcore.run.watching``): a key already stored is not evaluated again."""

    __tablename__ = "series_points"
    __table_args__ = (Index("ix_series_points_series", "series"), Index("ix_series_points_key", "model_key"))

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    step: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[str | None] = mapped_column(String)
    appeared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    model_key: Mapped[str] = mapped_column(String)
    night: Mapped[str | None] = mapped_column(String)  # the nightly that evaluated it; NULL: an experiment


class NightlyReport(Base):
    """What one nightly evaluation found: the markdown of its Prefect artifact, and counts."""

    __tablename__ = "nightly_reports"

    night: Mapped[str] = mapped_column(String, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    evaluated: Mapped[int] = mapped_column(Integer)
    regressions: Mapped[int] = mapped_column(Integer)
    evaluation_changed: Mapped[bool] = mapped_column(Boolean)
    markdown: Mapped[str] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String)


class NightChange(Base):
    """One comparison a nightly made (``hybridcore.analysis.nightly.CHANGE_COLUMNS``): a new
    model against the previous or the first of its series, on one figure and language group,
    and whether it was a regression. Kept as the night decided it (its correction ran over
    that night's tests), so the dashboard marks what the artifact said."""

    __tablename__ = "night_changes"

    night: Mapped[str] = mapped_column(String, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    against: Mapped[str] = mapped_column(String, primary_key=True)  # previous, first
    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    setting: Mapped[str] = mapped_column(String, primary_key=True)
    metric: Mapped[str] = mapped_column(String, primary_key=True)
    languages: Mapped[str] = mapped_column(String, primary_key=True)  # a coverage label, or all languages
    series: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    against_run_id: Mapped[int] = mapped_column(Integer)
    figure: Mapped[str] = mapped_column(String)
    n: Mapped[int] = mapped_column(Integer)
    before: Mapped[float | None] = mapped_column(Double)
    after: Mapped[float | None] = mapped_column(Double)
    delta: Mapped[float | None] = mapped_column(Double)
    gain: Mapped[float | None] = mapped_column(Double)
    p: Mapped[float | None] = mapped_column(Double)
    p_regression: Mapped[float | None] = mapped_column(Double)
    p_regression_holm: Mapped[float | None] = mapped_column(Double)
    regression: Mapped[bool] = mapped_column(Boolean)
