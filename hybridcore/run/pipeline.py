"""The method's steps as functions over files: prepare data, guard, train, evaluate.

Every step's output is a folder or file named by a content hash of its inputs (model, data,
parameters), so a re-run with the same inputs reuses it and two runs never clash. Nothing is
reused unchecked: a folder against the checksums sealed into it, prepared data against its
content fingerprint; a damaged one is logged, removed and made again. Steps take
and return small typed records, which is what lets an orchestrator pass them between
processes and machines without pickling anything. The command line and the flows both call
these steps: there is one way to train and one way to evaluate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from hybridcore.config.paths import embeddings_dir, home_dir
from hybridcore.config.provenance import code_version, environment
from hybridcore.config.spec import Arm, EncoderSettings, RunSpec, TrainConfig
from hybridcore.data.dataset import LoadOptions
from hybridcore.data.formats.registry import dataset_identity, format_name, load_dataset
from hybridcore.data.leakage import check_zero_shot
from hybridcore.data.pairs import TrainingExample, load_jsonl, load_training_examples, write_jsonl
from hybridcore.errors import DataError
from hybridcore.eval.results import read_summary, save_evaluation
from hybridcore.files import content_hash, discard, file_hash, folder_problem, recorded_checksums
from hybridcore.model.cache import EmbeddingCache
from hybridcore.model.encoder import Encoder
from hybridcore.model.exposure import exposure_record
from hybridcore.model.pretraining import pretraining_languages
from hybridcore.model.resolve import hub_model_revision, resolve_model
from hybridcore.model.st_export import recorded_settings
from hybridcore.train.trainer import export_steps, exports_dir, train


def model_identity(model: str) -> str:
    """Content of the model's weights (a hub name's: those of the commit it resolves to). A
    folder this project wrote (sealed) is verified first, and its weights' recorded hashes
    serve, so checking costs no second read; a damaged one is an error naming its file."""
    path = Path(resolve_model(model))
    weights = sorted(path.glob("*.safetensors")) if path.is_dir() else []
    if not weights:
        return str(model)
    seal = recorded_checksums(path)
    if seal is None:
        return content_hash([file_hash(w) for w in weights])
    if (problem := folder_problem(path)) is not None:
        raise DataError(path, "model folder", f"{problem}; `hybrid-eval store verify --repair` removes it")
    return content_hash([seal[w.name]["sha256"] for w in weights])


def encoder_settings_for(model: str, settings: EncoderSettings) -> EncoderSettings:
    """``settings`` with what they leave open taken from the model's own record."""
    return settings.resolved(recorded_settings(resolve_model(model)))


@dataclass(frozen=True)
class PreparedData:
    """Training examples written once, named by their content (``fingerprint``), and where
    they came from, so a damaged copy can be made again."""

    path: str
    fingerprint: str
    n_examples: int
    languages: list[str]
    source: str = ""
    candidate_context: bool = False


def examples_fingerprint(examples: list[TrainingExample]) -> str:
    return content_hash([asdict(e) for e in examples])


def examples_problem(path: Path, fingerprint: str) -> tuple[list[TrainingExample], str | None]:
    """The examples of a prepared file and None, or none and what is wrong with the file."""
    try:
        examples = load_jsonl(path)
    except DataError as err:
        return [], err.problem
    if examples_fingerprint(examples) != fingerprint:
        return [], "its content differs from the fingerprint it is named by (damaged)"
    return examples, None


def prepare_training_data(source: str, candidate_context: bool = False) -> PreparedData:
    """Training examples as a JSONL file named by their content."""
    examples = load_training_examples(source, candidate_context)
    fingerprint = examples_fingerprint(examples)
    path = home_dir() / "data" / f"{fingerprint}.jsonl"
    if path.is_file() and (problem := examples_problem(path, fingerprint)[1]) is not None:
        discard(path, problem)
    if not path.is_file():
        write_jsonl(examples, path)
    languages = sorted({e.lang for e in examples})
    return PreparedData(str(path), fingerprint, len(examples), languages, source, candidate_context)


def load_prepared(data: PreparedData) -> list[TrainingExample]:
    """The examples of ``data``, checked against their fingerprint; a damaged or missing
    file is prepared again from its source (an error if that gives other examples)."""
    examples, problem = examples_problem(Path(data.path), data.fingerprint)
    if problem is None:
        return examples
    if not data.source:
        raise DataError(data.path, "prepared training data", problem)
    discard(data.path, problem)
    again = prepare_training_data(data.source, data.candidate_context)
    if again.fingerprint != data.fingerprint:
        raise DataError(data.source, "training data", "changed since this experiment prepared it")
    return examples_problem(Path(again.path), again.fingerprint)[0]


def zero_shot_guard(data: PreparedData, eval_sets: Sequence[str], allow_overlap: bool = False) -> list[dict]:
    """Overlap counts against every evaluation set, whatever its format; raises LeakageError
    on any overlap unless allowed."""
    reports = check_zero_shot(load_prepared(data), [load_dataset(name) for name in eval_sets], allow_overlap)
    return [r.as_dict() for r in reports]


@dataclass(frozen=True)
class TrainedModel:
    """A trained model's folder, and what training it cost (``slot_wait_seconds``: the
    orchestrator's wait for a compute slot, set by the task that ran it)."""

    path: str
    key: str
    reused: bool
    seconds: float
    examples_per_second: float
    slot_wait_seconds: float = 0.0
    selection: dict | None = None  # ``selection_of``: which step was kept, and the batch mix trained
    checkpoints: tuple[tuple[int, str], ...] = ()  # (step, model folder) of each ``export_at`` export


SELECTION_FIELDS = ("steps_done", "best_step", "stopped_early", "best_validation_loss", "mono_share")


def selection_of(record: dict) -> dict:
    """What a run stores of its training (``training.json``): the steps trained, the step
    whose weights were kept, whether it stopped early, and the realised share of mono batches."""
    return {name: record.get(name) for name in SELECTION_FIELDS}


def train_model(
    spec: RunSpec, arm: Arm, data: PreparedData, record: dict | None = None, progress: bool = False
) -> TrainedModel:
    """Fine-tune ``spec.model`` with one arm (strategy, seed, alpha) into
    ``models/trained/<hash of base model, data, training config, encoder settings>``; reuse it
    if done; resume from its checkpoint if a killed run left one."""
    config = spec.train_config(arm)
    encoder = encoder_settings_for(spec.model, spec.encoder)
    settings = asdict(config)
    if not config.export_at:  # keyed as before exports existed: models trained then are reused
        del settings["export_at"]
    key = content_hash(model_identity(spec.model), data.fingerprint, settings, encoder.as_dict())
    out = home_dir() / "models" / "trained" / key
    if out.exists() and (problem := folder_problem(out)) is not None:
        discard(out, problem)
    done = training_record(str(out))
    if done is not None and (checkpoints := exported_checkpoints(out, config)) is not None:
        return TrainedModel(
            str(out), key, True, 0.0, done["examples_per_second"], selection=selection_of(done), checkpoints=checkpoints
        )
    started = time.perf_counter()
    record = {"spec": spec.to_dict(), "train_languages": data.languages, **(record or {})}
    result = train(
        spec.model,
        load_prepared(data),
        config,
        out,
        encoder,
        progress=progress,
        trust_remote_code=spec.trust_remote_code,
        record=record,
    )
    selection = selection_of(training_record(str(out)) or {})
    checkpoints = exported_checkpoints(out, config) or ()
    seconds = time.perf_counter() - started
    return TrainedModel(str(out), key, False, seconds, result.examples_per_second, 0.0, selection, checkpoints)


def exported_checkpoints(out: Path, config: TrainConfig) -> tuple[tuple[int, str], ...] | None:
    """The ``export_at`` exports of the model trained into ``out``, as (step, folder); None
    when one is missing or damaged (removed, so the training runs again and writes it). A
    run that stopped early has no exports after its last step."""
    record = training_record(str(out)) or {}
    last = record.get("steps_done", config.steps)
    found = []
    for step in export_steps(config):
        if step > last:
            continue
        export = exports_dir(out) / f"checkpoint-{step}"
        problem = folder_problem(export) if export.exists() else "missing"
        if problem is not None:
            if export.exists():
                discard(export, problem)
            return None
        found.append((step, str(export)))
    return tuple(found)


@dataclass(frozen=True)
class EvaluationFiles:
    """A result folder (``summary.json`` and ``per_query.parquet``) and what it cost."""

    path: str
    dataset: str
    key: str
    seconds: float
    tokens_encoded: int
    slot_wait_seconds: float = 0.0


def evaluate_model(
    model: str,
    dataset: str,
    settings: EncoderSettings | None = None,
    candidate_context: bool = True,
    options: LoadOptions | None = None,
    trec_dir: str | None = None,
    use_cache: bool = True,
    trust_remote_code: bool = False,
    progress: bool = False,
    spec: RunSpec | None = None,
    code_bound: bool = False,
) -> EvaluationFiles:
    """Encode (through the embedding cache) and evaluate one dataset; the result folder is
    ``evaluations/<hash of model, data, settings>``, reused when it exists unless
    ``use_cache`` is off (which also bypasses the embedding cache). With ``trec_dir`` the TREC
    run and qrels files are written too. ``spec``, the run specification that asked for it,
    is written into ``summary.json`` (not part of the key: a folder reused by a later run
    keeps the spec that computed it). ``code_bound`` (the nightly's reference): the key
    includes the code version and nothing is taken from the embedding cache, so a change of
    code is a new evaluation, computed by that code, beside the old one."""
    settings = encoder_settings_for(model, settings or EncoderSettings())
    options = options or LoadOptions()
    parts = [model_identity(model), dataset_identity(dataset, options), settings.as_dict(), candidate_context]
    key = content_hash(*parts, *([code_version()] if code_bound else []))
    out = home_dir() / "evaluations" / key
    if use_cache and trec_dir is None and out.exists():
        if (problem := folder_problem(out)) is None:
            return EvaluationFiles(str(out), read_summary(out)["dataset"], key, 0.0, 0)
        discard(out, problem)
    timings: dict[str, float] = {}
    clock = started = time.perf_counter()
    data = load_dataset(dataset, options)
    timings["load"], clock = time.perf_counter() - clock, time.perf_counter()
    encoder = Encoder(
        model,
        settings,
        trust_remote_code=trust_remote_code,
        cache=EmbeddingCache(embeddings_dir()) if use_cache and not code_bound else None,
    )
    timings["load_model"], clock = time.perf_counter() - clock, time.perf_counter()
    queries, candidates = data.encode(encoder, candidate_context, progress)
    timings["encode"], clock = time.perf_counter() - clock, time.perf_counter()
    evaluation = data.evaluate(queries, candidates)
    timings["evaluate"] = time.perf_counter() - clock
    if trec_dir is not None:
        data.write_trec(queries, candidates, Path(trec_dir), f"{Path(model).name}-{data.name}")
    seconds = time.perf_counter() - started
    trained = training_record(encoder.path) or {}
    record = {
        "model": model,
        "model_path": encoder.path,
        "model_revision": hub_model_revision(model),
        "format": format_name(dataset),
        "reference": str(dataset),
        "fine_tuning_languages": trained.get("train_languages", []),
        "pretraining_languages": pretraining_languages(model),
        "exposure": exposure_record(model),
        "candidate_context": candidate_context,
        "encoder": settings.as_dict(),
        "dtype": str(encoder.dtype),
        "device": str(encoder.device),
        "code_version": code_version(),
        "environment": environment(),
        "created": datetime.now(UTC).isoformat(),
        "seconds": seconds,
        "timings_s": timings,
        "tokens_encoded": encoder.stats.tokens,
        "tokens_per_second": encoder.stats.tokens_per_second,
        "spec": spec.to_dict() if spec is not None else None,
    }
    save_evaluation(evaluation, out, record)
    return EvaluationFiles(str(out), evaluation.dataset, key, seconds, encoder.stats.tokens)


def training_record(model_path: str) -> dict | None:
    """``training.json`` of a model this project trained (its spec, config and languages)."""
    path = Path(model_path) / "training.json"
    return json.loads(path.read_text()) if path.is_file() else None
