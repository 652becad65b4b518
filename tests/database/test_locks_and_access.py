"""Locks, table access and search_path: held by the real program in every output mode.

- A table held by another session (ACCESS EXCLUSIVE, a migration stuck in a psql window): every mode answers
  within the lock timeout plus a few seconds, and every item that met the lock names the holder's pid and
  how to end it. The subprocess timeout (lock timeout + 8 s) is the failure condition, not a timed assertion.
- Tables made by `postgres` that the backend's own role (owner of the database, not of the tables) may not
  even read: `table_access_denied` with the ALTER TABLE ... OWNER / GRANT fix, exit 1, never `unexpected`.
- A role whose search_path names no existing schema: `search_path_empty` with the RESET fix, never "ready",
  and no table made where the backend will not look.

Each case runs through `python -m setup_wizard` (run_cli) in text, -v, --json, check --report and the
interactive wizard (a pseudo-terminal), and compares the database before and after.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.databases import Database
from support.dbstate import add_sample_data, snapshot
from support.hostile import holding, role, role_url
from support.program import run_cli

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="pexpect's pseudo-terminal is POSIX")

# Each mode a person meets: the arguments, and the extra seconds a run may take besides its lock wait.
MODES = {
    "check": ["check"],
    "check-v": ["check", "-v"],
    "check-json": ["check", "--json"],
    "check-report": ["check", "--report", "report.md"],
    "yes": ["--yes"],
    "yes-v": ["--yes", "-v"],
    "yes-json": ["--yes", "--json"],
}
SLACK = 8.0  # start-up, discovery, connect: a few seconds on a busy 2-core machine


@dataclass(frozen=True)
class Item:
    """One failed item as the mode shows it: its code and its whole text (detail and fix)."""

    code: str
    text: str


def failed_items(mode: str, stdout: str, stderr: str, folder: Path) -> list[Item]:
    if mode.endswith("json"):
        return [Item(s["code"], f"{s['detail']}\n{s['fix'] or ''}") for s in json.loads(stdout)["steps"]
                if s["status"] == "fail"]
    if mode.endswith("report"):
        return _blocks((folder / "report.md").read_text(encoding="utf-8"), r"^- [✗✓!•-] ", "- ✗",
                       r"\(`([a-z_0-9]+)`\)")
    # Text: an item starts at column 0 with its mark; an error that ended the run reads "[code] ..." on stderr.
    return (_blocks(stdout, r"^[✗✓!•-] ", "✗", r"오류 코드: ([a-z_0-9]+)")
            + _blocks(stderr, r"^\[[a-z_0-9]+\] ", "[", r"^\[([a-z_0-9]+)\]"))


def _blocks(text: str, start: str, failed: str, code: str) -> list[Item]:
    """Lines grouped into items (each begins where `start` matches); the failed ones with their code."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if re.match(start, line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    items = []
    for block in blocks:
        whole = "\n".join(block)
        found = re.search(code, whole, re.MULTILINE)
        if found and block[0].startswith(failed):
            items.append(Item(found.group(1), whole))
    return items


def run_mode(mode: str, url: str, folder: Path, timeout: float, *extra: str) -> tuple[int, list[Item], str]:
    proc = run_cli(*MODES[mode], *extra, "--dsn", url, cwd=folder, timeout=timeout)
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything
    return proc.returncode, failed_items(mode, proc.stdout, proc.stderr, folder), everything


def backend_env(folder: Path, url: str) -> None:
    """The backend's own .env, which the interactive wizard reads (the backend connects with it)."""
    (folder / "backend").mkdir(exist_ok=True)
    path = folder / "backend" / ".env"
    path.write_text(f"DATABASE_URL={url.replace('postgresql://', 'postgresql+psycopg://', 1)}\n", encoding="utf-8")
    path.chmod(0o600)


def wizard(folder: Path, timeout: float) -> tuple[int, str]:
    """The interactive wizard in a pseudo-terminal, left to run to its end without an answer."""
    from support.ptyrun import Terminal

    run = Terminal(folder, "xterm-256color", columns=200, timeout=timeout)
    code = run.finish()
    return code, run.output


# --- 2. a table held by another session ---------------------------------------------------------------------

@pytest.fixture
def migrated(database: Database, tmp_path: Path) -> Database:
    with database.connect() as conn:
        add_sample_data(conn)
    done = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return database


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_a_held_table_is_answered_within_the_lock_timeout_naming_the_holder(migrated: Database, tmp_path: Path,
                                                                            mode: str) -> None:
    """`check` without --lock-timeout waits the README's default (10 s) once, not once per item; the other
    modes with --lock-timeout 2. Every item that met the lock names the holder and how to end it."""
    seconds = 10 if mode == "check" else 2
    extra = [] if mode == "check" else ["--lock-timeout", str(seconds)]
    before = _state(migrated)
    with holding(migrated, "LOCK TABLE conversation_memories IN ACCESS EXCLUSIVE MODE",
                 application="stuck-psql") as pid:
        code, items, everything = run_mode(mode, migrated.url, tmp_path, seconds + SLACK, *extra)
    assert code == 1, everything
    held = [item for item in items if item.code == "lock_timeout"]
    assert held, everything
    assert not [item for item in items if item.code in ("unexpected", "check_crashed")]
    for item in held:
        assert f"pid {pid}" in item.text and "stuck-psql" in item.text, item.text
        assert "LOCK TABLE conversation_memories" in item.text and "초째" in item.text
        assert f"pg_terminate_backend({pid})" in item.text
    assert _state(migrated) == before


@pytest.mark.slow
@posix_only
def test_a_held_table_in_the_interactive_wizard(migrated: Database, tmp_path: Path) -> None:
    backend_env(tmp_path, migrated.url)
    before = _state(migrated)
    with holding(migrated, "LOCK TABLE conversation_memories IN ACCESS EXCLUSIVE MODE",
                 application="stuck-psql") as pid:
        code, output = wizard(tmp_path, timeout=10 + SLACK)
    assert code == 1, output
    assert f"pid {pid}" in output and "stuck-psql" in output and f"pg_terminate_backend({pid})" in output
    assert "lock_timeout" in output
    assert _state(migrated) == before


# --- 3. tables the backend's role may not read ---------------------------------------------------------------

@contextmanager
def owned_by_a_new_role(database: Database) -> Iterator[str]:
    """A new login role owns the database (and so may create in public on PostgreSQL 15+), not what is in
    it; afterwards postgres owns it again and the role's own search_path is gone."""
    with role(database, "LOGIN") as name:
        with database.connect() as conn:
            conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO {name}')
        try:
            yield name
        finally:
            with database.connect() as conn:
                conn.execute(f"ALTER ROLE {name} RESET search_path")
                conn.execute(f'ALTER DATABASE "{database.name}" OWNER TO postgres')


@pytest.fixture
def tables_of_postgres(database: Database, tmp_path: Path) -> Iterator[tuple[Database, str]]:
    """A teammate migrated as postgres; the backend's role owns the database, not the tables."""
    with database.connect() as conn:
        add_sample_data(conn)
    done = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with owned_by_a_new_role(database) as name:
        yield database, name


def _assert_access_denied(items: list[Item], name: str, everything: str) -> None:
    codes = [item.code for item in items]
    assert "table_access_denied" in codes, everything
    assert "unexpected" not in codes and "check_crashed" not in codes, everything
    denied = next(item for item in items if item.code == "table_access_denied")
    assert "public.setup_wizard_migrations" in denied.text and "postgres" in denied.text
    assert f"ALTER TABLE public.setup_wizard_migrations OWNER TO {name};" in denied.text
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON public.users" in denied.text
    assert "GRANT USAGE, SELECT ON SEQUENCE public.users_id_seq" in denied.text


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_tables_the_role_cannot_read_are_a_known_failure(tables_of_postgres: tuple[Database, str], tmp_path: Path,
                                                         mode: str) -> None:
    database, name = tables_of_postgres
    before = _state(database)
    code, items, everything = run_mode(mode, role_url(database, name), tmp_path, 40)
    assert code == 1, everything
    _assert_access_denied(items, name, everything)
    assert _state(database) == before


@pytest.mark.slow
@posix_only
def test_tables_the_role_cannot_read_in_the_interactive_wizard(tables_of_postgres: tuple[Database, str],
                                                               tmp_path: Path) -> None:
    database, name = tables_of_postgres
    backend_env(tmp_path, role_url(database, name))
    before = _state(database)
    code, output = wizard(tmp_path, timeout=30)
    assert code == 1, output
    assert "table_access_denied" in output and "unexpected" not in output
    assert f"ALTER TABLE public.setup_wizard_migrations OWNER TO {name};" in output
    assert _state(database) == before


@pytest.mark.slow
def test_after_the_fix_the_role_runs_the_wizard(tables_of_postgres: tuple[Database, str], tmp_path: Path) -> None:
    """The fix the failure shows (run as the owner) is enough: the role's next run is ready."""
    database, name = tables_of_postgres
    _code, items, _everything = run_mode("yes-json", role_url(database, name), tmp_path, 40)
    fix = next(item for item in items if item.code == "table_access_denied").text
    with database.connect() as conn:
        for line in fix.splitlines():
            if line.strip().startswith("ALTER TABLE"):
                conn.execute(line.strip())
    code, items, everything = run_mode("yes-json", role_url(database, name), tmp_path, 40)
    assert code == 0 and not items, everything


# --- 5. a search_path with no schema in it --------------------------------------------------------------------

@pytest.fixture
def role_of_backend(database: Database) -> Iterator[tuple[Database, str]]:
    """The backend's role owns the database (and so may create in public on PostgreSQL 15+)."""
    with owned_by_a_new_role(database) as name:
        yield database, name


def _nowhere(database: Database, name: str) -> None:
    with database.connect() as conn:
        conn.execute(f"ALTER ROLE {name} SET search_path = nowhere")


def _assert_nowhere(items: list[Item], name: str, everything: str) -> None:
    codes = [item.code for item in items]
    assert "search_path_empty" in codes, everything
    empty = next(item for item in items if item.code == "search_path_empty")
    assert "nowhere" in empty.text
    assert f"ALTER ROLE {name} RESET search_path;" in empty.text
    assert f'ALTER ROLE {name} SET search_path = "$user", public;' in empty.text
    assert "데이터베이스가 준비되었습니다" not in everything


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_a_search_path_naming_no_schema_is_never_ready(role_of_backend: tuple[Database, str], tmp_path: Path,
                                                       mode: str) -> None:
    """Migrated by the role itself, then its search_path pointed nowhere: the backend sees no table."""
    database, name = role_of_backend
    with psycopg.connect(role_url(database, name), autocommit=True) as conn:
        add_sample_data(conn)  # the role's own tables, with its conversations
    done = run_cli("--yes", "--dsn", role_url(database, name), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    _nowhere(database, name)
    before = _state(database)
    code, items, everything = run_mode(mode, role_url(database, name), tmp_path, 40)
    assert code == 1, everything
    _assert_nowhere(items, name, everything)
    assert _state(database) == before


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["yes", "yes-json", "check"])
def test_no_table_is_made_where_the_backend_will_not_look(role_of_backend: tuple[Database, str], tmp_path: Path,
                                                          mode: str) -> None:
    """An empty database: --yes refuses to migrate into nowhere (public, which the role could create in)."""
    database, name = role_of_backend
    _nowhere(database, name)
    before = _state(database)
    code, items, everything = run_mode(mode, role_url(database, name), tmp_path, 40)
    assert code == 1, everything
    _assert_nowhere(items, name, everything)
    assert _state(database) == before
    assert database.scalar("""SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')""") == 0


@pytest.mark.slow
@posix_only
def test_a_search_path_naming_no_schema_in_the_interactive_wizard(role_of_backend: tuple[Database, str],
                                                                  tmp_path: Path) -> None:
    database, name = role_of_backend
    assert run_cli("--yes", "--dsn", role_url(database, name), cwd=tmp_path).returncode == 0
    _nowhere(database, name)
    backend_env(tmp_path, role_url(database, name))
    before = _state(database)
    code, output = wizard(tmp_path, timeout=30)
    assert code == 1, output
    assert "search_path_empty" in output and f"ALTER ROLE {name} RESET search_path;" in output
    assert "데이터베이스가 준비되었습니다" not in output
    assert _state(database) == before


# --- helpers ------------------------------------------------------------------------------------------------

def _state(database: Database) -> dict[str, Any]:
    with database.connect() as conn:
        return snapshot(conn)
