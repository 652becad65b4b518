"""Finding PostgreSQL: Windows registry and folders from recordings, Linux for real."""

from __future__ import annotations

import shutil
from pathlib import Path

from recorded import recording, windows_absent_service, windows_two_versions
from recorded_system import RecordedSystem

from setup_wizard.machine.discovery import Installation, Origin, choose, discover, major_version
from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.system import Platform, ServiceState, parse_sc_query


def test_registry_two_versions_reports_both_and_prefers_17() -> None:
    found = discover(windows_two_versions())
    by_version = {i.version: i for i in found.installations}
    assert set(by_version) == {"16", "17"}
    assert by_version["17"] == Installation(
        version="17", bindir=Path(r"C:\Program Files\PostgreSQL\17\bin"), origin=Origin.REGISTRY,
        service="postgresql-x64-17", datadir=Path(r"C:\Program Files\PostgreSQL\17\data"), port=5433,
    )
    assert by_version["16"].port == 5432
    assert found.chosen == by_version["17"]
    assert found.psql_on_path is None  # the installer does not touch PATH


def test_program_files_without_registry_and_psql_on_path() -> None:
    system = windows_two_versions(registry={})
    system.environ["PATH"] = r"C:\Program Files\PostgreSQL\16\bin;C:\Windows"
    found = discover(system)
    assert sorted((i.version, i.origin, i.service) for i in found.installations) == [
        ("16", Origin.PROGRAM_FILES, None), ("17", Origin.PROGRAM_FILES, None)]
    assert found.psql_on_path == Path(r"C:\Program Files\PostgreSQL\16\bin\psql.exe")
    assert found.chosen is not None and found.chosen.version == "17"


def test_nothing_installed() -> None:
    found = discover(RecordedSystem(platform=Platform.WINDOWS, environ={"PATH": r"C:\Windows"}))
    assert found == type(found)(installations=(), chosen=None, psql_on_path=None, platform=Platform.WINDOWS)


def test_linux_and_macos_folders() -> None:
    linux = RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin"}, files={
        "/usr/lib/postgresql/15/bin/psql", "/usr/lib/postgresql/17/bin/psql", "/usr/pgsql-16/bin/psql"})
    found = discover(linux)
    assert sorted((i.version, i.origin) for i in found.installations) == [
        ("15", Origin.DEBIAN), ("16", Origin.PGDG), ("17", Origin.DEBIAN)]
    assert found.chosen is not None and found.chosen.bindir == Path("/usr/lib/postgresql/17/bin")
    mac = RecordedSystem(platform=Platform.MACOS, environ={"PATH": "/usr/bin"}, files={
        "/opt/homebrew/opt/postgresql@16/bin/psql",
        "/Applications/Postgres.app/Contents/Versions/17/bin/psql"})
    found = discover(mac)
    assert sorted((i.version, i.origin) for i in found.installations) == [
        ("16", Origin.HOMEBREW), ("17", Origin.POSTGRES_APP)]


def test_no_17_means_the_newest() -> None:
    a = Installation("15", Path("/a"), Origin.DEBIAN)
    b = Installation("16", Path("/b"), Origin.PGDG)
    assert choose([a, b]) == b
    assert choose([]) is None
    assert major_version("psql (PostgreSQL) 17.2") == "17"
    assert major_version("9.6.24") == "9.6"
    assert major_version("없음") is None


def test_sc_query_states_from_cp949_recordings() -> None:
    assert parse_sc_query(0, recording("sc_query_postgresql-x64-17_stopped.cp949")) is ServiceState.STOPPED
    assert parse_sc_query(0, recording("sc_query_postgresql-x64-16_running.cp949")) is ServiceState.RUNNING
    assert parse_sc_query(*windows_absent_service()) is ServiceState.ABSENT
    # The label may be translated; only the number and the constant name are read.
    assert parse_sc_query(0, "        상태               : 2  START_PENDING".encode("cp949")) is ServiceState.STARTING
    assert parse_sc_query(0, b"garbage") is ServiceState.UNKNOWN
    system = windows_two_versions()
    assert system.service_state("postgresql-x64-17") is ServiceState.STOPPED
    assert system.service_state("postgresql-x64-16") is ServiceState.RUNNING
    assert system.service_state("postgresql-x64-15") is ServiceState.ABSENT


def test_this_machine_for_real() -> None:
    """On this Linux machine the discovery finds the server binaries the test suite uses."""
    found = discover(RealSystem())
    if shutil.which("psql") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/psql")):
        assert found.chosen is None
        return
    assert found.chosen is not None
    assert (found.chosen.bindir / "psql").exists() or (found.chosen.bindir / "psql.exe").exists()
