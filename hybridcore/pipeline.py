"""The method's steps as functions over files: prepare data, train, evaluate.

Every step's output is a folder or file named by a content hash of its inputs (model, data,
parameters), so a re-run with the same inputs reuses it and two runs never clash. Steps take
and return small JSON-able records, which is what lets an orchestrator pass them between
processes and machines without pickling anything.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hybridcore.beir import BeirDataset, load_beir
from hybridcore.cache import EmbeddingCache
from hybridcore.encoder import Encoder, EncoderSettings
from hybridcore.encoding import encode_beir, encode_lareqa
from hybridcore.evaluation import Evaluation, evaluate_beir, evaluate_lareqa
from hybridcore.lareqa import RetrievalSet, load_lareqa, resolve_dataset_dir
from hybridcore.leakage import check_zero_shot
from hybridcore.models import resolve_model
from hybridcore.pairs import TrainingExample, load_jsonl, load_training_examples, write_jsonl
from hybridcore.paths import embeddings_dir, home_dir
from hybridcore.results import save_evaluation
from hybridcore.trainer import TrainConfig, train


def content_hash(*parts: object) -> str:
    """A short stable hash of JSON-able parts."""
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=12)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_identity(model: str) -> str:
    """Content of a local model's weights, or the hub name (whose revision the hub pins)."""
    path = Path(resolve_model(model))
    weights = sorted(path.glob("*.safetensors")) if path.is_dir() else []
    return content_hash([file_hash(w) for w in weights]) if weights else str(model)


def dataset_identity(name_or_path: str) -> str:
    folder = resolve_dataset_dir(name_or_path)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".tsv"))
    return content_hash([(str(p.relative_to(folder)), file_hash(p)) for p in files])


@dataclass(frozen=True)
class PreparedData:
    path: str
    fingerprint: str
    n_examples: int
    languages: list[str]


def examples_fingerprint(examples: list[TrainingExample]) -> str:
    return content_hash([asdict(e) for e in examples])


def prepare_training_data(source: str, with_context: bool = False) -> PreparedData:
    """Training examples as a JSONL file named by their content."""
    examples = load_training_examples(source, with_context)
    fingerprint = examples_fingerprint(examples)
    path = home_dir() / "data" / f"{fingerprint}.jsonl"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(examples, path)
    return PreparedData(str(path), fingerprint, len(examples), sorted({e.lang for e in examples}))


def zero_shot_guard(data: PreparedData, eval_sets: list[str], allow_overlap: bool = False) -> list[dict]:
    """Overlap counts against each LAReQA evaluation set; raises LeakageError on overlap."""
    reports = check_zero_shot(load_jsonl(data.path), [load_lareqa(name) for name in eval_sets], allow_overlap)
    return [r.as_dict() for r in reports]


@dataclass(frozen=True)
class TrainedModel:
    path: str
    key: str
    reused: bool
    seconds: float
    examples_per_second: float


def train_model(base_model: str, data: PreparedData, config: TrainConfig, record: dict | None = None) -> TrainedModel:
    """Fine-tune into ``models/trained/<hash of base model, data, config>``; reuse if done."""
    key = content_hash(model_identity(base_model), data.fingerprint, asdict(config))
    out = home_dir() / "models" / "trained" / key
    if (out / "training.json").is_file():
        done = json.loads((out / "training.json").read_text())
        return TrainedModel(str(out), key, True, 0.0, done["examples_per_second"])
    started = time.perf_counter()
    result = train(base_model, load_jsonl(data.path), config, out, progress=False, record=record)
    return TrainedModel(str(out), key, False, time.perf_counter() - started, result.examples_per_second)


@dataclass(frozen=True)
class EvaluationFiles:
    path: str
    dataset: str
    key: str
    seconds: float
    tokens_encoded: int


@dataclass
class EncodedEvaluation:
    """A dataset, its embeddings and its evaluation, with the time each stage took."""

    data: RetrievalSet | BeirDataset
    queries: np.ndarray
    candidates: np.ndarray
    evaluation: Evaluation
    timings: dict[str, float]

    @property
    def is_beir(self) -> bool:
        return isinstance(self.data, BeirDataset)


def load_dataset(dataset: str, languages: list[str] | None = None, beir_lang: str | None = None) -> RetrievalSet | BeirDataset:
    """A LAReQA or a BEIR-format set, told apart by ``corpus.jsonl``; bad input fails here,
    before any model is loaded."""
    folder = resolve_dataset_dir(dataset)
    return load_beir(folder, beir_lang) if (folder / "corpus.jsonl").is_file() else load_lareqa(folder, languages)


def encode_and_evaluate(encoder: Encoder, data: RetrievalSet | BeirDataset, with_context: bool = True,
                        progress: bool = False) -> EncodedEvaluation:
    """Encode a loaded set and run its evaluation settings."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if isinstance(data, BeirDataset):
        queries, candidates = encode_beir(encoder, data, progress)
    else:
        queries, candidates = encode_lareqa(encoder, data, with_context, progress)
    timings["encode"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if isinstance(data, BeirDataset):
        evaluation = evaluate_beir(data, queries, candidates)
    else:
        evaluation = evaluate_lareqa(data, queries, candidates)
    timings["evaluate"] = time.perf_counter() - clock
    return EncodedEvaluation(data, queries, candidates, evaluation, timings)


def evaluate_model(model: str, dataset: str, settings: EncoderSettings | None = None, with_context: bool = True,
                   beir_lang: str | None = None) -> EvaluationFiles:
    """Encode (through the embedding cache) and evaluate; results under ``evaluations/<hash>``."""
    settings = settings or EncoderSettings()
    key = content_hash(model_identity(model), dataset_identity(dataset), settings.as_dict(), with_context, beir_lang)
    out = home_dir() / "evaluations" / key
    if (out / "summary.json").is_file():
        return EvaluationFiles(str(out), json.loads((out / "summary.json").read_text())["dataset"], key, 0.0, 0)
    started = time.perf_counter()
    data = load_dataset(dataset, beir_lang=beir_lang)
    encoder = Encoder(model, settings, cache=EmbeddingCache(embeddings_dir()))
    evaluation = encode_and_evaluate(encoder, data, with_context).evaluation
    seconds = time.perf_counter() - started
    extra = {"model": model, "candidate_context": with_context, "encoder": settings.as_dict(), "seconds": seconds,
             "tokens_encoded": encoder.stats.tokens, "tokens_per_second": encoder.stats.tokens_per_second}
    save_evaluation(evaluation, out, extra)
    return EvaluationFiles(str(out), evaluation.dataset, key, seconds, encoder.stats.tokens)
