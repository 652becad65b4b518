"""Issue 12: hostile databases and servers. Never hang (locks, another run), never misdiagnose (full server,
role without LOGIN, target_session_attrs, read-only, no schema, history owned by another role, a role's
statement_timeout, a hot standby). Odd .env files are config/test_hostile_env.py; never a traceback (broken
pipe, closed stdout, SIGTERM) is cli/test_hostile_process.py.

Every test is bounded: --lock-timeout 1, statement limits under a second, subprocess timeouts; every second
session is closed in a finally.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.databases import Database
from support.hostile import LAST, failed, forget_last, holding, migrate, role, role_url, run_main, settings_for
from support.program import assert_no_secret

from setup_wizard.database.connect import open_database
from setup_wizard.database.limits import SessionLimits
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.migration_history import HISTORY_TABLE
from setup_wizard.database.run_lock import ADVISORY_LOCK_KEY
from setup_wizard.errors import WizardError

# --- 1. never hang on a table lock -----------------------------------------------------------------------

@pytest.mark.slow
def test_check_and_yes_stop_within_bound_naming_the_lock_holder(database: Database, tmp_path: Path) -> None:
    migrate(database)
    with holding(database, "LOCK TABLE conversation_memories IN ACCESS EXCLUSIVE MODE") as pid:
        code, out, err, seconds = run_main("check", "--json", "--lock-timeout", "1", "--dsn", database.url,
                                           cwd=tmp_path)
        assert seconds < 20
        assert code == 1
        assert f"pid {pid}" in out and "psql-holder" in out and "AccessExclusiveLock" in out
        held = [s for s in failed(out) if s["code"] == "lock_timeout"]
        assert held and not any(s["code"] == "check_crashed" for s in failed(out))
        assert f"pg_terminate_backend({pid})" in held[0]["fix"]
        assert_no_secret(out, err)

        code, out, err, seconds = run_main("--yes", "--json", "--lock-timeout", "1", "--dsn", database.url,
                                           cwd=tmp_path)
        assert seconds < 15
        assert code == 1
        step = failed(out)[0]
        assert step["code"] == "lock_timeout"
        assert f"pid {pid}" in step["detail"] and "psql-holder" in step["detail"]
        assert f"pg_terminate_backend({pid})" in step["fix"]


@pytest.mark.slow
def test_yes_migration_waiting_for_a_lock_names_the_holder(database: Database, tmp_path: Path) -> None:
    migrate(database)
    forget_last(database)
    with holding(database, "SELECT count(*) FROM conversation_memories", application="backend-tx") as pid:
        code, out, _err, seconds = run_main("--yes", "--json", "--lock-timeout", "1", "--dsn", database.url,
                                            cwd=tmp_path)
    assert seconds < 15 and code == 1
    step = failed(out)[0]
    assert step["code"] == "lock_timeout"
    assert f"pid {pid}" in step["detail"] and "backend-tx" in step["detail"]
    assert "SELECT count(*) FROM conversation_memories" in step["detail"]
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE name = %s", [LAST]) == 0


def test_every_session_is_bounded(database: Database) -> None:
    settings = settings_for(database.url)
    with open_database(settings, SessionLimits(lock_timeout=2, statement_timeout=0.3)) as conn:
        row = conn.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')").fetchone()
        assert row == ("2s", "300ms")
        with pytest.raises(WizardError) as caught:
            conn.execute("SELECT pg_sleep(2)")
        assert caught.value.code == "statement_timeout"
        assert "300ms" in caught.value.detail


# --- 2. another run in progress ------------------------------------------------------------------------------

@pytest.mark.slow
def test_another_run_is_named_and_waited_for_within_the_bound(database: Database, tmp_path: Path) -> None:
    migrate(database)
    forget_last(database)
    holder = database.connect(application_name="other-wizard")
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        code, out, _err, seconds = run_main("--yes", "--json", "--lock-timeout", "1", "--dsn", database.url,
                                           cwd=tmp_path)
        pid = holder.info.backend_pid
    finally:
        holder.close()
    assert 1 <= seconds < 12 and code == 1
    step = failed(out)[0]
    assert step["code"] == "run_in_progress"
    assert f"pid {pid}" in step["detail"] and "other-wizard" in step["detail"]
    assert f"pg_terminate_backend({pid})" in step["fix"]
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE name = %s", [LAST]) == 0


# --- 4. never misdiagnose a login ------------------------------------------------------------------------------

def test_role_connection_limit_is_server_full_not_wrong_password(database: Database, tmp_path: Path) -> None:
    with role(database, "LOGIN CONNECTION LIMIT 1") as name:
        url = role_url(database, name)
        with psycopg.connect(url):
            code, out, _err, seconds = run_main("--yes", "--json", "--dsn", url, cwd=tmp_path)
    assert code == 1 and seconds < 15
    step = failed(out)[0]
    assert step["code"] == "server_full"
    assert "CONNECTION LIMIT" in step["fix"] and "max_connections" in step["fix"]


def test_role_without_login_is_named(database: Database, tmp_path: Path) -> None:
    with role(database, "NOLOGIN") as name:
        code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", role_url(database, name), cwd=tmp_path)
    assert code == 1
    step = failed(out)[0]
    assert step["code"] == "role_cannot_login"
    assert f'ALTER ROLE "{name}" LOGIN' in step["fix"]


def test_target_session_attrs_no_server_satisfies(database: Database, tmp_path: Path) -> None:
    url = database.url + "?target_session_attrs=standby"
    code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", url, cwd=tmp_path)
    assert code == 1
    step = failed(out)[0]
    assert step["code"] == "session_attrs_unmet"
    assert "standby" in step["detail"] and "주 서버" in step["detail"]
    assert_no_secret(out)


# --- 4. odd servers after login -----------------------------------------------------------------------

@pytest.mark.parametrize("where", ["database", "role"])
def test_read_only_database_or_role(database: Database, where: str) -> None:
    with role(database, "LOGIN") as name:
        with database.connect() as conn:
            conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO {name}')
            target = f'DATABASE "{database.name}"' if where == "database" else f"ROLE {name}"
            conn.execute(f"ALTER {target} SET default_transaction_read_only = on")
        try:
            with open_database(settings_for(role_url(database, name))) as conn, \
                    pytest.raises(MigrationError) as caught:
                Runner(conn, load_migrations(), lock_timeout=1).apply()
        finally:
            with database.connect() as conn:
                conn.execute("SET default_transaction_read_only = off")
                conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO postgres')
                conn.execute(f'ALTER DATABASE "{database.name}" RESET default_transaction_read_only')
    assert caught.value.code == "database_read_only"
    assert ("ALTER DATABASE" if where == "database" else "ALTER ROLE") in caught.value.detail
    assert "RESET default_transaction_read_only" in (caught.value.fix or "")
    assert database.scalar(f"SELECT to_regclass('{HISTORY_TABLE}')") is None


@pytest.mark.parametrize("case", ["search_path_nowhere", "no_create_on_public"])
def test_no_usable_schema(database: Database, case: str) -> None:
    with role(database, "LOGIN") as name:
        with database.connect() as conn:
            conn.execute(f'GRANT CREATE ON DATABASE "{database.name}" TO {name}')
            if case == "search_path_nowhere":
                conn.execute(f"ALTER ROLE {name} SET search_path = nowhere")
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        with open_database(settings_for(role_url(database, name))) as conn, \
                pytest.raises(MigrationError) as caught:
            Runner(conn, load_migrations(), lock_timeout=1).apply()
    if case == "search_path_nowhere":
        # Nothing in its search_path: the backend (same role) would find no table, wherever it is made.
        assert caught.value.code == "search_path_empty"
        assert f"ALTER ROLE {name} RESET search_path;" in (caught.value.fix or "")
        return
    assert caught.value.code == "no_usable_schema"
    assert "public 스키마에 CREATE 권한" in caught.value.detail
    assert f'TO "{name}"' in (caught.value.fix or "")


def test_history_table_owned_by_another_role(database: Database) -> None:
    migrate(database)
    forget_last(database)
    with role(database, "LOGIN") as name:
        with database.connect() as conn:
            conn.execute(f"GRANT ALL ON SCHEMA public TO {name}")
            conn.execute(f"GRANT SELECT ON {HISTORY_TABLE} TO {name}")
        with open_database(settings_for(role_url(database, name))) as conn, \
                pytest.raises(MigrationError) as caught:
            Runner(conn, load_migrations(), lock_timeout=1).apply()
    assert caught.value.code == "history_not_writable"
    assert "postgres" in caught.value.detail
    assert f'ALTER TABLE "public".{HISTORY_TABLE} OWNER TO "{name}"' in (caught.value.fix or "")


def test_role_statement_timeout_does_not_break_migrations_and_is_named(database: Database, tmp_path: Path) -> None:
    with role(database, "LOGIN") as name:
        with database.connect() as conn:
            conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO {name}')
            conn.execute(f"GRANT ALL ON SCHEMA public TO {name}")
            conn.execute(f"ALTER ROLE {name} SET statement_timeout = '1ms'")
        try:
            settings = settings_for(role_url(database, name))
            with open_database(settings) as conn:  # the wizard's own limit beats the role's 1ms
                result = Runner(conn, load_migrations(), lock_timeout=1).apply()
            assert result.applied == len(load_migrations())
            slow = tmp_path / "sql"
            slow.mkdir()
            (slow / "0001_slow.sql").write_text("SELECT pg_sleep(3);\n", encoding="utf-8")
            with open_database(settings, SessionLimits(statement_timeout=0.1)) as conn, \
                    pytest.raises(MigrationError) as caught:
                Runner(conn, load_migrations(slow), lock_timeout=1, statement_timeout=0.3).apply()
        finally:
            with database.connect() as conn:
                conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO postgres')
    assert caught.value.code == "statement_timeout"
    assert "300ms" in caught.value.detail and "statement_timeout=1ms" in caught.value.detail
    assert "PGOPTIONS" in (caught.value.fix or "") and f'ALTER ROLE "{name}" RESET' in (caught.value.fix or "")


def test_server_wide_max_connections(database: Database, tmp_path: Path) -> None:
    """The whole server full: first the slots reserved for superusers (after the password, told by text),
    then no slot at all (before the password: SQLSTATE 53300 in the server's first reply)."""
    held: list[psycopg.Connection[Any]] = []
    with role(database, "LOGIN") as name:
        url = role_url(database, name)
        try:
            for _ in range(80):  # max_connections is 60 on the test server
                try:
                    held.append(psycopg.connect(url, connect_timeout=5))
                except psycopg.OperationalError:
                    break
            else:
                pytest.fail("the server never filled up")
            code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", url, cwd=tmp_path)
            assert code == 1 and failed(out)[0]["code"] == "server_full"
            assert "reserved" in failed(out)[0]["detail"]
            for _ in range(10):  # the reserved slots too
                try:
                    held.append(database.connect())
                except psycopg.OperationalError:
                    break
            code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
            assert code == 1 and failed(out)[0]["code"] == "server_full"
            assert_no_secret(out)
        finally:
            for conn in held:
                conn.close()


def test_write_problem_ignores_checks_own_read_only_session(database: Database) -> None:
    """check sets default_transaction_read_only in its own session; only a database's or role's setting counts."""
    from setup_wizard.database.writable import write_problem

    with database.connect() as conn:
        conn.execute("SET default_transaction_read_only = on")
        assert write_problem(conn) is None
        conn.execute("SET default_transaction_read_only = off")
        conn.execute(f'ALTER DATABASE "{database.name}" SET default_transaction_read_only = on')
    try:
        with database.connect() as conn:
            conn.execute("SET default_transaction_read_only = on")
            problem = write_problem(conn)
            assert problem is not None and problem.code == "database_read_only"
            assert "ALTER DATABASE" in problem.detail
    finally:
        with database.connect() as conn:
            conn.execute("SET default_transaction_read_only = off")
            conn.execute(f'ALTER DATABASE "{database.name}" RESET default_transaction_read_only')


# --- a hot standby (pg_basebackup -R of the test server) ---------------------------------------------------

@pytest.fixture(scope="module")
def standby(server: Any) -> Iterator[Any]:
    import shutil
    import tempfile

    from support.pgserver import TestServer, free_port

    if sys.platform == "win32":
        pytest.skip("the standby is built with POSIX tools")
    root = Path(tempfile.mkdtemp(prefix="setup_wizard_standby_"))
    os.chmod(root, 0o755)
    replica = TestServer(root=root, port=free_port(), password=server.password, bindir=server.bindir,
                         run_as=server.run_as)
    replica.socket_dir.mkdir(parents=True)
    if replica.run_as:
        shutil.chown(root, user=replica.run_as)
        shutil.chown(replica.socket_dir, user=replica.run_as)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = server.password
    try:
        subprocess.run([str(server.bindir / "pg_basebackup"), "-D", str(replica.datadir), "-R", "-X", "stream",
                        "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "--no-sync", "-c", "fast"],
                       check=True, capture_output=True, env=env, user=replica.run_as, timeout=60, cwd=root)
        replica.start()
        yield replica
    finally:
        replica.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_hot_standby_is_named(database: Database, standby: Any, tmp_path: Path) -> None:
    url = standby.url(database.name)
    deadline = time.monotonic() + 20
    while True:  # the database made after the base backup reaches the standby through WAL
        try:
            with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn, \
                    pytest.raises(MigrationError) as caught:
                Runner(conn, load_migrations(), lock_timeout=1).apply()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert caught.value.code == "server_read_only"
    code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", url, cwd=tmp_path)
    assert code == 1 and failed(out)[0]["code"] == "server_read_only"
    code, out, _err, _seconds = run_main("--yes", "--json", "--dsn", url + "?target_session_attrs=read-write",
                                         cwd=tmp_path)
    step = failed(out)[0]
    assert step["code"] == "session_attrs_unmet" and "hot standby" in step["detail"]


@pytest.mark.slow
def test_runner_says_who_runs_before_waiting(database: Database) -> None:
    lines: list[str] = []
    holder = database.connect(application_name="teammate-wizard")
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        started = time.monotonic()
        with database.connect() as conn, pytest.raises(WizardError) as caught:
            Runner(conn, load_migrations(), lock_timeout=1, progress=lines.append).apply()
        assert time.monotonic() - started < 5
        pid = holder.info.backend_pid
    finally:
        holder.close()
    assert caught.value.code == "run_in_progress"
    assert any(f"pid {pid}" in line and "teammate-wizard" in line and "1초" in line for line in lines)


def test_limits_hit_inside_someone_elses_transaction_are_still_known() -> None:
    """What cli.main's last net asks before calling an error unexpected (database/limits.known_failure)."""
    from setup_wizard.database.limits import known_failure

    lock = known_failure(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"))
    statement = known_failure(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
    assert lock is not None and lock.code == "lock_timeout"
    assert statement is not None and statement.code == "statement_timeout"
    assert known_failure(RuntimeError("boom")) is None
