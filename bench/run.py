"""Benchmark: our fast paths against the plain way, measured in one run on real data.

- Encoding: our encoder (bf16 where fast, token-budget batches over length-sorted texts)
  against a plain fp32 encode of fixed batches of 32 texts in their original order, padded
  to the longest (what a default sentence-transformers ``encode`` does), on the same real
  XQuAD-R questions and candidates; real (non-padding) tokens per second of each.
- Where the encoding time goes (``bench/profile.py``): attention, linear layers, the rest.
- Quality: mAP of bf16 against fp32 embeddings on XQuAD-R (Mo, Cr, Mul).
- Evaluation: all settings and metrics from cached embeddings.
- Training: examples/s of our trainer against a plain fp32 loop (per-step tokenisation,
  no autocast, unfused AdamW) on the same batches.

Figures are ratios against a baseline measured in the same process, so machine noise cancels.
"""

from __future__ import annotations

import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.profile import encoding_profile, format_profile
from hybridcore.data.lareqa import RetrievalSet, load_lareqa
from hybridcore.data.pairs import examples_from_lareqa
from hybridcore.eval.settings import evaluate_lareqa
from hybridcore.model.cache import EmbeddingCache
from hybridcore.model.encoder import Encoder, load_model, pool
from hybridcore.model.resolve import resolve_model
from hybridcore.run.paths import embeddings_dir
from hybridcore.run.spec import EncoderSettings, TrainConfig
from hybridcore.train.losses import info_nce
from hybridcore.train.trainer import Trainer

TARGETS = {"tokens_per_second": 25_000, "encode_speedup": 5.0, "map_delta": 0.005, "evaluation_seconds": 5.0,
           "train_speedup": 2.0}


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def sample_texts(data: RetrievalSet, n: int) -> tuple[list[str], list[str], list[str]]:
    """``n`` questions and ``n`` candidate sentences with their paragraphs, evenly spread
    over the set, in dataset order."""
    questions = [q.text for q in data.questions[:: max(1, len(data.questions) // n)][:n]]
    candidates = data.candidates[:: max(1, len(data.candidates) // n)][:n]
    return questions, [c.sentence for c in candidates], [c.context for c in candidates]


@torch.inference_mode()
def plain_encode(model, tokenizer, texts: list[str], contexts: list[str | None], batch_size: int = 32) -> tuple[np.ndarray, int, float]:
    """The baseline: fp32, fixed batches in the given order, padded to the batch's longest."""
    out, real_tokens = [], 0
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        chunk, ctx = texts[start : start + batch_size], contexts[start : start + batch_size]
        # a pair for texts with a context, a single text otherwise, padded together
        encoded = [tokenizer(t, c, truncation="longest_first", max_length=512) if c else
                   tokenizer(t, truncation=True, max_length=512) for t, c in zip(chunk, ctx)]
        batch = tokenizer.pad(encoded, return_tensors="pt")
        real_tokens += int(batch["attention_mask"].sum())
        out.append(pool(model(**batch).last_hidden_state, batch["attention_mask"], "mean").numpy())
    return np.concatenate(out), real_tokens, time.perf_counter() - started


def bench_encoding(model: str, data: RetrievalSet, n: int) -> dict:
    questions, sentences, contexts = sample_texts(data, n)
    ours = Encoder(model)  # the default settings: what `make run` uses (no cache here)
    baseline_model = load_model(ours.path).eval()
    base_texts = ["query: " + q for q in questions] + ["passage: " + s for s in sentences]
    base_contexts: list[str | None] = [None] * len(questions) + list(contexts)
    # warm both up so neither pays first-call costs in the timing
    plain_encode(baseline_model, ours.tokenizer, base_texts[-8:], base_contexts[-8:])
    ours.encode_passages(sentences[:8], contexts[:8])

    base_emb, tokens, base_s = plain_encode(baseline_model, ours.tokenizer, base_texts, base_contexts)
    started = time.perf_counter()
    our_emb = np.concatenate([ours.encode_queries(questions), ours.encode_passages(sentences, contexts)])
    ours_s = time.perf_counter() - started
    profiled = encoding_profile(ours, questions, sentences, contexts)  # after the timing: the profiler slows it
    return {
        "texts": len(base_texts),
        "real_tokens": tokens,
        "baseline_tokens_per_second": tokens / base_s,
        "ours_tokens_per_second": tokens / ours_s,
        "encode_speedup": base_s / ours_s,
        "ours_dtype": str(ours.dtype),
        "min_cosine_ours_vs_baseline": float((base_emb * our_emb).sum(1).min()),
        "profile": profiled,
    }


def bench_quality_and_evaluation(model: str, data: RetrievalSet) -> dict:
    cache = EmbeddingCache(embeddings_dir())
    results, seconds = {}, None
    for precision in ("bf16", "fp32"):
        encoder = Encoder(model, EncoderSettings(precision=precision), cache=cache)  # type: ignore[arg-type]
        q, c = data.encode(encoder, candidate_context=True, progress=True)
        started = time.perf_counter()
        results[precision] = evaluate_lareqa(data, q, c).summary()
        if precision == "bf16":
            seconds = time.perf_counter() - started  # embeddings in hand: the evaluation alone
    deltas = {s: results["bf16"][s]["map"] - results["fp32"][s]["map"] for s in ("mono", "cross", "multi")}
    return {"map_bf16": {s: results["bf16"][s]["map"] for s in deltas}, "map_fp32": {s: results["fp32"][s]["map"] for s in deltas},
            "map_delta": deltas, "evaluation_seconds": seconds, "languages": list(data.languages)}


def plain_train_step(model, tokenizer, optimizer, examples, batch, temperature: float) -> None:
    queries = tokenizer(["query: " + examples[q].query for q, _ in batch.pairs], padding=True, truncation=True,
                        max_length=64, return_tensors="pt")
    passages = tokenizer(["passage: " + examples[p].positive for _, p in batch.pairs], padding=True, truncation=True,
                         max_length=256, return_tensors="pt")
    q = pool(model(**queries).last_hidden_state, queries["attention_mask"], "mean")
    p = pool(model(**passages).last_hidden_state, passages["attention_mask"], "mean")
    info_nce(q, p, None, temperature).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def bench_training(model: str, steps: int, batch_size: int) -> dict:
    examples = examples_from_lareqa(load_lareqa("mlqa-r"))
    config = TrainConfig(strategy="hybrid", batch_size=batch_size, steps=steps + 2, validation_fraction=0.0)
    # only train_step is used: nothing is written to the output folder
    trainer = Trainer(model, examples, config, Path(tempfile.gettempdir()) / "hybrid-eval-bench")
    batches = trainer.sampler.epoch_plan(0)[: steps + 2]
    train_examples = trainer.train_examples

    def run(step_fn) -> float:
        for b in batches[:2]:  # warm-up
            step_fn(b)
        started = time.perf_counter()
        for b in batches[2:]:
            step_fn(b)
        return sum(len(b.pairs) for b in batches[2:]) / (time.perf_counter() - started)

    ours = run(lambda b: trainer.train_step(b, 0))
    plain_model = load_model(resolve_model(model))
    plain_model.train()
    optimizer = torch.optim.AdamW(plain_model.parameters(), lr=3e-5, weight_decay=0.01, foreach=False)
    plain = run(lambda b: plain_train_step(plain_model, trainer.tokenizer, optimizer, train_examples, b, 0.05))
    return {"steps": steps, "batch_size": batch_size, "ours_examples_per_second": ours,
            "plain_examples_per_second": plain, "train_speedup": ours / plain, "ours_dtype": str(trainer.dtype)}


def main(model: str = "e5-small", dataset: str = "xquad-r", languages: list[str] | None = None, texts: int = 600,
         train_steps: int = 8, batch_size: int = 32, out: Path | None = None) -> dict:
    data = load_lareqa(dataset, languages)
    report = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
              "model": model, "dataset": dataset}
    report["encoding"] = bench_encoding(model, data, texts)
    report["quality"] = bench_quality_and_evaluation(model, data)
    report["training"] = bench_training(model, train_steps, batch_size)
    report["targets"] = check_targets(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1))
    return report


def check_targets(report: dict) -> dict[str, dict]:
    enc, qual, tr = report["encoding"], report["quality"], report["training"]
    worst_delta = max(abs(v) for v in qual["map_delta"].values())
    rows = {
        "tokens_per_second": (enc["ours_tokens_per_second"], enc["ours_tokens_per_second"] >= TARGETS["tokens_per_second"]),
        "encode_speedup": (enc["encode_speedup"], enc["encode_speedup"] >= TARGETS["encode_speedup"]),
        "map_delta": (worst_delta, worst_delta <= TARGETS["map_delta"]),
        "evaluation_seconds": (qual["evaluation_seconds"], qual["evaluation_seconds"] < TARGETS["evaluation_seconds"]),
        "train_speedup": (tr["train_speedup"], tr["train_speedup"] >= TARGETS["train_speedup"]),
    }
    return {k: {"value": v, "target": TARGETS[k], "met": ok} for k, (v, ok) in rows.items()}


def format_report(report: dict) -> str:
    enc, qual, tr = report["encoding"], report["quality"], report["training"]
    lines = [
        f"CPU: {report['cpu']} ({report['threads']} threads){'; GPU: ' + report['cuda'] if report['cuda'] else ''}",
        "",
        f"encoding   {enc['texts']} real XQuAD-R texts, {enc['real_tokens']:,} real tokens",
        f"  plain fp32, batch 32, original order : {enc['baseline_tokens_per_second']:>9,.0f} tokens/s",
        f"  ours ({enc['ours_dtype'].removeprefix('torch.')}, token budget, sorted) : {enc['ours_tokens_per_second']:>9,.0f} tokens/s"
        f"   x{enc['encode_speedup']:.2f}  (min cosine to baseline {enc['min_cosine_ours_vs_baseline']:.4f})",
        "",
        *format_profile(enc["profile"]),
        "",
        f"quality    mAP on {report['dataset']} ({len(qual['languages'])} languages)   bf16      fp32     delta",
    ]
    for s in ("mono", "cross", "multi"):
        lines.append(f"  {s:<6}{'':30}{qual['map_bf16'][s]:.4f}    {qual['map_fp32'][s]:.4f}   {qual['map_delta'][s]:+.4f}")
    lines += [
        f"evaluation from cached embeddings (all settings, all metrics): {qual['evaluation_seconds']:.2f} s",
        "",
        f"training   hybrid batches of {tr['batch_size']}, {tr['steps']} timed steps",
        f"  plain fp32 loop : {tr['plain_examples_per_second']:.1f} examples/s",
        f"  ours ({tr['ours_dtype'].removeprefix('torch.')})     : {tr['ours_examples_per_second']:.1f} examples/s   x{tr['train_speedup']:.2f}",
        "",
        "target                   value      target   met",
    ]
    for name, row in report["targets"].items():
        lines.append(f"  {name:<20} {row['value']:>10.3f} {row['target']:>10} {'yes' if row['met'] else 'NO'}")
    return "\n".join(lines)
