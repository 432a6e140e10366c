"""Local Prefect services: a server, the process work pool, deployments, workers.

Used by the Makefile targets (``make server``, ``make deploy``, ``make workers``,
``make stop``) and by the end-to-end test, so both start things the same way. Process ids
are kept under ``.hybrid-eval/services`` so ``stop`` finds what ``start`` began.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hybridcore.config.paths import REPO_ROOT, home_dir

POOL = "hybrid-eval"
BIN = Path(sys.executable).parent


def state_dir() -> Path:
    path = home_dir() / "services"
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment(port: int) -> dict[str, str]:
    """Always name the API: without it the CLI would start a temporary server of its own."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_HOME": str(home_dir() / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "HYBRID_EVAL_REPO": str(REPO_ROOT),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def _spawn(name: str, args: list[str], env: dict[str, str]) -> int:
    log = (state_dir() / f"{name}.log").open("ab")
    # A new session, default signal dispositions: the process can be stopped with SIGTERM
    # even when started from a non-interactive shell that ignores SIGINT.
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=REPO_ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    (state_dir() / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def wait_healthy(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(
        f"Prefect server on port {port} not healthy after {timeout:.0f} s (see {state_dir() / 'server.log'})"
    )


def start_server(port: int = 4200) -> None:
    env = environment(port)
    _spawn("server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)
    wait_healthy(port)
    (state_dir() / "server.json").write_text(json.dumps({"port": port}))


def prefect(port: int, *args: str) -> subprocess.CompletedProcess:
    """Run the Prefect CLI against the server on ``port``."""
    return subprocess.run(
        [str(BIN / "prefect"), *args], env=environment(port), cwd=REPO_ROOT, check=True, capture_output=True, text=True
    )


def deploy(port: int = 4200) -> None:
    """Create the process work pool (if missing) and every deployment of prefect.yaml."""
    found = subprocess.run(
        [str(BIN / "prefect"), "work-pool", "inspect", POOL], env=environment(port), capture_output=True, text=True
    )
    if found.returncode != 0:  # no such pool yet
        prefect(port, "work-pool", "create", POOL, "--type", "process")
    prefect(port, "--no-prompt", "deploy", "--all")


def start_workers(count: int = 2, port: int = 4200, limit: int = 2, homes: list[Path] | None = None) -> None:
    """``count`` process workers, each running at most ``limit`` flow runs at once (the
    memory of two e5-small trainings on a 24 GiB machine; it also makes runs spread). With
    ``homes``, each worker acts as a machine of its own: its own ``HYBRID_EVAL_HOME`` cache
    and compute slots (``HYBRID_EVAL_MACHINE``), sharing only the store, the server and the
    artifact root (``HYBRID_EVAL_ARTIFACTS``)."""
    for i in range(1, count + 1):
        env = environment(port)
        if homes is not None:
            env.update(HYBRID_EVAL_HOME=str(homes[i - 1]), HYBRID_EVAL_MACHINE=f"machine-{i}")
        _spawn(
            f"worker-{i}",
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", f"worker-{i}", "--limit", str(limit)],
            env,
        )


def stop_all(timeout: float = 30.0) -> list[str]:
    """Stop workers first, then the server; returns what was stopped."""
    stopped = []
    pid_files = sorted(state_dir().glob("worker-*.pid")) + sorted(state_dir().glob("server.pid"))
    for pid_file in pid_files:
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink()
            continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.5)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()
        stopped.append(pid_file.stem)
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["server", "deploy", "workers", "stop"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HYBRID_EVAL_PREFECT_PORT", "4200")))
    parser.add_argument("--count", type=int, default=2)
    args = parser.parse_args(argv)
    if args.action == "server":
        start_server(args.port)
        print(f"Prefect server on http://127.0.0.1:{args.port} (log: {state_dir() / 'server.log'})")
    elif args.action == "deploy":
        deploy(args.port)
        print(prefect(args.port, "deployment", "ls").stdout)
    elif args.action == "workers":
        start_workers(args.count, args.port)
        print(f"{args.count} process workers on pool {POOL} (logs: {state_dir()})")
    else:
        print("stopped:", ", ".join(stop_all()) or "nothing")


if __name__ == "__main__":
    main()
