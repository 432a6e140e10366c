"""Which languages a model saw in pretraining, where that is known.

Resolved in order: a ``pretraining_languages.json`` beside the model (``{"languages": [...],
"source": "..."}``, any spelling of codes), the table of known models below, and for a model
this project fine-tuned, its base model (from ``training.json``). Otherwise unknown (None).
Torch-free: the dashboard and the store read it.
"""

from __future__ import annotations

import json
from pathlib import Path

from hybridcore.languages import canonical_tag

FILE_NAME = "pretraining_languages.json"

# XLM-R's 100 CC-100 languages (arXiv 1911.02116, Table 6) as BCP-47: the romanised
# variants (bn_rom, hi_rom, ta_rom, te_rom, ur_rom) are the language in Latin script,
# Burmese in Zawgyi encoding is Burmese, and Norwegian ("no") covers Bokmal and Nynorsk,
# as FLORES spells them.
XLM_R = tuple(
    canonical_tag(code)
    for code in """
    af am ar as az be bg bn bn-Latn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi
    hi-Latn hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl no nb nn om
    or pa pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta ta-Latn te te-Latn th tl tr ug uk ur ur-Latn
    uz vi xh yi zh-Hans zh-Hant""".split()
)

# Models built on XLM-R's vocabulary and pretraining corpus.
KNOWN: dict[str, tuple[str, ...]] = {
    name: XLM_R
    for name in (
        "e5-small",
        "intfloat/multilingual-e5-small",
        "intfloat/multilingual-e5-base",
        "intfloat/multilingual-e5-large",
        "xlm-roberta-base",
        "xlm-roberta-large",
        "FacebookAI/xlm-roberta-base",
        "FacebookAI/xlm-roberta-large",
    )
}


def pretraining_languages(model: str | Path) -> tuple[str, ...] | None:
    """Canonical tags of the languages ``model`` was pretrained on, or None if unknown."""
    path = Path(model)
    beside = path / FILE_NAME
    if beside.is_file():
        return tuple(dict.fromkeys(canonical_tag(code) for code in json.loads(beside.read_text())["languages"]))
    if str(model) in KNOWN:
        return KNOWN[str(model)]
    training = path / "training.json"
    if training.is_file():
        base = json.loads(training.read_text()).get("spec", {}).get("model")
        if base and Path(base) != path:
            return pretraining_languages(base)
    return None
