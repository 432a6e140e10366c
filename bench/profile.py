"""Where encoding time goes: one profiled pass of our encoder over the bench's texts, split
into attention, linear layers and the rest, with the linear layers' achieved FLOP rate.

It explains the encoding figure. When the linear layers already run at the machine's matrix
peak, no batching or precision change speeds them up, and ``tokens / (linear + attention)``
is the best any path with this attention kernel can reach, even if everything else were free.
"""

from __future__ import annotations

import time

import torch
from torch.profiler import ProfilerActivity, profile

from hybridcore.model.encoder import Encoder

LINEAR_OPS = {"aten::addmm", "aten::mm", "aten::linear", "aten::matmul"}


def part_of(op_name: str) -> str:
    """Which part of the encoder an ATen op belongs to."""
    if "scaled_dot_product" in op_name or "attention" in op_name:
        return "attention"
    return "linear" if op_name in LINEAR_OPS else "other"


def encoding_profile(encoder: Encoder, questions: list[str], sentences: list[str], contexts: list[str]) -> dict:
    """Profile one encode of the questions and the candidates (with their paragraphs)."""
    on_gpu = encoder.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    tokens_before = encoder.stats.tokens
    with profile(activities=activities, with_flops=True) as prof:
        started = time.perf_counter()
        encoder.encode_queries(questions)
        encoder.encode_passages(sentences, contexts)
        if on_gpu:
            torch.cuda.synchronize()
        wall = time.perf_counter() - started
    tokens = encoder.stats.tokens - tokens_before
    seconds = {"attention": 0.0, "linear": 0.0}
    linear_flops = 0
    for row in prof.key_averages():
        part = part_of(row.key)
        if part == "other":
            continue
        self_us = row.self_device_time_total if on_gpu else row.self_cpu_time_total
        seconds[part] += self_us / 1e6
        if part == "linear":
            linear_flops += row.flops
    seconds["other"] = max(0.0, wall - seconds["attention"] - seconds["linear"])
    return {
        "real_tokens": tokens,
        "wall_seconds": wall,
        "seconds": seconds,
        "share": {k: v / wall for k, v in seconds.items()},
        "linear_flops": linear_flops,
        "linear_tflops_per_second": linear_flops / seconds["linear"] / 1e12 if seconds["linear"] else 0.0,
        "bound_tokens_per_second": tokens / (seconds["attention"] + seconds["linear"]),
    }


def format_profile(prof: dict) -> list[str]:
    """Report lines for the bench's text output."""
    lines = [
        f"encoding profile   one pass, {prof['real_tokens']:,} real tokens, {prof['wall_seconds']:.1f} s (profiler on)"
    ]
    for part in ("attention", "linear", "other"):
        lines.append(f"  {part:<10} {prof['seconds'][part]:6.2f} s  {prof['share'][part]:5.0%}")
    lines += [
        f"  linear layers run at {prof['linear_tflops_per_second']:.2f} TFLOP/s",
        f"  bound with this attention and everything else free: {prof['bound_tokens_per_second']:,.0f} tokens/s",
    ]
    return lines
