"""FLORES-200 sentences as published in SIB-200: 1,004 sentences in each of 205 languages.

Files: ``<iso639-3>_<Script>/{train,dev,test}.tsv``, tab-separated with a header row
``index_id  category  text``. The same ``index_id`` is the same sentence in every language,
so each sentence is its own relevant candidate in every other language: bitext retrieval
against English, and a pooled multilingual setting over any chosen set of languages.

A subset of languages is a list of codes (any spelling) or a name: ``quick`` (English, three
of MLQA-R's languages, four of XLM-R's other pretraining languages and the seven AfriQA
languages XLM-R never saw) or ``all``. English is always loaded: it is the bitext pivot.
Splits: all three by default (1,004 sentences), or one of them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, LoadOptions, TextEncoder
from hybridcore.data.formats.metadata import POOLED, Figure, FormatMetadata, Paper, Setting
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group
from hybridcore.eval.pools import sampled_pool_name
from hybridcore.languages import PIVOT, language_tag, select_languages

FOLDER_PATTERN = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")
SPLITS = ("train", "dev", "test")
HEADER = ["index_id", "category", "text"]
EVERY_LANGUAGE = "all"  # the subset of every language folder
# The matrix keeps languages^2 x sentences per-query values: 42 M for all 205 languages, so
# beyond this many it is not computed.
RANK_MATRIX_LANGUAGES = 30
ALL_SPLITS = "train+dev+test"
SUBSETS: dict[str, tuple[str, ...] | None] = {
    "quick": (
        "eng_Latn",
        "arb_Arab",
        "deu_Latn",
        "zho_Hans",
        "swh_Latn",
        "hau_Latn",
        "rus_Cyrl",
        "tha_Thai",
        "yor_Latn",
        "ibo_Latn",
        "zul_Latn",
        "kin_Latn",
        "twi_Latn",
        "bem_Latn",
        "fon_Latn",
    ),
    EVERY_LANGUAGE: None,
}
_POOLED_FIGURES = (Figure("multi", "map"), Figure("multi", "rank_distance"), Figure("multi", "rank_distance_norm"))
_PAPER_FIGURES = (Figure("multi", "map"), Figure("multi", "rank_distance"))  # the paper reports no normalised form
METADATA = FormatMetadata(
    name="sib-200",
    description="FLORES-200 sentences as SIB-200 publishes them (arXiv 2309.07445): the same 1,004 sentences "
    "in each of 205 languages",
    settings=(
        Setting(
            "bitext",
            "bitext",
            ("precision@1", "mrr@10", "ndcg@10"),
            "language X's sentences against English's, and English's against X's; P@1 is Tatoeba's accuracy",
        ),
        Setting(
            "multi",
            "Mul",
            ("map", "rank_distance", "rank_distance_norm"),
            "each language's sentences against every chosen language's, the query itself left out; relevant: "
            "the same sentence in every other language; rank distance measures language bias, its normalised "
            "form (0: adjacent, 1: random) compares it across pool sizes",
            pooled=True,
        ),
        Setting(
            "mul_rank",
            "Mul rank",
            ("rank",),
            f"in the pool of every chosen language, the rank of X's sentence's translation into Y: the query x "
            f"candidate language matrix of language bias (from Mul's ranking; up to {RANK_MATRIX_LANGUAGES} languages)",
            ranks_of="multi",
        ),
    ),
    headlines=(*_POOLED_FIGURES, Figure("bitext", "precision@1")),
    language_figures=(Figure("bitext", "precision@1"), *_POOLED_FIGURES),
    # the paper's LAReQA claims on the pooled setting, carried over to a set it did not evaluate
    paper=Paper(claims=_PAPER_FIGURES),
)


@dataclass(frozen=True)
class FloresSet(Evaluable):
    """Aligned sentences: ``texts[l][i]`` is sentence ``index_ids[i]`` in ``languages[l]``.
    ``queries`` are the positions of the sentences asked as queries (None: every one); every
    sentence stays a candidate."""

    name: str
    split: str
    languages: tuple[str, ...]
    folders: tuple[str, ...]
    index_ids: tuple[str, ...]
    texts: tuple[tuple[str, ...], ...]
    queries: tuple[int, ...] | None = None

    metadata = METADATA

    @property
    def query_positions(self) -> np.ndarray:
        return np.arange(len(self.index_ids)) if self.queries is None else np.asarray(self.queries, dtype=np.int64)

    def rows_of(self, lang: str) -> np.ndarray:
        """Embedding rows of one language's sentences."""
        start = self.languages.index(lang) * len(self.index_ids)
        return np.arange(start, start + len(self.index_ids))

    def notes(self) -> dict:
        return {
            "split": self.split,
            "sentences_per_language": len(self.index_ids),
            "queries_per_language": len(self.query_positions),
            "folders": dict(zip(self.languages, self.folders)),
        }

    def sample(self, per_language: int, seed: int = 0, whole_pool: bool = True) -> FloresSet:
        """``per_language`` sentences, drawn at random, the same ones in every language, asked
        as queries against every sentence; without ``whole_pool``, the drawn sentences are
        the pool too."""
        rng = np.random.default_rng(seed)
        kept = sorted(
            rng.choice(len(self.index_ids), size=min(len(self.index_ids), per_language), replace=False).tolist()
        )
        if whole_pool:
            return replace(self, queries=tuple(kept))
        return replace(
            self,
            name=sampled_pool_name(self.name),
            index_ids=tuple(self.index_ids[i] for i in kept),
            texts=tuple(tuple(lang[i] for i in kept) for lang in self.texts),
        )

    # --- RetrievalData ------------------------------------------------------------------

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every sentence once, with the query prefix (a symmetric task: E5's advice); the same
        rows serve as queries and candidates."""
        embeddings = encoder.encode_queries([t for lang in self.texts for t in lang], progress=progress)
        return embeddings, embeddings

    def groups(self) -> list[Group]:
        """Bitext pairs with English both ways, then one pooled group per language; pools and
        relevant positions index the encoded sentences (language-major)."""
        n, count = len(self.index_ids), len(self.languages)
        asked = self.query_positions
        ids = tuple(self.index_ids[i] for i in asked)
        same_sentence = [[int(i)] for i in asked]
        groups: list[Group] = []
        for x in self.languages:
            if x != PIVOT:
                groups.append(
                    Group("bitext", x, PIVOT, self.rows_of(x)[asked], ids, self.rows_of(PIVOT), same_sentence)
                )
                groups.append(
                    Group("bitext", PIVOT, x, self.rows_of(PIVOT)[asked], ids, self.rows_of(x), same_sentence)
                )
        if count > 1:
            pool = np.arange(n * count)
            langs = np.repeat(np.array(self.languages), n) if count <= RANK_MATRIX_LANGUAGES else None
            for li, x in enumerate(self.languages):
                others = [lj for lj in range(count) if lj != li]
                relevant = [[lj * n + int(i) for lj in others] for i in asked]
                rows = self.rows_of(x)[asked]
                groups.append(Group("multi", x, POOLED, rows, ids, pool, relevant, exclude=rows, pool_langs=langs))
        return groups

    def candidate_ids(self) -> list[str]:
        return [f"{lang}:{i}" for lang in self.languages for i in self.index_ids]

    def guard_texts(self) -> GuardTexts:
        texts = tuple(t for lang in self.texts for t in lang)
        return GuardTexts(texts, texts)


def _read_tsv(path: Path) -> list[tuple[str, str]]:
    """(index_id, text) rows of one file."""
    if not path.is_file():
        raise DataError(path, "file", "file not found")
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        if header != HEADER:
            raise DataError(path, "line 1", f"expected the header {HEADER}, got {header}")
        for line_no, line in enumerate(handle, 2):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3:
                raise DataError(path, f"line {line_no}", f"expected 3 tab-separated fields, got {len(fields)}")
            index_id, _, text = fields
            if not index_id.strip().isdigit():
                raise DataError(path, f"line {line_no}", f"index_id {index_id!r} is not a number")
            if not text.strip():
                raise DataError(path, f"line {line_no} (index_id {index_id})", "empty text")
            rows.append((index_id.strip(), text))
    if not rows:
        raise DataError(path, "file", "header only: no sentences")
    return rows


def _language_folders(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not FOLDER_PATTERN.fullmatch(sub.name):
            raise DataError(sub, "language folder", "expected <iso639-3>_<Script>, e.g. swh_Latn")
        tag = language_tag(sub.name, sub, "language folder")
        if tag in found:
            raise DataError(sub, "language folder", f"the same language ({tag}) as {found[tag].name}")
        found[tag] = sub
    if not found:
        raise DataError(folder, "folder", "no <lang>_<Script> folders")
    return found


def _requested(folder: Path, available: dict[str, Path], languages: tuple[str, ...] | None) -> list[str]:
    codes: list[str] = []
    for item in languages or (EVERY_LANGUAGE,):
        if item in SUBSETS:
            codes += list(SUBSETS[item] or [f.name for f in available.values()])
        else:
            codes.append(item)
    chosen = select_languages(folder, available, codes)
    if PIVOT not in chosen:
        if PIVOT not in available:
            raise DataError(folder, "languages", "no English (eng_Latn) folder: bitext retrieval needs it")
        chosen.insert(0, PIVOT)
    return chosen


def load_flores(folder: str | Path, options: LoadOptions | None = None) -> FloresSet:
    """Read the chosen languages (default all) and split (default all three), checking that
    every language lists the same sentence ids in the same order."""
    folder = Path(folder)
    options = options or LoadOptions()
    if options.split is not None and options.split not in SPLITS:
        raise DataError(folder, "split", f"unknown split {options.split!r}; use one of {list(SPLITS)} (default: all)")
    splits = (options.split,) if options.split else SPLITS
    available = _language_folders(folder)
    languages = _requested(folder, available, options.languages)
    reference: dict[str, tuple[str, list[str]]] = {}  # split -> (language folder, ids)
    texts: list[tuple[str, ...]] = []
    for lang in languages:
        ids: list[str] = []
        lang_texts: list[str] = []
        for split in splits:
            path = available[lang] / f"{split}.tsv"
            rows = _read_tsv(path)
            split_ids = [i for i, _ in rows]
            if split not in reference:
                reference[split] = (available[lang].name, split_ids)
            _check_aligned(path, split_ids, *reference[split])
            ids += split_ids
            lang_texts += [t for _, t in rows]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise DataError(available[lang], "index_id", f"duplicate index_id(s) {duplicates[:5]}")
        texts.append(tuple(lang_texts))
    first_ids = [i for split in splits for i in reference[split][1]]
    return FloresSet(
        folder.name,
        options.split or ALL_SPLITS,
        tuple(languages),
        tuple(available[lang].name for lang in languages),
        tuple(first_ids),
        tuple(texts),
    )


def _check_aligned(path: Path, ids: list[str], reference_folder: str, reference_ids: list[str]) -> None:
    for line, (mine, theirs) in enumerate(zip(ids, reference_ids), 2):
        if mine != theirs:
            raise DataError(
                path, f"line {line}", f"index_id {mine} where {reference_folder} has {theirs}: languages disagree"
            )
    if len(ids) != len(reference_ids):
        raise DataError(path, "file", f"{len(ids)} sentences where {reference_folder} has {len(reference_ids)}")


def _is_flores(folder: Path) -> bool:
    return any(FOLDER_PATTERN.fullmatch(p.parent.name) for p in folder.glob("*/*.tsv"))


FORMAT = DatasetFormat(METADATA, _is_flores, load_flores)
