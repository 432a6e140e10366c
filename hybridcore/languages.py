"""Language tags: every dataset's codes become one canonical IETF BCP-47 tag (langcodes).

Datasets spell languages differently: XQuAD-R ``zh``, FLORES-200 ``zho_Hans``, AfriQA
``swa`` where FLORES has ``swh_Latn``. ``language_tag`` maps each to one tag, so that figures
from different datasets line up and "seen in training" is decided across them:

- ISO 639-2/3 codes become their two-letter code where one exists (``hau`` -> ``ha``);
  an individual language with no two-letter code of its own becomes its macrolanguage
  (``swh`` -> ``sw``, ``arb`` -> ``ar``), but one that has its own code keeps it (``twi`` ->
  ``tw``, distinct from Akan ``ak``, as FLORES keeps them);
- a script is dropped where it is the language's usual one (``swh_Latn`` -> ``sw``,
  ``zho_Hans`` -> ``zh``) and kept where it is not (``zho_Hant`` -> ``zh-Hant``,
  ``arb_Latn`` -> ``ar-Latn``).

Two tags are the same language when their language and (likely) script agree. Torch-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import langcodes

from hybridcore.errors import DataError

# English: the pivot of the bitext benchmarks (SIB-200, Tatoeba) and of most AfriQA questions.
PIVOT = "en"


@lru_cache(maxsize=4096)
def canonical_tag(code: str) -> str:
    """The canonical BCP-47 tag of a code (``swh_Latn``, ``swa``, ``sw`` -> ``sw``); raises
    ``ValueError`` for a code that names no known language."""
    text = code.strip().replace("_", "-")
    try:
        tag = langcodes.standardize_tag(text, macro=False)
        if len(langcodes.Language.get(tag).language or "") == 3:
            tag = langcodes.standardize_tag(text, macro=True)
    except (ValueError, langcodes.tag_parser.LanguageTagError) as err:
        raise ValueError(f"{code!r} is not a language tag ({err})") from None
    lang = langcodes.Language.get(tag)
    if not lang.language or not langcodes.tag_is_valid(tag) or lang.language_name().startswith("Unknown language"):
        raise ValueError(f"{code!r} names no known language")
    if lang.script and langcodes.Language.get(lang.language).maximize().script == lang.script:
        lang = lang.update_dict({"script": None})
    return lang.to_tag()


def language_tag(code: str, path: str | Path, record: str = "language") -> str:
    """``canonical_tag`` of a code read from ``path``; a DataError naming the file and record
    where it is not a language."""
    try:
        return canonical_tag(code)
    except ValueError as err:
        raise DataError(path, record, f"{err} (expected a language code such as 'en', 'swa' or 'swh_Latn')") from None


@lru_cache(maxsize=4096)
def _identity(tag: str) -> tuple[str, str]:
    full = langcodes.Language.get(canonical_tag(tag)).maximize()
    return full.language or "", full.script or ""


def same_language(a: str, b: str) -> bool:
    """Whether two codes name the same language in the same script (``zh`` = ``zho_Hans``,
    ``zh`` != ``zh-Hant``)."""
    return _identity(a) == _identity(b)


def is_among(code: str, languages: Iterable[str]) -> bool:
    """Whether ``code`` is the same language as any of ``languages``."""
    return any(same_language(code, other) for other in languages)


def select_languages(path: str | Path, available: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The tags of ``available`` that ``requested`` names, in any spelling (``swa``,
    ``swh_Latn``, ``sw``), in the order requested; a DataError names what is missing."""
    available = list(available)
    chosen: list[str] = []
    for code in requested:
        tag = language_tag(code, path, "requested languages")
        if tag not in available:
            raise DataError(path, "requested languages", f"no {code!r} ({tag}) here; present: {', '.join(available)}")
        if tag not in chosen:
            chosen.append(tag)
    return chosen
