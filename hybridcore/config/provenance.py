"""What a result was produced with: code version and machine."""

from __future__ import annotations

import platform
import subprocess
from functools import cache
from pathlib import Path

from hybridcore.config.paths import REPO_ROOT


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()


@cache
def code_version() -> str:
    """Git commit of the working tree, with ``-dirty`` when it has uncommitted changes, as it
    was at this process's first call: a process runs the code it loaded, so a commit made
    while an experiment runs does not relabel its later runs."""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


@cache
def cpu() -> dict[str, str]:
    """The CPU's model name and matrix instruction set (AMX, AVX512-BF16 or neither), as
    ``lscpu`` shows them: the same code runs at very different speeds on each."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"model": platform.processor() or platform.machine(), "matrix_isa": "unknown"}
    model = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
        platform.machine(),
    )
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    isa = "AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags else "none"
    return {"model": model, "matrix_isa": isa}


def environment() -> dict[str, str]:
    import torch

    machine = cpu()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": machine["model"],
        "matrix_isa": machine["matrix_isa"],
        "threads": str(torch.get_num_threads()),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }
