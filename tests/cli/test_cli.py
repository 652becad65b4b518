"""The program through its door, cli.main (in-process): exit codes, JSON, Korean errors, no secrets.

A few runs stay real processes, for what only a process shows: the first --yes run (python -m
setup_wizard end to end), --help importing nothing heavy, and the installed package shipping its SQL.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from support.databases import Database
from support.dbstate import add_sample_data, hand_migrate, snapshot
from support.pgserver import free_port
from support.program import PASSWORD, Result, assert_no_secret, clean_environ, run_cli, run_inprocess

from setup_wizard.database.migration_files import load_migrations


def write_env(folder: Path, url: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    (folder / "backend").mkdir(exist_ok=True)
    path = folder / "backend" / ".env"
    text = newline.join([
        "# backend settings",
        "SECRET_KEY=not-for-the-wizard",
        f"DATABASE_URL={url.replace('postgresql://', 'postgresql+psycopg://')}",
        "MONGODB_URL=mongodb://localhost:27017",
        "",
    ])
    raw = text.encode(encoding)
    if encoding == "utf-16-le":
        raw = codecs.BOM_UTF16_LE + raw
    path.write_bytes(raw)
    return path


def json_of(proc: Result) -> dict:
    document = proc.json()  # exactly one document, nothing else on stdout
    assert set(document) >= {"ok", "steps"}
    assert document["ok"] is (proc.code == 0)
    for step in document["steps"]:
        assert set(step) == {"id", "status", "code", "title", "detail", "fix"}
        assert step["status"] in ("ok", "warn", "fail", "skip", "info")
    return document


def codes(document: dict) -> list[str]:
    """The codes of failed steps (warnings about this machine's installation vary)."""
    return [s["code"] for s in document["steps"] if s["code"] and s["status"] == "fail"]


@pytest.mark.slow
def test_yes_from_backend_env_then_reruns(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=3)
    write_env(tmp_path, database.url)
    first = run_cli("--yes", cwd=tmp_path)  # a real process once: python -m setup_wizard end to end
    assert first.returncode == 0, first.stderr + first.stdout
    assert "검증 결과" in first.stdout and "conversation_memories with session" in first.stdout
    assert "데이터베이스가 준비되었습니다" in first.stdout
    with database.connect() as conn:
        before = snapshot(conn)
    assert before["memories"] and before["chat_sessions"]
    for _ in range(3):
        again = run_inprocess("--yes", "--json", cwd=tmp_path)
        document = json_of(again)
        assert again.code == 0
        assert [m["action"] for m in document["migrations"]] == ["skipped"] * len(load_migrations())
        rows = {r["table_name"]: r for r in document["verification"]}
        assert rows["chat_sessions"] == {"table_name": "chat_sessions", "total_rows": 2, "unique_users": 2,
                                         "ok": True}
        assert rows["conversation_memories with session"]["total_rows"] == 6
        assert_no_secret(again.stdout, again.stderr)
    with database.connect() as conn:
        assert snapshot(conn) == before
    assert_no_secret(first.stdout, first.stderr)


@pytest.mark.parametrize(("encoding", "newline"), [("utf-16-le", "\r\n"), ("utf-8-sig", "\r\n")])
def test_windows_written_env_files(database: Database, tmp_path: Path, encoding: str, newline: str) -> None:
    write_env(tmp_path, database.url, encoding, newline)
    proc = run_inprocess("--yes", "--json", cwd=tmp_path)
    assert proc.code == 0, proc.stdout
    assert json_of(proc)["ok"] is True


def test_dsn_overrides_env_file_and_hard_passwords_work(database: Database, tmp_path: Path) -> None:
    write_env(tmp_path, database.server.url(database.name, password="wrong"))
    proc = run_inprocess("--yes", "--json", "--dsn", database.url.replace("postgresql://", "postgres://"),
                   cwd=tmp_path)
    assert proc.code == 0, proc.stdout
    assert_no_secret(proc.stdout, proc.stderr)


def test_separate_postgres_keys(database: Database, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={database.server.port}\nPOSTGRES_USER=postgres\n"
        f"POSTGRES_PASSWORD='{PASSWORD}'\nPOSTGRES_DB={database.name}\n", encoding="utf-8")
    proc = run_inprocess("--yes", "--json", cwd=tmp_path)
    assert proc.code == 0, proc.stdout


@pytest.mark.slow
def test_missing_database_is_created_under_yes(server, missing_database_name: str, tmp_path: Path) -> None:
    url = server.url(missing_database_name)
    proc = run_inprocess("--yes", "--json", "--dsn", url, cwd=tmp_path)
    assert proc.code == 0, proc.stdout
    document = json_of(proc)
    database_step = next(s for s in document["steps"] if s["id"] == "database")
    assert "만들었습니다" in database_step["detail"]


def test_check_is_read_only_and_reports_pending(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        before = snapshot(conn)
    assert before["memories"] and before["users"]
    write_env(tmp_path, database.url)
    env_before = (tmp_path / "backend" / ".env").read_bytes()
    proc = run_inprocess("check", "--json", cwd=tmp_path)
    assert proc.code == 1
    assert "migrations_pending" in codes(json_of(proc))
    with database.connect() as conn:
        assert snapshot(conn) == before
    assert (tmp_path / "backend" / ".env").read_bytes() == env_before
    assert run_inprocess("--yes", cwd=tmp_path).code == 0
    ok = run_inprocess("check", cwd=tmp_path)
    assert ok.code == 0, ok.stdout
    document = json_of(run_inprocess("check", "--json", cwd=tmp_path))
    warnings = {s["code"] for s in document["steps"] if s["status"] == "warn"}
    # The test server may be older than 17, and the .env written here is readable by others (warnings
    # only); nothing else may be wrong.
    assert warnings <= {"server_version_not_17", "env_file_readable"}
    assert ("문제가 없습니다" in ok.stdout) is (not warnings)


def test_check_does_not_create_a_missing_database(server, missing_database_name: str, tmp_path: Path) -> None:
    proc = run_inprocess("check", "--json", "--dsn", server.url(missing_database_name), cwd=tmp_path)
    assert proc.code == 1
    document = json_of(proc)
    assert [s["code"] for s in document["steps"] if s["status"] == "fail"] == ["database_missing"]
    with psycopg.connect(**server.conninfo("postgres")) as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [missing_database_name]).fetchone()
    assert row == (0,)


def test_hand_migrated_database_through_the_cli(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
    proc = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    document = json_of(proc)
    assert proc.code == 0
    assert {m["name"]: m["action"] for m in document["migrations"]}["0003_chat_sessions.sql"] == "baseline"
    # The memory that never had a session is a warning with its fix, not a failure.
    verification = next(s for s in document["steps"] if s["id"] == "verification")
    assert verification["status"] == "warn" and verification["fix"]


def test_failing_migration_is_explained_and_nothing_changes(database: Database, tmp_path: Path) -> None:
    # A users table the backend did not make: its id is text, so chat_sessions' foreign key fails.
    with database.connect() as conn:
        conn.execute("CREATE TABLE users (id text PRIMARY KEY, email text)")
    proc = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert proc.code == 1
    document = json_of(proc)
    failed = next(s for s in document["steps"] if s["status"] == "fail")
    assert failed["code"] == "migration_failed"
    assert "SQLSTATE 42804" in failed["detail"] and "바뀌지 않았습니다" in failed["detail"]
    assert database.scalar("SELECT to_regclass('chat_sessions')") is None
    human = run_inprocess("--yes", "--dsn", database.url, cwd=tmp_path)
    assert human.code == 1 and "Traceback" not in human.stderr + human.stdout
    assert "해결 방법" in human.stdout


def test_recreate_needs_confirmation(database: Database, tmp_path: Path) -> None:
    proc = run_inprocess("--recreate", "--dsn", database.url, cwd=tmp_path)
    assert proc.code == 2
    assert "--yes" in proc.stderr
    assert database.scalar("SELECT to_regclass('chat_sessions')") is None


def test_recreate_with_yes_reports_backup_and_restore(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
    assert run_inprocess("--yes", "--dsn", database.url, cwd=tmp_path).code == 0
    proc = run_inprocess("--yes", "--recreate", "--json", "--dsn", database.url, cwd=tmp_path)
    assert proc.code == 0, proc.stdout
    step = next(s for s in json_of(proc)["steps"] if s["id"] == "recreate")
    assert "setup_wizard_backup_" in step["detail"]
    assert "INSERT INTO chat_sessions" in step["fix"]


def test_connection_failures_are_classified(database: Database, tmp_path: Path) -> None:
    port = free_port()
    refused = run_inprocess("--yes", "--json", "--dsn", f"postgresql://postgres:x@127.0.0.1:{port}/db", cwd=tmp_path)
    assert refused.code == 1 and codes(json_of(refused)) == ["server_not_running"]
    wrong = run_inprocess("--yes", "--json", "--dsn", database.server.url(database.name, password="wrong"),
                    cwd=tmp_path)
    assert wrong.code == 1 and codes(json_of(wrong)) == ["auth_failed"]
    nopw = run_inprocess("--yes", "--json", "--dsn",
                   f"postgresql://postgres@127.0.0.1:{database.server.port}/{database.name}", cwd=tmp_path)
    assert nopw.code == 1 and codes(json_of(nopw)) == ["password_missing"]
    fix = next(s for s in json_of(nopw)["steps"] if s["code"])["fix"]
    assert "POSTGRES_PASSWORD" in fix and "--dsn" in fix
    unresolved = run_inprocess("--yes", "--json", "--dsn", "postgresql://u:p@no-such-host.invalid/db",
                         cwd=tmp_path)
    assert unresolved.code == 1 and codes(json_of(unresolved)) == ["host_unreachable"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--bogus"], "usage_invalid"),
        (["check", "--recreate"], "usage_invalid"),
        (["--lock-timeout", "99", "--yes"], "usage_invalid"),
        (["--yes", "--dsn", "postgresql://postgres:p@ss@localhost/db"], "dsn_invalid"),
        (["--yes", "--dsn", "postgresql://localhost:abc/db"], "dsn_invalid"),
        (["--yes", "--dsn", "nonsense"], "dsn_invalid"),
        (["--yes", "--env-file", "does-not-exist.env"], "env_file_invalid"),
        (["--yes", "--env-file", "."], "env_file_invalid"),
    ],
)
def test_bad_input_exits_2_in_korean(tmp_path: Path, args: list[str], code: str) -> None:
    proc = run_inprocess(*args, cwd=tmp_path)
    assert proc.code == 2
    assert "Traceback" not in proc.stderr
    assert any("\uac00" <= ch <= "\ud7a3" for ch in proc.stderr)  # Hangul in the explanation
    assert proc.stdout == ""
    as_json = run_inprocess(*args, "--json", cwd=tmp_path)
    assert as_json.code == 2
    assert codes(json_of(as_json)) == [code]


def test_unreadable_env_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / ".env").write_bytes(b"\x00\x01garbage\x00\xff\x80")
    proc = run_inprocess("--yes", "--json", cwd=tmp_path)
    assert proc.code == 2
    assert codes(json_of(proc)) == ["env_file_invalid"]


def test_no_terminal_and_no_yes_never_waits(tmp_path: Path) -> None:
    proc = run_inprocess(cwd=tmp_path)
    assert proc.code == 2
    assert "--yes" in proc.stderr and "check" in proc.stderr


def test_help_is_korean_and_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['setup_wizard', '--help']\n"
        "try:\n    runpy.run_module('setup_wizard', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = [m for m in ('psycopg', 'rich', 'questionary', 'prompt_toolkit', 'dotenv') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env=clean_environ(), encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    assert "사용법" in proc.stdout and "옵션" in proc.stdout
    assert "HEAVY []" in proc.stdout


def test_installed_package_ships_the_sql_files(tmp_path: Path) -> None:
    # -I: ignore the current folder and PYTHON* variables, so the installed package is imported.
    proc = subprocess.run(
        [sys.executable, "-I", "-c",
         "from setup_wizard.database.migration_files import sql_dir; print(sql_dir())"],
        cwd=tmp_path, capture_output=True, text=True, env=clean_environ(),
    )
    assert proc.returncode == 0, proc.stderr
    shipped = Path(proc.stdout.strip())
    repo_sql = Path(__file__).resolve().parents[2] / "sql"
    names = sorted(p.name for p in repo_sql.glob("*.sql"))
    assert names and sorted(p.name for p in shipped.glob("*.sql")) == names
    for name in names:
        assert (shipped / name).read_bytes() == (repo_sql / name).read_bytes()


def test_password_never_in_output_even_on_failure(database: Database, tmp_path: Path) -> None:
    missing = database.server.url("no_such_db_" + quote("x"), password=PASSWORD)
    refused = f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/db"
    # Each run fails for its own reason, said in Korean: a broken program cannot pass by printing nothing.
    human_check = run_inprocess("check", "--dsn", missing, cwd=tmp_path)
    assert human_check.code == 1
    assert "오류 코드: database_missing" in human_check.stdout and "문제 1개" in human_check.stdout
    json_check = run_inprocess("check", "--json", "--dsn", missing, cwd=tmp_path)
    assert json_check.code == 1 and codes(json_of(json_check)) == ["database_missing"]
    human_yes = run_inprocess("--yes", "-v", "--dsn", refused, cwd=tmp_path)
    assert human_yes.code == 1 and "오류 코드: server_not_running" in human_yes.stdout
    assert "해결 방법" in human_yes.stdout and "127.0.0.1" in human_yes.stdout
    json_yes = run_inprocess("--yes", "--json", "--dsn", refused, cwd=tmp_path)
    assert json_yes.code == 1 and codes(json_of(json_yes)) == ["server_not_running"]
    for proc in (human_check, json_check, human_yes, json_yes):
        assert "Traceback" not in proc.stdout + proc.stderr
        assert_no_secret(proc.stdout, proc.stderr)


def test_the_process_environment_does_not_reach_an_inprocess_run(database: Database, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process door is only honest if env.environ is all the program sees."""
    given = clean_environ()
    expected = [run_inprocess("check", *json_flag, "--dsn", database.url, cwd=tmp_path, env=given)
                for json_flag in ([], ["--json"])]
    assert [r.code for r in expected] == [1, 1]  # the fresh database's pending migrations
    leaking = {"PGSSLMODE": "require", "PGTARGETSESSIONATTRS": "standby", "PGSERVICE": "nowhere",
               "PGOPTIONS": "-c statement_timeout=1", "FORCE_COLOR": "1"}
    for key, value in leaking.items():
        monkeypatch.setenv(key, value)
    seen = [run_inprocess("check", *json_flag, "--dsn", database.url, cwd=tmp_path, env=given)
            for json_flag in ([], ["--json"])]
    assert [r.code for r in seen] == [1, 1]
    assert seen[1].json() == expected[1].json()
    assert seen[0].stdout == expected[0].stdout


def test_the_settings_environment_reaches_libpq_and_nothing_else_stays(database: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq reads PGTZ itself; it comes from the environment the settings were loaded from, and the
    process's own variables are back afterwards, even when the connection fails."""
    from setup_wizard.config.libpq_env import libpq_environment
    from setup_wizard.config.load import load_settings
    from setup_wizard.database.connect import connect

    monkeypatch.setenv("PGTZ", "America/New_York")
    before = dict(os.environ)
    settings = load_settings(database.url, {"PGTZ": "Asia/Seoul"}, None, None)
    with connect(settings) as conn:
        row = conn.execute("SELECT current_setting('TimeZone')").fetchone()
    assert row is not None and row[0] == "Asia/Seoul"
    assert dict(os.environ) == before
    with pytest.raises(RuntimeError), libpq_environment({"PGSERVICE": "x"}):
        assert os.environ["PGSERVICE"] == "x" and "PGTZ" not in os.environ
        raise RuntimeError
    assert dict(os.environ) == before
