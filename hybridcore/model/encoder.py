"""Dense encoder: a Hugging Face model, pooling, the E5 prefixes, L2-normalised float32 output.

Texts are tokenised once, sorted by length and cut into batches by a token budget, so a batch
of short questions is large and a batch of long paragraphs is small, and padding stays small.
For BERT encoders the linear layers then see only a batch's real tokens
(``hybridcore.model.packed``): the padding left (on the bench's XQuAD-R sample, 60% over the
questions' batches, 7% over the paragraphs') is multiplied by attention alone. On a CPU those
linear layers run on oneDNN with their weights laid out once (``hybridcore.model.prepacked``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from hybridcore.config.spec import EncoderSettings, Pooling
from hybridcore.model.allocator import keep_freed_memory
from hybridcore.model.cache import EmbeddingCache, texts_key, weights_fingerprint
from hybridcore.model.device import compute_device
from hybridcore.model.packed import can_pack, hidden_states
from hybridcore.model.precision import resolve_dtype
from hybridcore.model.prepacked import can_prepack, prepack_linear_layers
from hybridcore.model.resolve import resolve_model
from hybridcore.model.st_export import recorded_settings
from hybridcore.progress import progress_bar


@dataclass
class EncodingStats:
    """Real (non-padding) tokens encoded and seconds spent, for throughput reports."""

    tokens: int = 0
    seconds: float = 0.0

    def add(self, tokens: int, seconds: float) -> None:
        self.tokens += tokens
        self.seconds += seconds

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """Pool token states to one L2-normalised vector per text (float32, differentiable)."""
    hidden = hidden.float()
    if pooling == "cls":
        pooled = hidden[:, 0]
    elif pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    else:
        raise ValueError(f"unknown pooling {pooling!r}: use 'mean' or 'cls'")
    return F.normalize(pooled, dim=-1)


def token_budget_batches(lengths: Sequence[int], tokens_per_batch: int) -> list[np.ndarray]:
    """Group text indices, longest first, so each padded batch holds at most the budget."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        longest = max(int(lengths[order[start]]), 1)
        size = max(1, tokens_per_batch // longest)
        batches.append(order[start : start + size])
        start += size
    return batches


class Encoder:
    """Encode queries and passages with one shared model (a dual encoder with tied weights)."""

    def __init__(
        self,
        model: str | Path,
        settings: EncoderSettings | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.cache = cache
        self._fingerprint: str | None = None
        self.name = str(model)
        self.path = resolve_model(model)
        # A model trained with cls pooling (or other prefixes) is encoded the way it was trained.
        self.settings = (settings or EncoderSettings()).resolved(recorded_settings(self.path))
        self.device = compute_device(device)
        keep_freed_memory(self.device)
        self.dtype = resolve_dtype(self.settings.precision, self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=trust_remote_code)
        # Inference only: casting the weights beats autocast (no per-op casts) on AMX and GPUs.
        self.model = load_model(self.path, trust_remote_code).to(self.device, self.dtype).eval()
        self.packed = self.settings.packed and can_pack(self.model)
        # Prepacking keeps the parameters, so the weights' fingerprint is the unpacked model's.
        self.prepacked = (
            self.settings.prepacked and can_prepack(self.model, self.device) and prepack_linear_layers(self.model)
        )
        self.stats = EncodingStats()

    def encode_queries(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed questions with the query prefix."""
        return self._encode_texts([self.settings.query_prefix + t for t in texts], None, progress)

    def encode_passages(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None, progress: bool = False
    ) -> np.ndarray:
        """Embed passages with the passage prefix; with ``contexts``, each is encoded as the
        pair (sentence, its paragraph), the way LAReQA encodes an answer in its context."""
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} passages but {len(contexts)} contexts")
        return self._encode_texts([self.settings.passage_prefix + t for t in texts], contexts, progress)

    def _encode_texts(self, texts: list[str], contexts: Sequence[str] | None, progress: bool) -> np.ndarray:
        key = None
        if self.cache is not None:
            parts = {
                "weights": self.fingerprint,
                "pooling": self.settings.pooling,
                "max_length": self.settings.max_length,
                "dtype": str(self.dtype),
            }
            if self.prepacked:
                parts["linear"] = "prepacked"  # oneDNN's products: within rounding, not bit for bit
            if self.packed and (self.prepacked or not (self.dtype == torch.float32 and self.device.type == "cpu")):
                # Bit for bit the padded forward's only where measured (fp32 on CPU, PyTorch's own
                # linear layers): elsewhere packed embeddings are kept apart from padded ones.
                parts["forward"] = "packed"
            key = texts_key(parts, texts, contexts)
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        out = self._encode(self.tokenize(texts, contexts), progress)
        if key is not None:
            self.cache.put(key, out)
        return out

    def tokenize(self, texts: Sequence[str], contexts: Sequence[str] | None = None):
        """Token ids of ``texts`` (prefixes already added), each with its context as a pair
        where given, cut to the encoder's max length the way encoding cuts them."""
        limit = self.settings.max_length
        if contexts is None:
            return self.tokenizer(list(texts), truncation=True, max_length=limit)
        return self.tokenizer(list(texts), list(contexts), truncation="longest_first", max_length=limit)

    @property
    def fingerprint(self) -> str:
        """Content hash of the loaded weights (computed once)."""
        if self._fingerprint is None:
            self._fingerprint = weights_fingerprint(self.model)
        return self._fingerprint

    def batches(self, encoded) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor], int]]:
        """The token-budget batches of ``encoded`` (``tokenize``'s output), padded and on the
        device: each batch's text indices, its inputs and its real tokens."""
        features = [dict(zip(encoded.keys(), values)) for values in zip(*encoded.values())]
        lengths = [len(f["input_ids"]) for f in features]
        for batch_ids in token_budget_batches(lengths, self.settings.tokens_per_batch):
            batch = self.tokenizer.pad([features[i] for i in batch_ids], return_tensors="pt")
            yield batch_ids, {k: v.to(self.device) for k, v in batch.items()}, sum(lengths[i] for i in batch_ids)

    @torch.inference_mode()
    def _encode(self, encoded, progress: bool) -> np.ndarray:
        total = sum(len(ids) for ids in encoded["input_ids"])
        out = np.zeros((len(encoded["input_ids"]), self.dimension), dtype=np.float32)
        started = time.perf_counter()
        bar = progress_bar(total, "encode", "tok", progress)
        for batch_ids, batch, tokens in self.batches(encoded):
            hidden = hidden_states(self.model, [batch], self.packed)[0]
            out[batch_ids] = pool(hidden, batch["attention_mask"], self.settings.pooling).cpu().numpy()
            bar.update(tokens)
        bar.close()
        self.stats.add(total, time.perf_counter() - started)
        return out

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)


def load_model(path: str, trust_remote_code: bool = False) -> torch.nn.Module:
    """Load encoder weights from safetensors only (never pickle), without a pooler head."""
    kwargs = {"use_safetensors": True, "trust_remote_code": trust_remote_code}
    try:
        # BERT-like models otherwise add a randomly initialised pooler that nothing uses.
        return AutoModel.from_pretrained(path, add_pooling_layer=False, **kwargs)
    except TypeError:
        return AutoModel.from_pretrained(path, **kwargs)
