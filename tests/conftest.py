"""Fixtures and hooks only: one real PostgreSQL server for the session (`server`), a fresh database per
test (`database`), a private per-user data folder for every run (`user_data_folder`, `backups`), and the
session-wide guards (temporary folders in RAM, no steering variables, the machine's read-only facts asked
once). The helpers tests call live in tests/support/ and are imported explicitly (see tests/README.md)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from support.databases import Database, admin_connection
from support.pgserver import TestServer, memory_folder, running_server
from support.program import PASSWORD, steers

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
# session: in-process runs must not depend on the shell that started pytest (see cli/test_cli.py's
# test_the_process_environment_does_not_reach_an_inprocess_run for why this matters today).


@pytest.fixture(scope="session", autouse=True)
def _process_environment_without_steering() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if steers(key):
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


@pytest.fixture
def database(server: TestServer) -> Iterator[Database]:
    name = "t_" + uuid.uuid4().hex[:12]
    with admin_connection(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield Database(server, name)
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def missing_database_name(server: TestServer) -> Iterator[str]:
    name = "missing_" + uuid.uuid4().hex[:10]
    yield name
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
