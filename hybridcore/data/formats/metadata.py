"""What a dataset format is, declared once as data and checked when it is declared.

A format's module declares a ``FormatMetadata`` beside its loader: the settings its groups
belong to (with their labels and metrics), its headline figures, the per-language figures
that tables of underrepresented languages show, per-question gaps between two settings, and
what the paper (arXiv 2408.10536) reported for it. The analysis, the report, the dashboard
and the printed summary read these facts and never name a format (mteb's ``TaskMetadata`` is
the model: facts declared once, validated). Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridcore.eval.catalogue import is_metric, lower_is_better, metric_label

POOLED = "all"  # the candidate language of a group whose pool holds every language


@dataclass(frozen=True)
class Setting:
    """One kind of evaluation group: how queries meet a pool, and what is measured there."""

    name: str  # the store's key, e.g. ``mono``
    label: str  # how tables name it, e.g. ``Mo``
    metrics: tuple[str, ...]
    description: str
    pooled: bool = False  # the pool holds every language: the group's candidate language is ``POOLED``
    ranks_of: str | None = None  # a rank matrix: this pooled setting's ranking read per candidate language


@dataclass(frozen=True)
class Figure:
    """A (setting, metric) pair, such as a headline figure."""

    setting: str
    metric: str

    @property
    def lower_is_better(self) -> bool:
        return lower_is_better(self.metric)


@dataclass(frozen=True)
class Gap:
    """A per-question difference between two settings that hold the same queries:
    ``minuend - subtrahend`` (AfriQA: translated minus as asked, what the question's language costs)."""

    name: str
    minuend: str
    subtrahend: str
    description: str


@dataclass(frozen=True)
class Paper:
    """What arXiv 2408.10536 claims about the format's figures: hybrid batches at least as
    good as mono and cross batches on each of ``claims`` (lower, where lower is better), and
    the datasets its Tables 1-2 report; on any other dataset of the format the claims are
    carried over, not reproduced."""

    claims: tuple[Figure, ...]
    reported_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormatMetadata:
    """Everything the rest of the product needs to know about a format's figures."""

    name: str
    description: str
    settings: tuple[Setting, ...]
    headlines: tuple[Figure, ...]
    language_figures: tuple[Figure, ...] = ()  # per-language tables (underrepresented languages)
    gaps: tuple[Gap, ...] = ()
    paper: Paper | None = None
    trec_depth: int = 100  # candidates per query in TREC run files

    def __post_init__(self) -> None:
        where = f"format {self.name!r}"
        names = [s.name for s in self.settings]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{where}: settings {names} must be given, each once")
        for setting in self.settings:
            bad = [m for m in setting.metrics if not is_metric(m)]
            if not setting.metrics or bad:
                raise ValueError(f"{where}, setting {setting.name!r}: unknown or missing metrics {bad or '(none)'}")
        figures = [*self.headlines, *self.language_figures, *(self.paper.claims if self.paper else ())]
        for figure in figures:
            if figure.setting not in names or figure.metric not in self.setting(figure.setting).metrics:
                raise ValueError(f"{where}: figure {figure.setting} {figure.metric} is not among its settings' metrics")
        if not self.headlines:
            raise ValueError(f"{where}: no headline figure")
        for setting in self.settings:
            if ("rank" in setting.metrics) != bool(setting.ranks_of):
                raise ValueError(f"{where}: setting {setting.name!r}: the metric 'rank' is a rank matrix's (ranks_of)")
            if setting.ranks_of and not (setting.ranks_of in names and self.setting(setting.ranks_of).pooled):
                raise ValueError(
                    f"{where}: setting {setting.name!r} reads ranks of {setting.ranks_of!r}, not a pooled one"
                )
        for gap in self.gaps:
            if {gap.minuend, gap.subtrahend} - set(names):
                raise ValueError(f"{where}: gap {gap.name!r} names a setting it does not have")

    def setting(self, name: str) -> Setting:
        for setting in self.settings:
            if setting.name == name:
                return setting
        raise KeyError(f"format {self.name!r} has no setting {name!r}")

    @property
    def setting_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings)

    def metrics_of(self) -> dict[str, tuple[str, ...]]:
        """Setting name -> the metrics computed for its groups."""
        return {s.name: s.metrics for s in self.settings}

    def rank_matrices(self) -> dict[str, str]:
        """Pooled setting -> the setting of its query x candidate language rank matrix."""
        return {s.ranks_of: s.name for s in self.settings if s.ranks_of}

    def label(self, figure: Figure) -> str:
        """``Mo mAP``, ``X→pivot nDCG@10``: how tables and charts name a figure."""
        return f"{self.setting(figure.setting).label} {metric_label(figure.metric)}"
