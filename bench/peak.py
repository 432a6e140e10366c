"""The machine's limit and the model's work: GEMM peak FLOP/s, and a transformer's FLOPs.

Encoding and training speeds are reported as model FLOP/s and as a share of the GEMM peak
measured in the same run, so a figure says how close the code comes to what the machine
can do, whatever the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch

from hybridcore.model.prepacked import can_prepack_on, prepack

# Shapes of e5-small's own products (tokens x hidden, hidden x 4 hidden) and a square one:
# the peak is the best of them, as a vendor's library reaches it.
GEMM_SHAPES = ((4096, 384, 1536), (4096, 1536, 384), (2048, 2048, 2048))


def gemm_peak(
    dtype: torch.dtype,
    device: str = "cpu",
    seconds: float = 1.0,
    shapes: tuple[tuple[int, int, int], ...] = GEMM_SHAPES,
) -> float:
    """Best matrix-product FLOP/s over ``shapes`` in ``dtype``, each run for about ``seconds``
    after a warm-up (a warm-up slower than that is the measurement: a machine without a fast
    kernel for ``dtype`` would otherwise take minutes)."""
    best = 0.0
    for m, k, n in shapes:
        a = torch.randn(m, k, device=device).to(dtype)
        b = torch.randn(k, n, device=device).to(dtype)
        for product in _products(a, b):
            started = time.perf_counter()
            product()  # warm-up: the library picks its kernel on the first call
            _sync(device)
            if (first := time.perf_counter() - started) >= seconds:
                best = max(best, 2.0 * m * k * n / first)
                continue
            calls, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds or calls < 3:
                product()
                _sync(device)
                calls += 1
            best = max(best, 2.0 * m * k * n * calls / elapsed)
    return best


def _products(a: torch.Tensor, b: torch.Tensor) -> list[Callable[[], torch.Tensor]]:
    """``a @ b`` by each library the encoder may use: PyTorch's own product and, on a CPU with
    oneDNN, the prepacked linear layer the encoder runs there (faster than MKL on some CPUs)."""
    products = [lambda: torch.mm(a, b)]
    if can_prepack_on(a.device, b.dtype):
        linear = torch.nn.Linear(b.shape[0], b.shape[1], bias=False, dtype=b.dtype)
        linear.weight.data = b.t().contiguous()
        if (layer := prepack(linear)) is not None:  # None: this CPU refuses it (bf16 on a Zen 3)
            products.append(lambda: layer(a))
    return products


def _sync(device: str) -> None:
    if device != "cpu":
        torch.cuda.synchronize()


def encoder_flops(config, lengths: Iterable[int]) -> float:
    """Forward FLOPs of a BERT-like encoder over sequences of the given lengths: the linear
    layers (2 x weights per token) and attention's two products (4 x n^2 x hidden per layer);
    embeddings, norms and softmax are left out (a few percent)."""
    hidden, inner, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    linear = 4 * hidden * hidden + 2 * hidden * inner  # q, k, v, output; feed-forward in and out
    return float(sum(layers * (2 * linear * n + 4 * n * n * hidden) for n in lengths))


# Backward costs about twice the forward: gradients for both the inputs and the weights.
TRAINING_FLOPS_PER_FORWARD = 3.0
