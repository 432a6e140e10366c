"""Retrieval sets published the mteb/BEIR way, loaded by name through ``datasets``.

A reference ``hf:<dataset>`` (a hub name, optionally pinned ``hf:<dataset>@<commit>``, or a
local folder in the same layout) with a language (``?lang=sw``) reads three configurations,
as mteb's multilingual retrieval tasks and MIRACL's mteb release name them:
``<lang>-corpus`` (``_id`` or ``id``, ``title``, ``text``), ``<lang>-queries`` and
``<lang>-qrels`` (``query-id``, ``corpus-id``, ``score``);
without a language, ``corpus``, ``queries`` and ``qrels``. The split is ``test`` unless
given; a corpus or query configuration with one split only is used whatever its name. The
rows go through the same checks as a BEIR folder. A hub name is read at the commit
``hubref.resolve_revision`` finds for it, which the dataset records (``revision``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hybridcore.data.dataset import LoadOptions
from hybridcore.data.formats.beir import BeirDataset, beir_dataset, check_qrels, check_rows
from hybridcore.errors import DataError
from hybridcore.hubref import resolve_revision, split_revision
from hybridcore.languages import canonical_tag, language_tag

PREFIX = "hf:"


def hub_commit(name: str) -> str | None:
    """The commit a ``hf:`` name (without the prefix) is read at; None for a local folder,
    whose files are hashed instead."""
    base, revision = split_revision(name)
    return None if Path(base).is_dir() else resolve_revision(base, revision, "dataset")


def _rows(name: str, config: str, split: str, commit: str | None) -> list[dict]:
    from datasets import load_dataset

    # a local folder is read afresh: datasets' cache may hold an older copy of files of the same name
    fresh = {"download_mode": "force_redownload", "verification_mode": "no_checks"} if Path(name).is_dir() else {}
    try:
        parts = load_dataset(name, config, revision=commit, **fresh)
    except Exception as err:  # datasets raises many types: name the dataset and configuration
        raise DataError(
            f"{PREFIX}{name}", f"configuration {config!r}", f"cannot be loaded ({type(err).__name__}: {err})"
        ) from None
    if split in parts:
        return list(parts[split])
    if len(parts) == 1:
        return list(next(iter(parts.values())))
    raise DataError(f"{PREFIX}{name}", f"configuration {config!r}", f"no split {split!r}; it has {sorted(parts)}")


def load_hub(name: str, options: LoadOptions | None = None) -> BeirDataset:
    """The ``split`` of a hub retrieval set in language ``options.lang`` (a BCP-47 tag or any
    spelling of one), as a ``BeirDataset``."""
    options = options or LoadOptions()
    split = options.split or "test"
    where = f"{PREFIX}{name}"
    commit = hub_commit(name)
    name = split_revision(name)[0]
    if options.lang is None:
        raise DataError(where, "language", "give the language of the set (?lang=sw): the layout records none")
    lang = language_tag(options.lang, where, "lang")
    prefix = _language_prefix(name, lang, commit)

    def rows(part: str) -> list[dict]:
        return _rows(name, f"{prefix}{part}", split, commit)

    corpus = check_rows(where, ((f"{prefix}corpus row {i}", r) for i, r in enumerate(rows("corpus"))), "corpus")
    queries = check_rows(where, ((f"{prefix}queries row {i}", r) for i, r in enumerate(rows("queries"))), "query")
    judgements = (
        (f"{prefix}qrels row {i}", str(r.get("query-id")), str(r.get("corpus-id")), r.get("score"))
        for i, r in enumerate(rows("qrels"))
    )
    qrels = check_qrels(where, judgements, {q for q, _ in queries}, {d for d, _ in corpus})
    data = beir_dataset(f"{name.rstrip('/').split('/')[-1]}-{lang}", lang, lang, corpus, queries, qrels)
    return replace(data, revision=commit)


def _language_prefix(name: str, lang: str, commit: str | None) -> str:
    """``<code>-`` of the configurations in ``lang`` (however the set spells its code), or ""
    for a set without language configurations."""
    from datasets import get_dataset_config_names

    try:
        configs = get_dataset_config_names(name, revision=commit)
    except Exception:
        return ""
    for config in configs:
        code = config.removesuffix("-corpus")
        if config.endswith("-corpus") and _canonical_or_none(code) == lang:
            return f"{code}-"
    return ""


def _canonical_or_none(code: str) -> str | None:
    try:
        return canonical_tag(code)
    except ValueError:
        return None
