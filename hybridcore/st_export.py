"""Save an encoder as a folder that both our Encoder and sentence-transformers load.

sentence-transformers reads ``modules.json`` (Transformer -> Pooling -> Normalize), the pooling
config and the prompts; our Encoder reads the Hugging Face files beside them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch


def save_sentence_transformer(model: torch.nn.Module, tokenizer, folder: str | Path, pooling: str,
                              query_prefix: str, passage_prefix: str, max_seq_length: int = 512) -> Path:
    """Write weights (safetensors), tokenizer and the sentence-transformers module files."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    dim = int(model.config.hidden_size)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (tmp / "modules.json").write_text(json.dumps(modules, indent=1))
    (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}))
    (tmp / "1_Pooling").mkdir()
    (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }, indent=1))
    (tmp / "2_Normalize").mkdir()
    (tmp / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": query_prefix, "passage": passage_prefix},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder
