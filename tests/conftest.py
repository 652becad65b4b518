"""Fixtures: one real PostgreSQL server for the session, a fresh database per test, and two doors into
the program: `run_inprocess` (cli.main with a test Environment, the default) and `run_cli` (a real
process, for what needs one: start-up imports, the installed package, the console's code page)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import TestServer, memory_folder, running_server

# A recognisable password: tests search every output for it.
PASSWORD = "s3cr:et@#/?한글 pw"


_TEMPDIR_BEFORE = pytest.StashKey["str | None"]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders in RAM where there is some (Linux /dev/shm), for the test servers' data
    folders, tmp_path (pytest asks tempfile for its root) and the clusters tests create. CREATE
    DATABASE copies a 7 MB template per test: on this machine's busy disk that took 0.4-1 s even with
    fsync=off, in RAM 0.03 s; .env files, git repositories and initdb gain the same way. The
    benchmarks, which do not load this file, keep the disk as a real server has."""
    folder = memory_folder()
    if folder is not None and not os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        config.stash[_TEMPDIR_BEFORE] = tempfile.tempdir
        tempfile.tempdir = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    if _TEMPDIR_BEFORE in config.stash:
        tempfile.tempdir = config.stash[_TEMPDIR_BEFORE]


# Read-only questions about this machine whose answer cannot change during a test session (none of
# the tests' servers is a Debian cluster or a system service). Each is asked for real once per session,
# then replayed: about 0.25 s per check/--yes run (psql and pg_lsclusters are Perl wrappers on Debian),
# 60-odd runs a session.
_MACHINE_FACTS = (("psql", "--version"), ("pg_lsclusters", "--no-header"), ("systemctl", "show"))


@pytest.fixture(scope="session", autouse=True)
def _machine_facts_asked_once() -> Iterator[None]:
    from setup_wizard.machine.real_system import RealSystem
    from setup_wizard.machine.system import CommandResult

    real_run = RealSystem.run
    answers: dict[tuple[object, ...], CommandResult] = {}

    def run(self: RealSystem, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None, **more: Any) -> CommandResult:
        words = [Path(argv[0]).name, *argv[1:]] if argv else []
        if more or not any(words[:len(fact)] == list(fact) for fact in _MACHINE_FACTS):
            return real_run(self, argv, timeout, user, env, **more)
        key = (tuple(argv), user, (env if env is not None else self.environ).get("PATH"))
        if key not in answers:
            answers[key] = real_run(self, argv, timeout, user, env)
        return answers[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RealSystem, "run", run)
        yield


# What clean_environ() leaves out of a child's environment, also out of this process's own for the
# session: in-process runs must not depend on the shell that started pytest (see test_cli's
# test_the_process_environment_does_not_reach_an_inprocess_run for why this matters today).
_STEERING = ("DATABASE_URL", "NO_COLOR", "FORCE_COLOR")


@pytest.fixture(scope="session", autouse=True)
def _process_environment_without_steering() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith(("PG", "POSTGRES_")) or key in _STEERING:
                patch.delenv(key)
        yield


@pytest.fixture(autouse=True)
def user_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The per-user data folder (where .env backups go) of every run a test starts, in-process or not:
    a fresh temporary one, never the real home's. Outside tmp_path, which some tests list. Not through
    the `monkeypatch` fixture: that would undo a test's own monkeypatching only after its `database`
    fixture's teardown (which must not see, say, the test's PGSERVICE)."""
    folder = tmp_path_factory.mktemp("userdata")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture
def backups(user_data_folder: Path) -> Any:
    """Where a save called directly keeps its backups: the test's per-user data folder."""
    from setup_wizard.config.backups import Backups

    return Backups(user_data_folder / "setup_wizard" / "backups")


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    with running_server(PASSWORD) as srv:
        yield srv


@dataclass
class Database:
    server: TestServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.server.conninfo(self.name), autocommit=True, **kwargs)  # type: ignore[arg-type]

    def scalar(self, query: str, params: Any = None) -> Any:
        with self.connect() as conn:
            row = conn.execute(query, params).fetchone()
            return row[0] if row else None


def _admin(server: TestServer) -> psycopg.Connection[Any]:
    return psycopg.connect(**server.conninfo("postgres"), autocommit=True)  # type: ignore[arg-type]


@pytest.fixture
def database(server: TestServer) -> Iterator[Database]:
    name = "t_" + uuid.uuid4().hex[:12]
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield Database(server, name)
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def missing_database_name(server: TestServer) -> Iterator[str]:
    name = "missing_" + uuid.uuid4().hex[:10]
    yield name
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clean_environ(**extra: str) -> dict[str, str]:
    """The process environment without anything that would steer libpq or the wizard."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PG", "POSTGRES_")) and k not in _STEERING
    }
    # A refused port must never create a per-user server in the real home (tests/test_user_server.py
    # removes this to test that route).
    env.setdefault("SETUP_WIZARD_NO_USER_SERVER", "1")
    env.update(extra)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    """The real program, as a newcomer runs it: python -m setup_wizard ..."""
    return subprocess.run(
        [sys.executable, "-m", "setup_wizard", *args],
        cwd=cwd,
        env=env if env is not None else clean_environ(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


@dataclass(frozen=True)
class Result:
    """What one run of the program left: its exit code and both streams."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The one JSON document on stdout (json.loads fails on anything before or after it)."""
        return json.loads(self.stdout)


def run_inprocess(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    """cli.main(argv, Environment) with StringIO streams: the program's door without a process.

    The environment is a plain dict (clean_environ() unless given) and the folder is cwd; the process's
    own streams and os.environ must stay untouched, so anything cli.main writes to sys.stdout or
    sys.stderr, or changes in os.environ, fails the test that ran it.
    """
    from setup_wizard import cli
    from setup_wizard.environment import Environment

    out, err, leaked = io.StringIO(), io.StringIO(), io.StringIO()
    environ_before = dict(os.environ)
    env_obj = Environment(stdin=io.StringIO(stdin), stdout=out, stderr=err,
                          environ=dict(env if env is not None else clean_environ()), cwd=cwd)
    with contextlib.redirect_stdout(leaked), contextlib.redirect_stderr(leaked):
        code = cli.main(list(args), env_obj)
    assert leaked.getvalue() == "", f"cli.main wrote to sys.stdout/sys.stderr: {leaked.getvalue()!r}"
    assert dict(os.environ) == environ_before, "cli.main changed os.environ"
    return Result(code, out.getvalue(), err.getvalue())


def assert_no_secret(*texts: str) -> None:
    from urllib.parse import quote

    for text in texts:
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text


def backend_form(url: str) -> str:
    """The URL as the backend's .env holds it: SQLAlchemy's postgresql+psycopg:// scheme."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)
