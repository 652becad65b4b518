"""Advice after a failed login, per machine (recorded machines): the right lines, and no other platform's."""

from __future__ import annotations

from pathlib import Path

from support.recorded import windows_two_versions
from support.recorded_system import RecordedSystem

from setup_wizard.config.load import load_settings
from setup_wizard.machine.discovery import discover
from setup_wizard.machine.login_help import Kind, kind_of, login_advice, login_fix
from setup_wizard.machine.system import CommandResult, Platform
from setup_wizard.messages import login as msg

WINDOWS_WORDS = ("EDB", "winget", "Chocolatey", "Scoop", "psql.exe", "Select-String")
DEBIAN_WORDS = ("sudo -u postgres", "리눅스")
MAC_WORDS = ("Homebrew", "Postgres.app", "macOS")
PARTICLE_PLACEHOLDERS = ("을(를)", "이(가)", "은(는)", "와(과)", "(으)로")


def settings(url: str | None = None, env_file: dict[str, str] | None = None, environ: dict[str, str] | None = None,
             path: Path | None = None):  # type: ignore[no-untyped-def]
    return load_settings(url, environ or {}, env_file, path)


def text(lines: list[str]) -> str:
    joined = "\n".join(lines)
    assert not any(p in joined for p in PARTICLE_PLACEHOLDERS)
    return joined


def absent(joined: str, words: tuple[str, ...]) -> None:
    for word in words:
        assert word not in joined, word


# --- Windows ------------------------------------------------------------------------------------------------
def test_windows_edb_install_from_a_teammates_env_on_the_wrong_port() -> None:
    system = windows_two_versions()
    found = discover(system)
    env_path = Path(r"C:\Users\민수\realestate\backend\.env")
    s = settings(env_file={"POSTGRES_PASSWORD": "teammate-pw", "POSTGRES_PORT": "5432"}, path=env_path)
    lines = login_advice(system, found, s)
    joined = text(lines)
    # Two servers: 16 on 5432, 17 on 5433, said first (a right password at the wrong server).
    assert "16 버전 → 포트 5432" in lines[0] and "17 버전 → 포트 5433" in lines[0]
    assert str(env_path) in joined and "POSTGRES_PASSWORD" in joined and "팀원" in joined
    assert "설치 프로그램(EDB)" in joined and "PostgreSQL.PostgreSQL.16" in joined and "postgres 입니다" in joined
    assert r'& "C:\Program Files\PostgreSQL\16\bin\psql.exe" -U postgres -h localhost -p 5432 -d postgres' in joined
    assert "teammate-pw" not in joined
    absent(joined, DEBIAN_WORDS + MAC_WORDS + ("Chocolatey", "Scoop"))


def test_windows_winget_default_port_and_the_backend_default_password() -> None:
    system = windows_two_versions()
    found = discover(system)
    lines = login_advice(system, found, settings("postgresql://postgres:root1234@localhost:5433/real_estate"),
                         reset_available=True)
    joined = text(lines)
    assert "PostgreSQL.PostgreSQL.17" in joined and "postgres 입니다" in joined
    assert r"PostgreSQL\17\bin\psql.exe" in joined and "-p 5433" in joined
    assert msg.LOGIN_HELP_RESET in lines
    assert msg.LOGIN_HELP_FROM_DEFAULT not in lines  # the password came from --dsn, not the default
    assert msg.LOGIN_HELP_FROM_DSN in lines
    absent(joined, DEBIAN_WORDS + MAC_WORDS)


def test_windows_backend_default_password_is_named() -> None:
    system = windows_two_versions()
    lines = login_advice(system, discover(system), settings())
    assert msg.LOGIN_HELP_FROM_DEFAULT in lines


def test_windows_chocolatey_points_to_its_log() -> None:
    system = windows_two_versions()
    system.environ["CHOCOLATEYINSTALL"] = r"C:\ProgramData\chocolatey"
    system.files.add(r"C:\ProgramData\chocolatey\lib\postgresql17\postgresql17.nupkg")
    found = discover(system)
    assert kind_of(system, found.chosen) is Kind.CHOCOLATEY  # type: ignore[arg-type]
    joined = text(login_advice(system, found, settings("postgresql://postgres:x@localhost:5433/db")))
    assert "Chocolatey" in joined and "Generated password" in joined
    assert r'Select-String -Path "C:\ProgramData\chocolatey\logs\chocolatey.log"' in joined
    assert "winget" not in joined
    absent(joined, DEBIAN_WORDS + MAC_WORDS)


def test_windows_other_superuser_is_named() -> None:
    system = windows_two_versions()
    for values in system.registry.values():
        if "Super User" in values:
            values["Super User"] = "admin"
    joined = text(login_advice(system, discover(system), settings("postgresql://postgres:x@localhost:5433/db")))
    assert "관리자 계정의 이름: admin" in joined


# --- Debian / Ubuntu ------------------------------------------------------------------------------------------
def debian() -> RecordedSystem:
    listing = (b"15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/15.log\n"
               b"16  main    5433 online postgres /var/lib/postgresql/16/main /var/log/postgresql/16.log\n")
    return RecordedSystem(
        platform=Platform.LINUX, environ={"PATH": "/usr/bin", "USER": "minsu"},
        files={"/usr/bin/pg_lsclusters", "/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql",
               "/usr/lib/postgresql/16/bin/psql"},
        commands={"pg_lsclusters --no-header": CommandResult(0, listing),
                  "/usr/bin/psql --version": CommandResult(0, b"psql (PostgreSQL) 16.4")})


def test_debian_peer_login_and_the_two_clusters() -> None:
    system = debian()
    found = discover(system)
    lines = login_advice(system, found, settings(environ={"PGPASSWORD": "x"}))
    joined = text(lines)
    assert "15 버전 → 포트 5432" in lines[0] and "16 버전 → 포트 5433" in lines[0]
    assert "환경 변수 PGPASSWORD" in joined
    assert "sudo -u postgres psql -p 5432" in joined and "\\password postgres" in joined
    assert "psql -U postgres -h localhost -p 5432 -d postgres" in joined
    absent(joined, WINDOWS_WORDS + MAC_WORDS)


# --- macOS ----------------------------------------------------------------------------------------------------
def test_homebrew_superuser_is_the_mac_user() -> None:
    system = RecordedSystem(platform=Platform.MACOS,
                            environ={"PATH": "/usr/bin", "USER": "minsu", "HOME": "/Users/minsu"},
                            files={"/opt/homebrew/opt/postgresql@17/bin/psql"})
    found = discover(system)
    fix = login_fix(system, found, settings(), "password_missing")
    assert fix is not None and fix.startswith("1. ")
    joined = text([fix])
    assert "Homebrew" in joined and "macOS 사용자 이름(minsu)" in joined
    assert "/opt/homebrew/opt/postgresql@17/bin/psql -p 5432 -d postgres" in joined
    assert "POSTGRES_PASSWORD" in joined
    assert '--dsn "postgresql://postgres:비밀번호@localhost:5432/real_estate"' in joined
    assert msg.LOGIN_HELP_FROM_DEFAULT not in joined  # password_missing: no password was used
    absent(joined, WINDOWS_WORDS + DEBIAN_WORDS)


# --- remote servers and other codes ---------------------------------------------------------------------------
def test_remote_server_gets_no_local_install_advice() -> None:
    system = windows_two_versions()
    joined = text(login_advice(system, discover(system), settings("postgresql://dev:x@db.example.com:5432/db")))
    assert "db.example.com 서버는 이 컴퓨터 밖에" in joined
    assert "-h db.example.com" in joined
    absent(joined, ("EDB", "winget", "5433", "Chocolatey"))


def test_only_login_codes_get_login_help() -> None:
    system = windows_two_versions()
    assert login_fix(system, discover(system), settings(), "database_missing") is None
    assert login_fix(system, None, settings(), "auth_failed") is not None  # no discovery: still advice


def test_debian_servers_on_other_ports_get_no_peer_advice() -> None:
    system = debian()
    lines = login_advice(system, discover(system), settings("postgresql://postgres:x@127.0.0.1:6000/db"))
    joined = text(lines)
    assert "sudo -u postgres" not in joined
    assert "psql -U postgres -h 127.0.0.1 -p 6000 -d postgres" in joined
