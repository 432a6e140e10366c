"""The experiment report: one self-contained HTML page and its Markdown twin, from the
store's frames alone.

Sections: the question; the set-up (model, data, budget, seeds, alphas, the zero-shot
guard's counts, code version, machine, wall times); per dataset, each arm's figures over its
seeds with 95% intervals per language group, hybrid minus mono and minus cross tested with
the question and the seed as the unit (``hybridcore.analysis.seeds``), a chart, and how the
directions compare with the paper's Tables 1-2 (and whether the paper reported that
dataset). Charts are Altair specs rendered to PNG by vl-convert, embedded in the page as
data URIs (and written beside the Markdown), so the file opens anywhere without a server.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from hybridcore.analysis.coverage import ALL_LANGUAGES, COVERAGE_ORDER, exposure_notes, run_languages
from hybridcore.analysis.experiment import (
    arm_differences,
    arm_figures,
    arm_standard_errors,
    headline_metrics,
    learning_curves,
    paper_agreement,
    paper_scope,
    with_intervals,
)
from hybridcore.analysis.figures import arm_labels, format_of, metric_label, pool_statement, strategy_rank
from hybridcore.analysis.hypotheses import exploratory, mark_primary, primary_tests
from hybridcore.analysis.underrepresented import with_gaps
from hybridcore.config.spec import Hypothesis
from hybridcore.eval import catalogue
from hybridcore.eval.pools import benchmark_name
from hybridcore.files import atomic_file, write_text_atomic

QUESTION = (
    "What does optimising monolingual and cross-lingual retrieval at the same time (the hybrid batches "
    "of arXiv 2408.10536) do to zero-shot retrieval, per language group, and above all for the "
    "languages the model barely knows?"
)
GROUP_ORDER = (ALL_LANGUAGES, *COVERAGE_ORDER)


@dataclass
class DatasetSection:
    name: str
    figures: pd.DataFrame  # arm_figures rows of this dataset
    differences: pd.DataFrame  # arm_differences over its headline metrics
    agreement: pd.DataFrame  # paper_agreement
    paper_note: str  # paper_scope: whether the paper reported this dataset
    chart: dict = field(default_factory=dict)  # a Vega-Lite spec
    value_formats: dict[str, str] = field(default_factory=dict)  # column -> format of its values
    pool: str = ""  # pool_statement: groups, queries, pool sizes, and a sampled pool's caveat
    exposure: list[str] = field(default_factory=list)  # coverage.exposure_notes: sets the model may have seen
    rank_matrices: dict[str, pd.DataFrame] = field(default_factory=dict)  # arm -> mean-rank matrix (mul_rank)


@dataclass
class Report:
    experiment: str
    setup: list[tuple[str, str]]
    sections: list[DatasetSection]
    primary: pd.DataFrame = field(default_factory=pd.DataFrame)  # hypotheses.primary_tests
    hypotheses: list[Hypothesis] = field(default_factory=list)  # as the spec declared them
    exploratory_tests: int = 0  # the size of the Benjamini-Hochberg family
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)  # experiment.learning_curves of the exports


ScoresOf = Callable[[str, str], pd.DataFrame]  # (dataset, metric) -> per-query scores with run_id


def build_report(
    experiment: str,
    runs: pd.DataFrame,
    figures: pd.DataFrame,
    scores_of: ScoresOf,
    curve: tuple[pd.DataFrame, dict[int, int], pd.DataFrame] | None = None,
) -> Report:
    """Everything the report shows, computed from the store's frames. ``curve``: the runs of
    the arms' exported checkpoints, their steps (run id -> step) and their figures."""
    fine_tuning, exposure = run_languages(runs)
    treatment, baselines = "hybrid", ("mono", "cross", "reference")
    arms = arm_figures(runs, figures, fine_tuning, exposure)
    if arms["arm"].str.startswith("hybrid α=").any():  # an alpha sweep: test the main alpha's arm
        alphas = runs.loc[runs["strategy"] == "hybrid", "alpha"]
        declared = ((runs["config"].iloc[0] or {}).get("train") or {}).get("alpha")
        main = declared if declared in set(alphas) else alphas.value_counts().idxmax()  # the spec's main alpha
        treatment = f"hybrid α={main:g}"
    hypotheses = declared_hypotheses(runs)

    def arm_label(arm: str) -> str:
        return treatment if arm == "hybrid" else arm

    tested = []
    for dataset in figures["dataset"].unique():
        mine = figures[figures["dataset"] == dataset]
        metadata = format_of(mine)
        base = benchmark_name(str(dataset))
        wanted = [m for _, m in headline_metrics(figures, dataset)] + [
            h.metric for h in hypotheses if h.dataset == base
        ]
        headline_settings = {m: [s for s, hm in headline_metrics(figures, dataset) if hm == m] for m in wanted}
        for metric in dict.fromkeys(wanted):
            scores = with_gaps(scores_of(dataset, metric), metadata, metric)
            found = arm_differences(runs, scores, treatment, baselines, fine_tuning, exposure)
            tested.append(found.assign(dataset=dataset, metric=metric))
            if headline_settings[metric]:  # the figure table's intervals, from the tests' own decomposition
                label = {s: metric_label(s, metric) for s in headline_settings[metric]}
                arms = with_intervals(arms, arm_standard_errors(runs, scores, fine_tuning, exposure), dataset, label)
    every = pd.concat(tested, ignore_index=True) if tested else pd.DataFrame(columns=["dataset", "metric", "p"])
    every["primary"] = mark_primary(every, hypotheses, arm_label) if not every.empty else False
    every = exploratory(every)
    primary = primary_tests(every, hypotheses, arm_label) if hypotheses else pd.DataFrame()

    sections = []
    for dataset in figures["dataset"].unique():
        headlines = headline_metrics(figures, dataset)
        metadata = format_of(figures[figures["dataset"] == dataset])
        paper = metadata.paper if metadata else None
        gaps = {gap.name for gap in metadata.gaps} if metadata else set()
        differences = every[every["dataset"] == dataset]
        shown = [(s, m) in set(headlines) or s in gaps for s, m in zip(differences["setting"], differences["metric"])]
        table = _ordered(differences[shown], headlines, [f"{treatment} - {b}" for b in baselines])
        base = benchmark_name(str(dataset))
        mine_primary = primary[primary["dataset"] == base] if not primary.empty else primary
        agreement = paper_agreement(differences, paper, treatment, mine_primary)
        mine = arms[arms["dataset"] == dataset]
        formats = {metric_label(s, m): catalogue.value_format(m) for s, m in headlines}
        sections.append(
            DatasetSection(
                dataset,
                mine,
                table,
                agreement,
                paper_scope(dataset, agreement, paper),
                _chart(mine, dataset),
                formats,
                pool_statement(figures[figures["dataset"] == dataset]),
                exposure_notes(str(dataset), exposure),
                _rank_matrices(runs, figures[figures["dataset"] == dataset], ("reference", treatment)),
            )
        )
    family = int((~every["primary"]).sum()) if not every.empty else 0
    curves = learning_curves(curve[0], curve[1], curve[2], fine_tuning, exposure) if curve else pd.DataFrame()
    return Report(experiment, _setup(runs, treatment), sections, primary, hypotheses, family, curves)


def declared_hypotheses(runs: pd.DataFrame) -> list[Hypothesis]:
    """The primary hypotheses the experiment's spec declared (none for a spec written before
    specs declared them: nothing is declared after the fact)."""
    config = runs["config"].iloc[0] if len(runs) else {}
    return [Hypothesis(**h) for h in (config or {}).get("hypotheses", [])]


def _ordered(table: pd.DataFrame, headlines: list[tuple[str, str]], comparisons: list[str]) -> pd.DataFrame:
    """A dataset's differences in the report's order: comparison, figure, language group."""
    if table.empty:
        return table
    table = table.copy()
    table.insert(1, "figure", [metric_label(s, m) for s, m in zip(table["setting"], table["metric"])])
    figure_rank = {metric_label(s, m): i for i, (s, m) in enumerate(headlines)}
    order = pd.DataFrame(
        {
            "c": table["comparison"].map(lambda c: comparisons.index(c) if c in comparisons else len(comparisons)),
            "f": table["figure"].map(lambda f: figure_rank.get(f, len(figure_rank))),
            "g": table["languages"].map(_group_rank),
        }
    )
    table = table.loc[order.sort_values(["c", "f", "g"], kind="stable").index]
    return table.drop(columns=["setting", "metric", "dataset"]).reset_index(drop=True)


def _rank_matrices(runs: pd.DataFrame, figures: pd.DataFrame, arms: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per arm (the mean over its seeds): the mean rank of a query's answer in each candidate
    language, in the pool of every language (a format's rank-matrix setting, ``mul_rank``)."""
    part = figures[figures["setting"] == "mul_rank"]
    if part.empty:
        return {}
    part = part.assign(arm=part["run_id"].map(dict(zip(runs["id"], arm_labels(runs)))))
    out = {}
    for arm in arms:
        cells = part[part["arm"] == arm]
        if not cells.empty:
            matrix = cells.pivot_table(index="query_lang", columns="candidate_lang", values="value", aggfunc="mean")
            out[arm] = matrix.round(0).astype("Int64").rename_axis(index="query / answer", columns=None).reset_index()
    return out


def _group_rank(group: str) -> int:
    return GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)


def _selection_line(runs: pd.DataFrame) -> str:
    """Per trained run: the step kept (lowest loss on the validation batches every arm
    shares) of the steps trained, and, for hybrid, the realised share of mono batches."""
    if "training" not in runs.columns or runs["training"].isna().all():
        return "not recorded"
    parts = []
    for name, record in zip(runs["name"], runs["training"]):
        if not record:
            continue
        record = record if isinstance(record, dict) else json.loads(record)
        text = f"{name.rpartition('/')[2]}: step {record.get('best_step')} of {record.get('steps_done')}"
        if record.get("stopped_early"):
            text += " (stopped early)"
        if name.rpartition("/")[2].startswith("hybrid") and record.get("mono_share") is not None:
            text += f", mono share {record['mono_share']:.3f}"
        parts.append(text)
    return "; ".join(parts) or "not recorded"


def _card_line(runs: pd.DataFrame) -> str:
    cards = runs["exposure"].dropna() if "exposure" in runs.columns else pd.Series([], dtype=object)
    if cards.empty:
        return "the model has no exposure card: languages not seen in fine-tuning are unknown"
    card = cards.iloc[0] if isinstance(cards.iloc[0], dict) else json.loads(cards.iloc[0])
    return (
        f"from the exposure card of {card['card']} ({card['file']}, sha256 {card['sha256'][:12]}): seen in "
        f"fine-tuning, supervised retrieval data ({len(card['supervised'])} languages), documented pretraining "
        f"({len(card['pretraining'])}), no documented exposure (not 'never seen': "
        f"{len(card['undocumented'])} corpora publish no language list)"
    )


def _setup(runs: pd.DataFrame, treatment: str) -> list[tuple[str, str]]:
    config = runs["config"].iloc[0] or {}
    train = config.get("train", {})
    seeds = sorted(runs["seed"].dropna().astype(int).unique())
    alphas = sorted(runs["alpha"].dropna().unique())
    guard = "; ".join(
        f"{g['eval_set']}: {g['query_overlap']} query and {g['passage_overlap']} passage overlaps"
        for g in (runs["leakage"].dropna().iloc[0] if runs["leakage"].notna().any() else [])
    )
    machines = {json.dumps(m, sort_keys=True) for m in runs.get("machine", pd.Series(dtype=object)).dropna()}
    machine = (
        "; ".join(", ".join(f"{k} {v}" for k, v in json.loads(m).items()) for m in sorted(machines)) or "not recorded"
    )
    started, ended = pd.to_datetime(runs["started_at"]).min(), pd.to_datetime(runs["ended_at"]).max()
    wall = (ended - started).total_seconds() if pd.notna(started) and pd.notna(ended) else np.nan
    train_s = sum((t or {}).get("train", 0.0) for t in runs["timings"])
    eval_s = sum(v for t in runs["timings"] for k, v in (t or {}).items() if k.startswith("evaluate:"))
    return [
        ("question", QUESTION),
        ("model", str(config.get("model"))),
        (
            "training data",
            f"{config.get('train_set') or '-'}, fine-tuning languages: "
            f"{next(iter(runs['seen_languages'].dropna()), '') or '-'}",
        ),
        ("evaluation sets", ", ".join(config.get("eval_sets", []))),
        ("coverage labels", _card_line(runs)),
        ("model selection", _selection_line(runs)),
        (
            "budget",
            f"{train.get('steps')} steps of {train.get('batch_size')} pairs, "
            f"learning rate {train.get('learning_rate')}, "
            f"temperature {train.get('temperature')}, profile {config.get('profile')}"
            if (runs["strategy"] != "reference").any()
            else f"none: the model as it is, no training (profile {config.get('profile')})",
        ),
        ("runs", f"{len(runs)}: the untrained reference once and every arm at its seeds; compared arm: {treatment}"),
        ("seeds", ", ".join(map(str, seeds)) or "-"),
        ("alphas (hybrid)", ", ".join(f"{a:g}" for a in alphas) or "-"),
        ("zero-shot guard", guard or "-"),
        ("code version", ", ".join(sorted(runs["code_version"].dropna().unique()))),
        ("machine", machine),
        (
            "wall time",
            f"{wall / 60:.1f} min from the first run's start to the last run's end; training {train_s / 60:.1f} min, "
            f"evaluation {eval_s / 60:.1f} min in all",
        ),
        (
            "test",
            "differences: seed_aware_test (the question and the training seed as the unit; Welch-Satterthwaite t), "
            "a question's translations averaged; the primary hypotheses one-sided (TOST for equivalence), Holm "
            "over their family; every other test two-sided, Benjamini-Hochberg over the whole table; 95% intervals "
            "uncorrected; a comparison with one seed per trained arm is run-level and tests no hypothesis",
        ),
    ]


def _chart(figures: pd.DataFrame, dataset: str) -> dict:
    """Every headline column side by side: each arm's mean per language group with its 95%
    interval, on a scale that starts near the data (differences of 0.01 must be visible)."""
    if figures.empty:
        return {}
    data = figures.copy()
    data["low"] = data["low"].fillna(data["mean"])
    data["high"] = data["high"].fillna(data["mean"])
    arms = sorted(data["arm"].unique(), key=lambda a: (strategy_rank(a.split(" ")[0]), a))
    groups = [g for g in GROUP_ORDER if g in set(data["languages"])]
    base = alt.Chart().encode(
        x=alt.X("languages:N", sort=groups, title=None, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("arm:N", sort=arms),
        color=alt.Color("arm:N", sort=arms),
    )
    points = base.mark_point(filled=True, size=40).encode(
        y=alt.Y("mean:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=["arm", "languages", alt.Tooltip("mean:Q", format=".3f")],
    )
    whiskers = base.mark_rule().encode(y="low:Q", y2="high:Q")
    columns = list(dict.fromkeys(data["column"]))
    return (
        alt.layer(points, whiskers, data=data)
        .properties(width=70 * len(groups), height=220)
        .facet(column=alt.Column("column:N", sort=columns, title=None))
        .resolve_scale(y="independent")
        .properties(title=f"{dataset}: each arm's mean over seeds with its 95% interval")
    ).to_dict()


def png(spec: dict) -> bytes:
    """A chart as PNG (vl-convert: no browser, no server)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=2)


# --- rendering ----------------------------------------------------------------------------


def figure_table(figures: pd.DataFrame, value_formats: dict[str, str]) -> pd.DataFrame:
    """Arms x (language group, column): mean and its 95% interval as text."""

    def cell(row) -> str:
        fmt = value_formats.get(row["column"], "{:.3f}").format
        text = fmt(row["mean"])
        if np.isfinite(row["low"]):
            text += f" [{fmt(row['low'])}, {fmt(row['high'])}]"
        if len(row["seed_values"]) > 1:
            text += " (" + " / ".join(fmt(v) for v in row["seed_values"]) + ")"
        return text

    if figures.empty:
        return pd.DataFrame()
    text = figures.assign(cell=figures.apply(cell, axis=1))
    table = text.pivot_table(index=["languages", "arm"], columns="column", values="cell", aggfunc="first", sort=False)
    order = sorted(table.index, key=lambda k: (_group_rank(k[0]), strategy_rank(k[1].split(" ")[0]), k[1]))
    columns = list(dict.fromkeys(figures["column"]))
    return table.reindex(index=order, columns=columns).reset_index().rename_axis(columns=None)


def _difference_table(differences: pd.DataFrame) -> pd.DataFrame:
    """Exploratory differences: two-sided p and its Benjamini-Hochberg q over the whole
    table; rows that test a primary hypothesis say so (their test is the primary table's)."""
    if differences.empty:
        return differences
    out = differences.copy()
    for name in ("difference", "low", "high"):
        out[name] = out[name].map(lambda v: f"{v:+.4f}")
    out["cohens_d"] = out["cohens_d"].map(lambda v: f"{v:+.2f}")
    out["p"] = out["p"].map(lambda v: f"{v:.3g}")
    out["q_bh"] = [("primary" if primary else f"{q:.3g}") for q, primary in zip(out["q_bh"], out["primary"])]
    out["significant"] = [
        "see primary" if primary else ("yes" if sig else "no")
        for sig, primary in zip(out["significant"], out["primary"])
    ]
    return out.drop(columns=["se", "df", "primary"])


def _primary_table(primary: pd.DataFrame) -> pd.DataFrame:
    if primary.empty:
        return primary
    out = primary.drop(columns=["comparison", "setting", "metric"]).copy()
    for name in ("difference", "low", "high"):
        out[name] = out[name].map(lambda v: "" if pd.isna(v) else f"{v:+.4f}")
    for name in ("p", "p_holm"):
        out[name] = out[name].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
    out["margin"] = out["margin"].map(lambda v: f"{v:g}")
    return out


# The report is a list of blocks, built once; each format renders the same list.


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame


@dataclass(frozen=True)
class Chart:
    name: str  # the dataset whose chart it is


Block = Heading | Paragraph | Table | Chart


def blocks(report: Report) -> list[Block]:
    """The report's content in order: title, set-up, then per dataset its figures, chart,
    differences and the paper's claims."""
    out: list[Block] = [
        Heading(1, f"hybrid-eval report: {report.experiment}"),
        Heading(2, "Set-up"),
        Table(pd.DataFrame(report.setup, columns=["", "value"])),
    ]
    out += [Heading(2, "Primary hypotheses")]
    if report.primary.empty:
        out.append(Paragraph("The spec declared no primary hypothesis: every test below is exploratory."))
    else:
        tested = int(report.primary["p"].notna().sum())
        out += [
            Paragraph(
                f"Declared in the spec before the run: {len(report.primary)} hypotheses, one family; Holm's correction "
                f"runs over the {tested} tested. One-sided tests of the seed-aware difference (questions and training "
                "seeds both as sources of chance): superiority against no gain, non-inferiority against a loss of the "
                "margin, equivalence by two one-sided tests (TOST). A comparison with one seed per trained arm is "
                "run-level (two runs, not two strategies) and tests no hypothesis."
            ),
            Table(_primary_table(report.primary)),
        ]
    out.append(
        Paragraph(
            f"Everything else is exploratory: {report.exploratory_tests} two-sided tests, Benjamini-Hochberg over the "
            "whole table (q < 0.05: significant); a level of run-level says the comparison is between single runs."
        )
    )
    for section in report.sections:
        out += [
            Heading(2, section.name),
            Paragraph(section.pool),
            *(Paragraph(line) for line in section.exposure),
            Heading(
                3,
                "Figures per language group: mean over seeds [95% interval, questions and seeds as chance] (each seed)",
            ),
            Table(figure_table(section.figures, section.value_formats)),
        ]
        if section.chart:
            out.append(Chart(section.name))
        for arm, matrix in section.rank_matrices.items():
            out += [
                Heading(3, f"Mean rank of the answer in each language, {arm} (rows: the query's language)"),
                Table(matrix),
            ]
        out += [
            Heading(3, "Differences (exploratory)"),
            Table(_difference_table(section.differences)),
            Heading(3, "Against the paper (Tables 1-2)"),
            Paragraph(section.paper_note),
        ]
        if not section.agreement.empty:
            out.append(Table(section.agreement))
    if not report.curves.empty:
        out += [
            Heading(2, "Learning curves"),
            Paragraph(
                "Each arm's weights as they were at the exported steps (train.export_at), evaluated like the kept "
                "models: mean over seeds per language group (each seed in brackets). A point is the weights after "
                "that many steps, not the model early stopping kept; with one seed the curve is run-level."
            ),
        ]
        for dataset, part in report.curves.groupby("dataset", sort=False):
            out += [Heading(3, f"{dataset}: figures along training"), Table(curve_table(part))]
    return out


def curve_table(curves: pd.DataFrame) -> pd.DataFrame:
    """One row per language group, figure and arm; one column per step."""
    cell = curves.assign(
        cell=[
            f"{m:.4f}" + (f" ({', '.join(f'{v:.4f}' for v in values)})" if len(values) > 1 else "")
            for m, values in zip(curves["mean"], curves["seed_values"])
        ]
    )
    order = {label: i for i, label in enumerate((ALL_LANGUAGES, *COVERAGE_ORDER))}
    table = cell.pivot_table(
        index=["languages", "column", "arm"], columns="step", values="cell", aggfunc="first", sort=False
    )
    table.columns = [f"step {c}" for c in table.columns]
    table = table.reset_index().rename(columns={"languages": "language group", "column": "figure"})
    return table.sort_values(
        ["language group", "figure", "arm"],
        key=lambda c: c.map(order) if c.name == "language group" else c.map(strategy_rank) if c.name == "arm" else c,
        kind="stable",
    )


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)\n"
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def to_markdown(report: Report, chart_files: dict[str, str]) -> str:
    """The report as Markdown; ``chart_files`` names each dataset's PNG beside it."""

    def render(block: Block) -> str | None:
        match block:
            case Heading(level, text):
                return f"{'#' * level} {text}\n"
            case Paragraph(text):
                return text + "\n"
            case Table(frame):
                return _markdown_table(frame)
            case Chart(name):
                return f"![{name}]({chart_files[name]})\n" if name in chart_files else None

    return "\n".join(text for text in map(render, blocks(report)) if text is not None)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
    "td,th{border-bottom:1px solid #ddd;padding:0.25em 0.6em;text-align:left}img{max-width:100%}"
)


def charts_of(report: Report) -> dict[str, bytes]:
    """Each dataset's chart as PNG."""
    return {s.name: png(s.chart) for s in report.sections if s.chart}


def to_html(report: Report, charts: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained page (``charts``: each dataset's PNG, drawn if not given)."""
    charts = charts_of(report) if charts is None else charts

    def render(block: Block) -> str:
        match block:
            case Heading(level, text):
                return f"<h{level}>{html.escape(text)}</h{level}>"
            case Paragraph(text):
                return f"<p>{html.escape(text)}</p>"
            case Table(frame):
                return "<p>(none)</p>" if frame.empty else frame.to_html(index=False, escape=True, border=0, na_rep="")
            case Chart(name):
                if name not in charts:
                    return ""
                data = base64.b64encode(charts[name]).decode()
                return f'<img alt="{html.escape(name)} chart" src="data:image/png;base64,{data}">'

    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>hybrid-eval report: "
        f"{html.escape(report.experiment)}</title><style>{STYLE}</style></head><body>"
        f"{''.join(map(render, blocks(report)))}</body></html>"
    )


def write_report(report: Report, folder: Path) -> tuple[Path, Path]:
    """``<experiment>.html`` and ``<experiment>.md`` (with its charts as PNG files) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = report.experiment.replace("/", "_")
    charts = charts_of(report)
    files = {}
    for name, data in charts.items():
        with atomic_file(folder / f"{stem}-{name}.png") as path:
            path.write_bytes(data)
        files[name] = f"{stem}-{name}.png"
    html_path = write_text_atomic(folder / f"{stem}.html", to_html(report, charts))
    md_path = write_text_atomic(folder / f"{stem}.md", to_markdown(report, files))
    return html_path, md_path
