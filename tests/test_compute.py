"""Compute slots: heavy steps on one machine queue; the slot count is a setting."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from hybridcore.run import compute
from hybridcore.run.compute import compute_slot


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(compute, "POLL_SECONDS", 0.05)


def _overlap(n_jobs: int) -> int:
    """Most jobs seen holding a slot at the same time."""
    lock, active, peak = threading.Lock(), [0], [0]

    def job():
        with compute_slot():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.3)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(n_jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return peak[0]


def test_one_slot_serialises_heavy_steps():
    assert _overlap(3) == 1


def test_the_slot_count_is_a_setting(monkeypatch):
    monkeypatch.setenv("HYBRID_EVAL_COMPUTE_SLOTS", "2")
    assert _overlap(4) == 2
    monkeypatch.setenv("HYBRID_EVAL_COMPUTE_SLOTS", "zero")
    with pytest.raises(ValueError, match="HYBRID_EVAL_COMPUTE_SLOTS"):
        compute.slot_count()


def _holder(seconds: float) -> subprocess.Popen:
    """Another process holding the slot for ``seconds``, once it has it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom hybridcore.run.compute import compute_slot\n"
            f"with compute_slot():\n    print('held', flush=True)\n    time.sleep({seconds})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_waiter_is_told_and_gets_the_slot_when_another_process_lets_go():
    holder = _holder(1.0)
    told = []
    with compute_slot(on_wait=lambda: told.append(True)) as waited:
        assert told == [True] and waited > 0.3
    holder.wait(timeout=10)


def test_a_killed_holder_frees_its_slot():
    holder = _holder(60)
    holder.kill()
    holder.wait(timeout=10)
    with compute_slot() as waited:
        assert waited < 5


def test_a_bar_not_shown_reports_each_redraw_to_a_listener_as_one_line():
    """What a flow's task hears while it encodes or trains (``tasks.compute.machine_slot``)."""
    from hybridcore.progress import progress_bar, reporting_to

    assert progress_bar(5, "quiet", "tok", enabled=False).disable  # no listener: silent
    heard: list[str] = []
    with reporting_to(heard.append):
        bar = progress_bar(5, "encode", "tok", enabled=False)
        bar.update(5)
        bar.close()
    assert heard[0].startswith("encode:   0%") and heard[-1].startswith("encode: 100%")
    assert all("\r" not in line and "\n" not in line for line in heard)
    assert progress_bar(5, "quiet", "tok", enabled=False).disable  # the listener is gone with its block
