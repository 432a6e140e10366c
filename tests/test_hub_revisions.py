"""Hub references carry a commit: a pinned one is used as it is, an unpinned one resolves to
the commit the hub (offline: the local hub cache) has for it, that commit is part of the
dataset's identity, and one that cannot be resolved is one clear error. No hub is reachable
here, so the cache is a real hub-cache layout the test writes."""

from __future__ import annotations

import pytest
from huggingface_hub import constants

from hybridcore.data.formats.registry import dataset_identity
from hybridcore.errors import DataError
from hybridcore.hubref import resolve_revision, split_revision

FIRST, SECOND = "1" * 40, "2" * 40


@pytest.fixture()
def hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))

    def publish(commit: str) -> None:
        repo = tmp_path / "datasets--org--set"
        (repo / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (repo / "snapshots" / commit / "README.md").write_text(commit)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)

    return publish


def test_names_split_into_name_and_revision():
    assert split_revision("org/set") == ("org/set", None)
    assert split_revision(f"org/set@{FIRST}") == ("org/set", FIRST)
    assert resolve_revision("org/set", FIRST, "dataset") == FIRST  # a commit needs no hub


def test_an_unpinned_name_resolves_to_the_cached_commit_and_keys_by_it(hub_cache):
    hub_cache(FIRST)
    assert resolve_revision("org/set", None, "dataset") == FIRST
    before = dataset_identity("hf:org/set?lang=sw")
    assert before == dataset_identity(f"hf:org/set@{FIRST}?lang=sw")  # unpinned today = pinned to today's commit
    hub_cache(SECOND)  # the set changed upstream
    assert dataset_identity("hf:org/set?lang=sw") != before


def test_an_unresolvable_revision_is_one_clear_error(hub_cache):
    with pytest.raises(
        DataError, match=r"hf:org/other: revision: cannot resolve the default branch .*pin one: org/other@<commit>"
    ):
        resolve_revision("org/other", None, "dataset")
