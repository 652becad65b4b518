"""What the hostile-condition tests share (database/test_hostile.py, config/test_hostile_env.py,
cli/test_hostile_process.py, database/test_locks_and_access.py): the cheap in-process run, a second session
holding a lock, throwaway roles, and the last migration made pending again."""

from __future__ import annotations

import io
import json
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
from support.program import clean_environ

from setup_wizard import cli
from setup_wizard.config.load import load_settings
from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.migration_history import HISTORY_TABLE
from setup_wizard.environment import Environment

LAST = "0003_chat_sessions.sql"


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /dev/zero, bash and SIGTERM are POSIX")


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
