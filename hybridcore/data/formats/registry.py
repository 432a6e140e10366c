"""The registry of dataset formats, and loading a dataset by reference.

Formats are found through the ``hybrid_eval.formats`` entry point group (``pyproject.toml``:
``[project.entry-points."hybrid_eval.formats"]``, each entry naming a module's
``DatasetFormat``), so a format installed by any package is known in every process: the
command line, a worker, the dashboard. ``register`` adds one for the current process only
(tests). Formats may share a setting's name only where they agree on its label, so a stored
figure's setting means one thing whichever format made it.

A reference is a name (``xquad-r``: a folder under the data directory,
``HYBRID_EVAL_DATA_DIR``) or a path, optionally followed by load options in URL query form:
``sib-200?languages=quick&split=test``, ``afriqa?languages=hau,yor``, ``xquad-r?sample=300``
(300 questions a language against the whole pool), ``xquad-r?sample=300&pool=sampled`` (and
a pool of their answers only: ``hybridcore.eval.pools``); see ``LoadOptions``. One string
thus names exactly what is evaluated wherever a dataset is passed: the command line, a run
spec, the store. The first format whose ``detect`` accepts
the folder reads it, in the entry points' order of names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import parse_qs

from hybridcore.config.paths import resolve_dataset_dir
from hybridcore.data.dataset import SAMPLE_SEED, DatasetFormat, LoadOptions, RetrievalData
from hybridcore.data.formats import hub
from hybridcore.data.formats.metadata import FormatMetadata, Setting
from hybridcore.errors import DataError
from hybridcore.files import content_hash, folder_hash
from hybridcore.hubref import split_revision

ENTRY_POINT_GROUP = "hybrid_eval.formats"
_OPTION_NAMES = ("languages", "lang", "split", "sample", "pool")
_POOLS = ("whole", "sampled")
_added: dict[str, DatasetFormat] = {}


@cache
def _installed() -> tuple[DatasetFormat, ...]:
    found = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        fmt = entry.load()
        if not isinstance(fmt, DatasetFormat) or fmt.name != entry.name:
            raise TypeError(
                f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP}) must name the "
                f"DatasetFormat {entry.name!r}"
            )
        found.append(fmt)
    return tuple(found)


def formats() -> dict[str, DatasetFormat]:
    """Every known format by name: the installed ones, then those ``register`` added."""
    return dict(_known())


@cache
def _known() -> dict[str, DatasetFormat]:
    """The installed formats and the registered ones, their shared settings checked once."""
    known = {fmt.name: fmt for fmt in _installed()}
    known.update(_added)
    _check_shared_settings(known.values())
    return known


def register(fmt: DatasetFormat) -> DatasetFormat:
    """Make a format known in this process (again under the same name: replaced)."""
    previous = _added.get(fmt.name)
    _added[fmt.name] = fmt
    _known.cache_clear()
    try:
        _known()
    except ValueError:  # a clash with a known format: leave the registry as it was
        _added.pop(fmt.name)
        if previous is not None:
            _added[fmt.name] = previous
        _known.cache_clear()
        raise
    return fmt


def unregister(name: str) -> None:
    """Forget a format ``register`` added."""
    _added.pop(name, None)
    _known.cache_clear()


def _check_shared_settings(known: Iterable[DatasetFormat]) -> None:
    label_of: dict[str, tuple[str, str]] = {}
    for fmt in known:
        for setting in fmt.metadata.settings:
            other = label_of.setdefault(setting.name, (setting.label, fmt.name))
            if other[0] != setting.label:
                raise ValueError(
                    f"format {fmt.name!r} labels setting {setting.name!r} {setting.label!r}, "
                    f"format {other[1]!r} labels it {other[0]!r}: a stored setting must mean one thing"
                )


def all_metadata() -> list[FormatMetadata]:
    return [fmt.metadata for fmt in _known().values()]


def metadata_for(settings: Iterable[str]) -> FormatMetadata | None:
    """The format a dataset's stored figures come from, known by their settings: the format
    with the fewest settings that has them all (None: no known format has them)."""
    present = set(settings)
    fitting = [m for m in all_metadata() if present and present <= m.setting_names]
    return min(fitting, key=lambda m: len(m.setting_names)) if fitting else None


def setting_info(name: str) -> Setting | None:
    """A setting's declaration (label, description) in the first format that has it."""
    for metadata in all_metadata():
        if name in metadata.setting_names:
            return metadata.setting(name)
    return None


def parse_reference(reference: str | Path, options: LoadOptions | None = None) -> tuple[Path | str, LoadOptions]:
    """The folder (or ``hf:`` name) and load options a reference names; ``options`` given
    here fill what the reference leaves open."""
    text = str(reference)
    location, _, query = text.partition("?")
    options = options or LoadOptions()
    if query:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=False)
        unknown = sorted(set(parsed) - set(_OPTION_NAMES))
        if unknown:
            raise DataError(text, "dataset reference", f"unknown option(s) {unknown}; use {list(_OPTION_NAMES)}")
        given = {k: v[-1] for k, v in parsed.items()}
        if "languages" in given:
            given["languages"] = tuple(code for code in given["languages"].split(",") if code)
        if "sample" in given:
            given["sample"] = _positive_int(text, "sample", given["sample"])
        if given.get("pool", "whole") not in _POOLS:
            raise DataError(
                text, "dataset reference", f"option 'pool' must be one of {list(_POOLS)}, got {given['pool']!r}"
            )
        options = replace(options, **given)
    if not options.whole_pool and options.sample is None:
        raise DataError(text, "dataset reference", "pool=sampled needs a sample (sample=N): it shrinks a sample's pool")
    if location.startswith(hub.PREFIX):
        return location, options
    return resolve_dataset_dir(location), options


def _positive_int(reference: str, name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise DataError(
            reference, "dataset reference", f"option {name!r} must be a positive whole number, got {value!r}"
        )
    return int(value)


def format_of(folder: Path) -> DatasetFormat:
    known = formats()
    for fmt in known.values():
        if fmt.detect(folder):
            return fmt
    raise DataError(folder, "folder", f"not a dataset in any known format ({', '.join(known)})")


def check_reference(reference: str | Path) -> None:
    """That a reference parses, names a folder (or a hub name) and is in a known format,
    without loading it: what a run spec is checked for before any work."""
    location, _ = parse_reference(reference)
    if not isinstance(location, str):
        format_of(location)


def format_name(reference: str | Path) -> str:
    """The name of the format a reference is read in."""
    location, _ = parse_reference(reference)
    return "hub" if isinstance(location, str) else format_of(location).name


def load_dataset(reference: str | Path, options: LoadOptions | None = None) -> RetrievalData:
    """Load a dataset; bad input fails here, before any model is loaded."""
    location, options = parse_reference(reference, options)
    if isinstance(location, str):
        data = hub.load_hub(location.removeprefix(hub.PREFIX), options)
    else:
        data = format_of(location).load(location, options)
    if options.sample is None:
        return data
    if not hasattr(data, "sample"):
        raise DataError(
            str(reference), "dataset reference", f"a {type(data).__name__} cannot be sampled: leave out 'sample'"
        )
    return data.sample(options.sample, SAMPLE_SEED, whole_pool=options.whole_pool)


def dataset_identity(reference: str | Path, options: LoadOptions | None = None) -> str:
    """Content identity: the format, the folder's name, the load options and every file below
    it (for a hub name: the name at the commit it resolves to now, or the local folder's files)."""
    location, options = parse_reference(reference, options)
    if isinstance(location, str):
        name = location.removeprefix(hub.PREFIX)
        local = Path(name)
        if local.is_dir():
            return content_hash(
                "hub", location, options.languages, options.lang, options.split, folder_hash(local), *_sampled(options)
            )
        pinned = f"{hub.PREFIX}{split_revision(name)[0]}@{hub.hub_commit(name)}"
        return content_hash("hub", pinned, options.languages, options.lang, options.split, None, *_sampled(options))
    return content_hash(
        format_of(location).name,
        location.name,
        options.languages,
        options.lang,
        options.split,
        folder_hash(location),
        *_sampled(options),
    )


def _sampled(options: LoadOptions) -> tuple:
    """The sample's part of an identity; empty when unsampled (and the pool's as older code
    sampled it, shrunk), so older identities hold."""
    if options.sample is None:
        return ()
    return (options.sample, SAMPLE_SEED) + (("whole pool",) if options.whole_pool else ())
