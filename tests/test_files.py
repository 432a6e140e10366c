"""Atomic writes: whole or nothing, and writers sharing a home never share a temporary."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from hybridcore.files import atomic_file, atomic_folder, folder_problem, write_text_atomic


def test_a_failed_write_leaves_the_old_content_and_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]

    folder = tmp_path / "result"
    with atomic_folder(folder) as tmp:
        (tmp / "summary.json").write_text("{}")
    with pytest.raises(RuntimeError), atomic_folder(folder) as tmp:
        (tmp / "summary.json").write_text("{half")
        raise RuntimeError("killed mid-write")
    assert (folder / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "result"]
    assert sorted(p.name for p in folder.iterdir()) == ["checksums.json", "summary.json"]


def test_concurrent_writers_of_one_folder_never_mix_their_files(tmp_path):
    folder = tmp_path / "shared"
    start = threading.Barrier(8)

    def write(i: int) -> None:
        start.wait()
        with atomic_folder(folder) as tmp:
            for k in range(20):
                (tmp / f"part-{k}.txt").write_text(str(i))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    contents = {p.read_text() for p in folder.glob("part-*.txt")}
    assert len(contents) == 1 and len(list(folder.iterdir())) == 21  # one writer's folder, whole
    assert folder_problem(folder) is None  # and its seal is that writer's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]


def test_the_dashboard_and_the_analysis_import_no_torch():
    code = (
        "import sys, dashboard.data, dashboard.widgets, dashboard.charts, hybridcore.analysis.comparison, "
        "hybridcore.analysis.tables, hybridcore.eval.results, db.queries, db.store\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
