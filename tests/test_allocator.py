"""The allocator setting applies once on glibc and leaves other C libraries alone."""

from __future__ import annotations

import platform

import pytest

from hybridcore.model import allocator


def test_set_once_on_glibc(monkeypatch):
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    monkeypatch.setattr(allocator, "_applied", None)
    assert allocator.keep_freed_memory() is True
    assert allocator.keep_freed_memory() is True  # once: the second call reads what the first did


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert allocator.keep_freed_memory() is False
