"""The registry of dataset formats, and loading a dataset by reference.

A reference is a name (``xquad-r``: a folder under the data directory,
``HYBRID_EVAL_DATA_DIR``) or a path, optionally followed by load options in URL query form:
``sib-200?languages=quick&split=test``, ``afriqa?languages=hau,yor``, ``xquad-r?sample=300``
(see ``LoadOptions``). One string thus names
exactly what is evaluated wherever a dataset is passed: the command line, a run spec, the
store. The first registered format whose ``detect`` accepts the folder reads it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

from hybridcore.data import afriqa, beir, flores, hub, lareqa
from hybridcore.data.dataset import SAMPLE_SEED, DatasetFormat, LoadOptions, RetrievalData
from hybridcore.errors import DataError
from hybridcore.files import content_hash, folder_hash
from hybridcore.run.paths import resolve_dataset_dir

FORMATS: dict[str, DatasetFormat] = {}
_OPTION_NAMES = ("languages", "lang", "split", "sample")


def register(fmt: DatasetFormat) -> DatasetFormat:
    """Make a format known (again under the same name: replaced)."""
    FORMATS[fmt.name] = fmt
    return fmt


register(beir.FORMAT)
register(afriqa.FORMAT)
register(flores.FORMAT)
register(lareqa.FORMAT)


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
        options = replace(options, **given)
    if location.startswith(hub.PREFIX):
        return location, options
    return resolve_dataset_dir(location), options


def _positive_int(reference: str, name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise DataError(reference, "dataset reference", f"option {name!r} must be a positive whole number, got {value!r}")
    return int(value)


def format_of(folder: Path) -> DatasetFormat:
    for fmt in FORMATS.values():
        if fmt.detect(folder):
            return fmt
    raise DataError(folder, "folder", f"not a dataset in any known format ({', '.join(FORMATS)})")


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
        raise DataError(str(reference), "dataset reference", f"a {type(data).__name__} cannot be sampled: leave out 'sample'")
    return data.sample(options.sample, SAMPLE_SEED)


def dataset_identity(reference: str | Path, options: LoadOptions | None = None) -> str:
    """Content identity: the format, the folder's name, the load options and every file below
    it (for a hub name: the name, whose revision the hub pins, or the local folder's files)."""
    location, options = parse_reference(reference, options)
    if isinstance(location, str):
        local = Path(location.removeprefix(hub.PREFIX))
        return content_hash("hub", location, options.languages, options.lang, options.split,
                            folder_hash(local) if local.is_dir() else None, *_sampled(options))
    return content_hash(format_of(location).name, location.name, options.languages, options.lang, options.split,
                        folder_hash(location), *_sampled(options))


def _sampled(options: LoadOptions) -> tuple:
    """The sample's part of an identity; empty when unsampled, so older identities hold."""
    return () if options.sample is None else (options.sample, SAMPLE_SEED)
