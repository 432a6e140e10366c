"""The allocator setting applies once on glibc and leaves other C libraries alone."""

from __future__ import annotations

import platform

import pytest
import torch

from hybridcore.model import allocator


def test_set_once_on_glibc(monkeypatch):
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    monkeypatch.setattr(allocator, "_applied", None)
    assert allocator.keep_freed_memory(torch.device("cpu")) is True
    assert allocator.keep_freed_memory(torch.device("cpu")) is True  # once: the second reads the first


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert allocator.keep_freed_memory(torch.device("cpu")) is False


def test_only_the_cpu_is_set(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    assert allocator.keep_freed_memory(torch.device("cuda")) is False
    assert allocator._applied is None  # nothing was set, nor remembered
