"""LASER's Tatoeba test sets (arXiv 1812.10464): bitext retrieval X -> English and English -> X.

Files: ``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng``, one sentence a line; line i
of the one is the translation of line i of the other. Every pair has its own English side
(the English sentences differ between pairs), so each pair is evaluated on its own and there
is no pooled setting: X's sentences against the pair's English sentences, and back.

Should a pair repeat a sentence on one side with different translations on the other, those
lines translate each other's sentences too: a query's relevant candidates are every line
whose English or whose X sentence equals its own (a tie between two copies of the same
sentence is no error of the model). The files here repeat none: every query has one
relevant line, as mteb's accuracy counts it.

Languages are ISO 639-3 codes in the file names, read as BCP-47 tags (``swh`` -> ``sw``). A
code that becomes the same tag as another pair's (``kzj``, deprecated, is now ``dtp``) keeps
its own code as a private-use subtag (``dtp-x-kzj``), so each pair keeps its own figures.
``sample=N`` draws N query lines per pair (the same lines in both directions) and keeps every
pair's whole pool (``pool=sampled``: the drawn lines only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, LoadOptions, TextEncoder
from hybridcore.data.formats.metadata import Figure, FormatMetadata, Setting
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group
from hybridcore.eval.pools import sampled_pool_name
from hybridcore.languages import PIVOT, language_tag, select_languages

FILE_PATTERN = re.compile(r"tatoeba\.(?P<code>[a-z]{3})-eng\.(?P<side>[a-z]{3})")
METADATA = FormatMetadata(
    name="tatoeba",
    description="LASER's Tatoeba test sets (arXiv 1812.10464): up to 1,000 sentences in each of 112 languages, "
    "each pair with its own English side",
    settings=(
        Setting(
            "bitext",
            "bitext",
            ("precision@1", "mrr@10", "ndcg@10"),
            "language X's sentences against the pair's English sentences, and English's against X's; "
            "P@1 is Tatoeba's accuracy",
        ),
    ),
    headlines=(Figure("bitext", "precision@1"), Figure("bitext", "mrr@10")),
    language_figures=(Figure("bitext", "precision@1"), Figure("bitext", "mrr@10")),
)


@dataclass(frozen=True)
class TatoebaPair:
    """One language's sentences and their English translations, line-aligned; ``queries``
    are the lines asked as queries (all, unless sampled)."""

    code: str  # the file name's ISO 639-3 code
    lang: str  # its BCP-47 tag
    texts: tuple[str, ...]
    english: tuple[str, ...]
    queries: tuple[int, ...]

    @cached_property
    def _lines_of(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Each X sentence's lines, and each English sentence's: one pass, not one per query."""
        by_text: dict[str, list[int]] = {}
        by_english: dict[str, list[int]] = {}
        for line, (text, english) in enumerate(zip(self.texts, self.english)):
            by_text.setdefault(text, []).append(line)
            by_english.setdefault(english, []).append(line)
        return by_text, by_english

    def relevant(self, line: int) -> list[int]:
        """The lines that translate ``line``: its own, and every line sharing its X or English sentence."""
        by_text, by_english = self._lines_of
        return sorted({*by_text[self.texts[line]], *by_english[self.english[line]]})


@dataclass(frozen=True)
class TatoebaSet(Evaluable):
    """The chosen pairs; embeddings hold each pair's X sentences, then its English ones."""

    name: str
    pairs: tuple[TatoebaPair, ...]

    metadata = METADATA

    @property
    def languages(self) -> tuple[str, ...]:
        return (PIVOT, *(p.lang for p in self.pairs))

    def _offsets(self) -> list[int]:
        starts, at = [], 0
        for pair in self.pairs:
            starts.append(at)
            at += 2 * len(pair.texts)
        return starts

    def sample(self, per_language: int, seed: int = 0, whole_pool: bool = True) -> TatoebaSet:
        """``per_language`` query lines of each pair, drawn at random, against the pair's whole
        pool; without ``whole_pool``, the drawn lines are the pool too."""
        rng = np.random.default_rng(seed)
        pairs = []
        for p in self.pairs:
            lines = sorted(rng.choice(len(p.texts), size=min(len(p.texts), per_language), replace=False).tolist())
            if whole_pool:
                pairs.append(replace(p, queries=tuple(lines)))
            else:
                texts, english = tuple(p.texts[i] for i in lines), tuple(p.english[i] for i in lines)
                pairs.append(replace(p, texts=texts, english=english, queries=tuple(range(len(lines)))))
        return replace(self, name=self.name if whole_pool else sampled_pool_name(self.name), pairs=tuple(pairs))

    def notes(self) -> dict:
        return {
            "sentences_per_pair": {p.lang: len(p.texts) for p in self.pairs},
            "queries_per_pair": {p.lang: len(p.queries) for p in self.pairs},
            "file_codes": {p.lang: p.code for p in self.pairs},
        }

    # --- RetrievalData ------------------------------------------------------------------

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every sentence once with the query prefix (both sides, as mteb embeds bitext for
        E5 models); the same rows serve as queries and candidates."""
        texts = [t for p in self.pairs for t in (*p.texts, *p.english)]
        embeddings = encoder.encode_queries(texts, progress=progress)
        return embeddings, embeddings

    def groups(self) -> list[Group]:
        """Per pair, X -> English and English -> X over the pair's own sentences."""
        groups = []
        for pair, start in zip(self.pairs, self._offsets()):
            n = len(pair.texts)
            x_rows, en_rows = np.arange(start, start + n), np.arange(start + n, start + 2 * n)
            asked = np.array(pair.queries, dtype=np.int64)
            ids = tuple(str(line) for line in pair.queries)
            relevant = [pair.relevant(line) for line in pair.queries]
            groups.append(Group("bitext", pair.lang, PIVOT, x_rows[asked], ids, en_rows, relevant))
            groups.append(Group("bitext", PIVOT, pair.lang, en_rows[asked], ids, x_rows, relevant))
        return groups

    def candidate_ids(self) -> list[str]:
        return [
            f"{p.code}-eng.{side}:{line}"
            for p in self.pairs
            for side in (p.code, "eng")
            for line in range(len(p.texts))
        ]

    def guard_texts(self) -> GuardTexts:
        texts = tuple(t for p in self.pairs for t in (*p.texts, *p.english))
        return GuardTexts(texts, texts)


def _read_lines(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        raise DataError(path, "file", "file not found (each tatoeba.<xxx>-eng.<xxx> needs its tatoeba.<xxx>-eng.eng)")
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as err:
        raise DataError(path, f"byte {err.start}", "not valid UTF-8") from None
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise DataError(path, f"line {number}", "empty sentence")
    if not lines:
        raise DataError(path, "file", "no sentences")
    return tuple(lines)


def _pair_files(folder: Path) -> dict[str, str]:
    """Language tag -> file code, one per ``tatoeba.<xxx>-eng.<xxx>`` file."""
    codes = sorted(
        {m["code"] for p in folder.iterdir() if (m := FILE_PATTERN.fullmatch(p.name)) and m["side"] == m["code"]}
    )
    if not codes:
        raise DataError(folder, "folder", "no tatoeba.<xxx>-eng.<xxx> files")
    codes_of: dict[str, list[str]] = {}
    for code in codes:
        codes_of.setdefault(
            language_tag(code, folder / f"tatoeba.{code}-eng.{code}", "language code in file name"), []
        ).append(code)
    tags: dict[str, str] = {}
    for tag, same in codes_of.items():
        first, *others = sorted(same, key=lambda code: (code != tag, code))  # the code that is the tag itself keeps it
        tags[tag] = first
        tags.update({f"{tag}-x-{code}": code for code in others})
    return tags


def load_tatoeba(folder: str | Path, options: LoadOptions | None = None) -> TatoebaSet:
    """Read every pair (or the chosen languages', in any spelling), checking that both sides
    have the same number of lines."""
    folder = Path(folder)
    options = options or LoadOptions()
    if options.split not in (None, "test"):
        raise DataError(folder, "split", f"Tatoeba has one split, 'test'; got {options.split!r}")
    files = _pair_files(folder)
    chosen = list(files) if not options.languages else _chosen(folder, files, options.languages)
    pairs = []
    for tag in chosen:
        code = files[tag]
        texts = _read_lines(folder / f"tatoeba.{code}-eng.{code}")
        english = _read_lines(folder / f"tatoeba.{code}-eng.eng")
        if len(texts) != len(english):
            raise DataError(
                folder / f"tatoeba.{code}-eng.eng",
                "file",
                f"{len(english)} lines where tatoeba.{code}-eng.{code} has {len(texts)}: the sides must align",
            )
        pairs.append(TatoebaPair(code, tag, texts, english, tuple(range(len(texts)))))
    return TatoebaSet(folder.name, tuple(pairs))


def _chosen(folder: Path, files: dict[str, str], requested: tuple[str, ...]) -> list[str]:
    """Requested languages, in the order asked, by tag (any spelling) or by the file's own
    code (``kzj``)."""
    by_code = {code: tag for tag, code in files.items()}
    tags = [by_code[r] if r in by_code else select_languages(folder, files, [r])[0] for r in requested]
    return list(dict.fromkeys(tags))


def _is_tatoeba(folder: Path) -> bool:
    return any(FILE_PATTERN.fullmatch(p.name) for p in folder.glob("tatoeba.*-eng.eng"))


FORMAT = DatasetFormat(METADATA, _is_tatoeba, load_tatoeba)
