"""Where the time goes: one profiled training step and one profiled encoding pass, split by
category (matrix products, attention, element-wise work, the embedding's backward, the
optimizer, tokenisation and collation, and Python with everything else).

It explains the bench's speed figures. When the matrix products already run near the
machine's GEMM peak, no batching or precision change speeds them up, and
``tokens / (matrix products + attention)`` bounds any path with this attention kernel, even if
everything else were free.

Each ATen op's *self* time goes to one category, decided by its own name and its callers'
(an ``index_add_`` called by ``EmbeddingBackward0`` is the embedding's backward, a ``mul_``
called by the fused optimizer is the optimizer). Tokenisation and collation are timed apart,
outside the profiler, on the same texts; "Python and the rest" is the wall time left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile

from hybridcore.model.encoder import Encoder

MATRIX, ATTENTION, ELEMENTWISE = "matrix products", "attention", "element-wise and other ops"
EMBEDDING_BACKWARD, OPTIMIZER = "embedding backward", "optimizer"
TOKENS, PYTHON = "tokenisation and collation", "Python and the rest"
CATEGORIES = (MATRIX, ATTENTION, ELEMENTWISE, EMBEDDING_BACKWARD, OPTIMIZER, TOKENS, PYTHON)

# Matched against an op's name and its callers' (lower case): the first category that
# matches anywhere in the chain wins, so what an optimizer or an attention kernel calls is
# counted as that.
_BY_CALLER = (
    (OPTIMIZER, ("optimizer.", "adam", "_foreach_", "clip_grad")),
    (EMBEDDING_BACKWARD, ("embeddingbackward", "embedding_dense_backward", "embedding_backward")),
    # eager attention is matmul -> bmm and softmax; SDPA names itself. The loss's
    # log_softmax is not attention: "aten::_log_softmax" contains neither needle.
    (ATTENTION, ("scaled_dot_product", "attention", "aten::bmm", "aten::_softmax", "aten::softmax")),
)
# oneDNN's prepacked linear layer (``hybridcore.model.prepacked``): its fused bias and GELU
# count with the product.
LINEAR_POINTWISE = "mkldnn::_linear_pointwise"
_MATRIX_OPS = {"aten::addmm", "aten::mm", "aten::linear", "aten::matmul", "aten::baddbmm", LINEAR_POINTWISE}


def category_of(chain: list[str]) -> str:
    """The category of an op's self time; ``chain`` is its own name, then its callers' names."""
    lowered = [name.lower() for name in chain]
    for category, needles in _BY_CALLER:
        if any(needle in name for name in lowered for needle in needles):
            return category
    return MATRIX if chain[0] in _MATRIX_OPS else ELEMENTWISE


def _chain(event) -> list[str]:
    names = []
    while event is not None:
        names.append(event.name)
        event = event.cpu_parent
    return names


def _flops(event) -> int:
    """The profiler's FLOP count of an op; for oneDNN's linear, which it does not count, 2 x
    rows x inputs x outputs from the shapes of its input and its bias."""
    if event.name != LINEAR_POINTWISE:
        return event.flops or 0
    x, _, bias = event.input_shapes[:3]
    return 2 * math.prod(x[:-1]) * x[-1] * bias[0]


def profile_by_category(run: Callable[[], object], device: torch.device, tokens_seconds: float) -> dict:
    """Profile one call of ``run``; its wall time by category, the share of each, and the
    FLOP rate of its matrix products. ``tokens_seconds``: the tokenisation and collation of
    the same work, timed apart."""
    on_gpu = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    with profile(activities=activities, with_flops=True, record_shapes=True) as prof:
        started = time.perf_counter()
        run()
        if on_gpu:
            torch.cuda.synchronize()
        wall = time.perf_counter() - started
    seconds = dict.fromkeys(CATEGORIES, 0.0)
    matrix_flops = 0
    for event in prof.events():
        self_us = event.self_device_time_total if on_gpu else event.self_cpu_time_total
        if not event.name.startswith(("aten::", "mkldnn::")) or self_us <= 0:
            continue  # record_function scopes and autograd nodes have their ops' time already
        category = category_of(_chain(event))
        seconds[category] += self_us / 1e6
        if category == MATRIX:
            matrix_flops += _flops(event)
    seconds[TOKENS] = tokens_seconds
    seconds[PYTHON] = max(0.0, wall - sum(seconds.values()))
    return {
        "wall_seconds": wall,
        "seconds": seconds,
        "share": {k: v / wall for k, v in seconds.items()},
        "matrix_flops": matrix_flops,
        "matrix_flops_per_second": matrix_flops / seconds[MATRIX] if seconds[MATRIX] else 0.0,
    }


def _collation_seconds(encoder: Encoder, texts: list[str], contexts: list[str] | None) -> float:
    """Tokenise ``texts`` and pad them into the batches encoding makes, with the encoder's own code."""
    started = time.perf_counter()
    for _ in encoder.batches(encoder.tokenize(texts, contexts)):
        pass
    return time.perf_counter() - started


def encoding_profile(encoder: Encoder, questions: list[str], sentences: list[str], contexts: list[str]) -> dict:
    """Profile one encode of the questions and the candidates (with their paragraphs)."""
    s = encoder.settings
    tokens_seconds = _collation_seconds(encoder, [s.query_prefix + q for q in questions], None) + _collation_seconds(
        encoder, [s.passage_prefix + t for t in sentences], contexts
    )
    tokens_before = encoder.stats.tokens

    def encode() -> None:
        encoder.encode_queries(questions)
        encoder.encode_passages(sentences, contexts)

    result = profile_by_category(encode, encoder.device, tokens_seconds)
    tokens = encoder.stats.tokens - tokens_before
    bound = result["seconds"][MATRIX] + result["seconds"][ATTENTION]
    return {**result, "what": "one encoding pass", "real_tokens": tokens, "bound_tokens_per_second": tokens / bound}


def training_profile(trainer, batch) -> dict:
    """Profile one optimizer step of ``trainer`` (a ``hybridcore.train.trainer.Trainer``) on ``batch``."""
    started = time.perf_counter()  # the step's collation; its texts were tokenised once, up front
    trainer.collate(batch, trainer.train_tokens)
    tokens_seconds = time.perf_counter() - started
    # Once unprofiled first, so the profiled step is not the first to meet these shapes since
    # the other trainers ran (a first meeting can take seconds: kernels built, memory faulted in).
    trainer.train_step(batch, 0)
    result = profile_by_category(lambda: trainer.train_step(batch, 0), trainer.device, tokens_seconds)
    return {**result, "what": f"one training step, batch of {len(batch.pairs)}"}


def format_profile(prof: dict, peak_flops: float) -> list[str]:
    """Report lines for the bench's text output."""
    lines = [f"profile: {prof['what']}, {prof['wall_seconds']:.2f} s wall (profiler on)"]
    for category in CATEGORIES:
        lines.append(f"  {category:<28}{prof['seconds'][category]:8.3f} s {prof['share'][category]:6.1%}")
    rate = prof["matrix_flops_per_second"]
    lines.append(f"  matrix products run at {rate / 1e9:,.0f} GFLOP/s, {rate / peak_flops:.0%} of the GEMM peak")
    if "bound_tokens_per_second" in prof:
        lines.append(
            f"  bound with this attention and everything else free: {prof['bound_tokens_per_second']:,.0f} tokens/s"
        )
    return lines
