"""Issue 12: hostile conditions. Never hang (locks, another run, odd files), never misdiagnose (full server,
role without LOGIN, target_session_attrs, read-only, no schema, history owned by another role, a role's
statement_timeout), never a traceback (broken pipe, closed stdout, SIGTERM).

Every test is bounded: --lock-timeout 1, statement limits under a second, subprocess timeouts; every second
session is closed in a finally.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.databases import Database
from support.program import assert_no_secret, clean_environ, run_cli

from setup_wizard import cli
from setup_wizard.config.load import load_settings
from setup_wizard.database.connect import open_database
from setup_wizard.database.limits import SessionLimits
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.migration_history import HISTORY_TABLE
from setup_wizard.database.run_lock import ADVISORY_LOCK_KEY
from setup_wizard.environment import Environment
from setup_wizard.errors import WizardError

LAST = "0003_chat_sessions.sql"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /dev/zero, bash and SIGTERM are POSIX")


# --- helpers -----------------------------------------------------------------------------------------------

def run_main(*args: str, cwd: Path, environ: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    """cli.main in this process (cheap); returns (code, stdout, stderr, seconds)."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err,
                      environ=environ if environ is not None else clean_environ(), cwd=cwd)
    started = time.monotonic()
    code = cli.main(list(args), env)
    return code, out.getvalue(), err.getvalue(), time.monotonic() - started


def failed(stdout: str) -> list[dict[str, Any]]:
    return [s for s in json.loads(stdout)["steps"] if s["status"] == "fail"]


def migrate(db: Database) -> None:
    with db.connect() as conn:
        Runner(conn, load_migrations()).apply()


def forget_last(db: Database) -> None:
    """Make the (idempotent) last file pending again."""
    with db.connect() as conn:
        conn.execute(f"DELETE FROM {HISTORY_TABLE} WHERE name = %s", [LAST])


@contextmanager
def holding(db: Database, *statements: str, application: str = "psql-holder") -> Iterator[int]:
    """A second session in an open transaction that ran `statements`; yields its pid."""
    conn = db.connect(application_name=application)
    conn.autocommit = False
    try:
        for statement in statements:
            conn.execute(statement)
        yield conn.info.backend_pid
    finally:
        conn.rollback()
        conn.close()


@contextmanager
def role(db: Database, options: str, password: str = "pw-hostile") -> Iterator[str]:
    name = "r_" + uuid.uuid4().hex[:10]
    with db.connect() as conn:
        conn.execute(f"CREATE ROLE {name} {options} PASSWORD '{password}'")
        conn.execute(f'GRANT CONNECT ON DATABASE "{db.name}" TO {name}')
    try:
        yield name
    finally:
        with db.connect() as conn:
            conn.execute("SET default_transaction_read_only = off")
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name])
            conn.execute(f"DROP OWNED BY {name} CASCADE")
        with psycopg.connect(**db.server.conninfo("postgres"), autocommit=True) as admin:  # type: ignore[arg-type]
            admin.execute(f"DROP ROLE IF EXISTS {name}")


def role_url(db: Database, name: str, password: str = "pw-hostile", query: str = "") -> str:
    return f"postgresql://{name}:{password}@127.0.0.1:{db.server.port}/{db.name}{query}"


def settings_for(url: str) -> Any:
    return load_settings(url, {}, None, None)


# --- 1. never hang on a table lock -----------------------------------------------------------------------

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


# --- 3. odd .env files ------------------------------------------------------------------------------------

@posix_only
def test_fifo_env_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    proc = run_cli("--yes", "--json", "--env-file", str(fifo), cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    step = failed(proc.stdout)[0]
    assert step["code"] == "env_file_invalid" and "FIFO" in step["detail"]


@pytest.mark.parametrize("kind", ["dev-zero", "large"])
def test_device_and_huge_env_files_are_refused(tmp_path: Path, kind: str) -> None:
    if kind == "dev-zero":
        if sys.platform == "win32":
            pytest.skip("no /dev/zero")
        path = Path("/dev/zero")
    else:
        path = tmp_path / "huge.env"
        with path.open("wb") as handle:  # sparse: 50 MB without writing 50 MB
            handle.truncate(50 * 1024 * 1024)
    code, out, _err, seconds = run_main("--yes", "--json", "--env-file", str(path), cwd=tmp_path)
    assert code == 2 and seconds < 5
    step = failed(out)[0]
    assert step["code"] == "env_file_invalid"
    assert ("장치" in step["detail"]) if kind == "dev-zero" else ("너무 큽니다" in step["detail"])


@posix_only
def test_fifo_as_backend_env_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    os.mkfifo(tmp_path / "backend" / ".env")
    proc = run_cli("--yes", "--json", cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    assert failed(proc.stdout)[0]["code"] == "env_file_invalid"


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


# --- 6. never a traceback ----------------------------------------------------------------------------------

def _wizard(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "setup_wizard", *args], env=clean_environ(),
                            stdin=subprocess.DEVNULL, **kwargs)


def test_reader_gone_ends_quietly_with_the_results_code(database: Database, tmp_path: Path) -> None:
    proc = _wizard("check", "--dsn", database.url, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: every write to stdout now fails with EPIPE
    err = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert code == 1  # pending migrations: check fails, as it would with a reader


@posix_only
def test_head_one_in_a_shell_pipeline(database: Database, tmp_path: Path) -> None:
    script = f'"{sys.executable}" -m setup_wizard check --dsn "$DSN" | head -1; echo "code=${{PIPESTATUS[0]}}" >&2'
    proc = subprocess.run(["bash", "-c", script], env=clean_environ(DSN=database.url), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert "code=1" in proc.stderr
    assert len(proc.stdout.splitlines()) <= 1


@posix_only
def test_closed_stdout_ends_quietly(database: Database, tmp_path: Path) -> None:
    script = f'"{sys.executable}" -m setup_wizard check --dsn "$DSN" >&-; echo "code=$?" >&2'
    proc = subprocess.run(["bash", "-c", script], env=clean_environ(DSN=database.url), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr
    assert "code=1" in proc.stderr


@posix_only
def test_sigterm_mid_migration_rolls_back_and_exits_143(database: Database, tmp_path: Path) -> None:
    migrate(database)
    forget_last(database)
    with holding(database, "LOCK TABLE conversation_memories IN ACCESS EXCLUSIVE MODE"):
        proc = _wizard("--yes", "--lock-timeout", "30", "--dsn", database.url, cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # until it waits for the lock inside its transaction
                waiting = database.scalar(
                    """SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = 'setup_wizard' AND wait_event_type = 'Lock'""")
                if waiting:
                    break
                time.sleep(0.1)
            assert waiting, "the wizard never reached the lock wait"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 143
    assert "SIGTERM" in text and "Traceback" not in text
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE name = %s", [LAST]) == 0
    deadline = time.monotonic() + 5
    while database.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'setup_wizard'") \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert database.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'setup_wizard'") == 0
    assert out is not None


# --- 5. saving the .env safely ------------------------------------------------------------------------------

def test_save_through_a_symlink_writes_the_target(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.envwrite import EnvChange, save_env

    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "team.env"
    target.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\n", encoding="utf-8")
    (tmp_path / "backend").mkdir()
    link = tmp_path / "backend" / ".env"
    link.symlink_to(target)
    result = save_env(link, [EnvChange("POSTGRES_PASSWORD", "new", "***")], expected=read_env_file(link),
                      backups=backups)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=new\n"
    assert result.written == target and result.backup is not None
    assert result.backup.read_text(encoding="utf-8").endswith("POSTGRES_PASSWORD=old\n")


def test_save_through_a_dangling_symlink_is_refused(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envwrite import EnvChange, save_env

    link = tmp_path / ".env"
    link.symlink_to(tmp_path / "missing.env")
    with pytest.raises(WizardError) as caught:
        save_env(link, [EnvChange("POSTGRES_PASSWORD", "new", "***")], backups=backups)
    assert caught.value.code == "env_save_failed"
    assert link.is_symlink() and not (tmp_path / "missing.env").exists()


def test_edit_made_since_the_read_is_merged_or_refused(tmp_path: Path, backups: Any) -> None:
    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.envwrite import EnvChange, save_env

    path = tmp_path / ".env"
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\n", encoding="utf-8")
    seen = read_env_file(path)
    # Someone adds a line elsewhere: kept, ours applied on top.
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=old\nOPENAI_API_KEY=added\n", encoding="utf-8")
    result = save_env(path, [EnvChange("POSTGRES_PASSWORD", "new", "***")], expected=seen, backups=backups)
    assert result.merged
    assert path.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=new\nOPENAI_API_KEY=added\n"
    # Someone changes the very key we write: refused, their edit kept.
    seen = read_env_file(path)
    path.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=theirs\n", encoding="utf-8")
    with pytest.raises(WizardError) as caught:
        save_env(path, [EnvChange("POSTGRES_PASSWORD", "mine", "***")], expected=seen, backups=backups)
    assert caught.value.code == "env_save_conflict" and "POSTGRES_PASSWORD" in caught.value.detail
    assert "mine" not in caught.value.detail
    assert path.read_text(encoding="utf-8") == "SECRET_KEY=k\nPOSTGRES_PASSWORD=theirs\n"


def test_environment_overrides() -> None:
    from setup_wizard.config.envwrite import environment_overrides

    assert environment_overrides({"PATH": "/bin"}) == []
    assert environment_overrides({"DATABASE_URL": ""}) == ["DATABASE_URL"]  # empty still wins for pydantic
    assert environment_overrides({"database_url": "x", "HOME": "/"}) == ["database_url"]
    assert environment_overrides({"POSTGRES_PASSWORD": "x"}, ["POSTGRES_PASSWORD"]) == ["POSTGRES_PASSWORD"]
    assert environment_overrides({"POSTGRES_PASSWORD": "x"}) == []


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


def test_edit_detected_from_the_values_the_flow_kept(tmp_path: Path, backups: Any) -> None:
    """The flow keeps only the values it read (flow.env_values): that is enough to refuse a clash."""
    from setup_wizard.config.envwrite import EnvChange, save_env

    path = tmp_path / ".env"
    path.write_text("DATABASE_URL=postgresql+psycopg://someone:else@db/x\n", encoding="utf-8")
    with pytest.raises(WizardError) as caught:  # there was no file when the wizard looked: {}
        save_env(path, [EnvChange("DATABASE_URL", "postgresql+psycopg://me:pw@localhost/real_estate", "***")],
                 expected={}, backups=backups)
    assert caught.value.code == "env_save_conflict"
    assert path.read_text(encoding="utf-8") == "DATABASE_URL=postgresql+psycopg://someone:else@db/x\n"
    result = save_env(path, [EnvChange("POSTGRES_PASSWORD", "pw", "***")],
                      expected={"DATABASE_URL": "postgresql+psycopg://someone:else@db/x"}, backups=backups)
    assert not result.merged and path.read_text(encoding="utf-8").endswith("POSTGRES_PASSWORD=pw\n")


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
