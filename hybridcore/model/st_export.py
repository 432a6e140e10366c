"""Save an encoder as a folder that both our Encoder and sentence-transformers load, and read
back the encoder settings such a folder records.

sentence-transformers reads ``modules.json`` (Transformer -> Pooling -> Normalize), the pooling
config and the prompts; our Encoder reads the Hugging Face files beside them, and takes its
pooling, prefixes and length from the same files, so a model is encoded the way it was trained.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from hybridcore.config.spec import EncoderSettings
from hybridcore.files import atomic_folder


def save_sentence_transformer(
    model: torch.nn.Module,
    tokenizer,
    folder: str | Path,
    settings: EncoderSettings,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write weights (safetensors), tokenizer and the sentence-transformers module files for
    resolved ``settings`` (pooling, prefixes and max length all set), and ``extra`` files
    (name -> text), all in one sealed folder."""
    with atomic_folder(folder) as tmp:
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        dim = int(model.config.hidden_size)
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ]
        (tmp / "modules.json").write_text(json.dumps(modules, indent=1))
        (tmp / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": settings.max_length, "do_lower_case": False})
        )
        (tmp / "1_Pooling").mkdir()
        (tmp / "1_Pooling" / "config.json").write_text(
            json.dumps(
                {
                    "word_embedding_dimension": dim,
                    "pooling_mode_cls_token": settings.pooling == "cls",
                    "pooling_mode_mean_tokens": settings.pooling == "mean",
                    "pooling_mode_max_tokens": False,
                    "pooling_mode_mean_sqrt_len_tokens": False,
                },
                indent=1,
            )
        )
        (tmp / "2_Normalize").mkdir()
        (tmp / "config_sentence_transformers.json").write_text(
            json.dumps(
                {
                    "prompts": {"query": settings.query_prefix, "passage": settings.passage_prefix},
                    "default_prompt_name": None,
                    "similarity_fn_name": "cosine",
                },
                indent=1,
            )
        )
    return Path(folder)


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def recorded_settings(folder: str | Path) -> dict:
    """Pooling, prefixes and max length that a sentence-transformers folder records (only
    those it does record; a plain Hugging Face folder or a hub name records none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    out: dict = {}
    pooling = _read(folder / "1_Pooling" / "config.json")
    if pooling.get("pooling_mode_cls_token"):
        out["pooling"] = "cls"
    elif pooling.get("pooling_mode_mean_tokens"):
        out["pooling"] = "mean"
    prompts = _read(folder / "config_sentence_transformers.json").get("prompts") or {}
    if "query" in prompts:
        out["query_prefix"] = prompts["query"]
    if "passage" in prompts:
        out["passage_prefix"] = prompts["passage"]
    length = _read(folder / "sentence_bert_config.json").get("max_seq_length")
    if isinstance(length, int):
        out["max_length"] = length
    return out
