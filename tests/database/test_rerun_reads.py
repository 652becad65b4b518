"""A rerun reads each fact once: the contract check, the counters and the verification, asked again on a
database that did not change, are answered from what was read (live_schema.live_state), and the one
aggregate over the memories serves both the counters and the verification. Any change in between (by
this session or another, or a different search_path) is read afresh: the verdict stays as strict."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
from support.databases import Database
from support.program import clean_environ, run_cli

from setup_wizard.database.drift import find_drift
from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.verify import verification_rows

REPO = Path(__file__).resolve().parents[2]

DATA = """
INSERT INTO users (email, type) VALUES ('a@example.com', 'USER'), ('b@example.com', 'USER'),
                                       ('c@example.com', 'USER');
INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance, created_at)
SELECT gen_random_uuid(), 1 + g % 2, '질문 ' || g, '요약', 'RELEVANT', now() - g * interval '1 minute'
  FROM generate_series(1, 6) AS g;
"""


class CountingCursor(psycopg.Cursor[Any]):
    """Every statement this connection sends, in order (a real server; only counted)."""

    sent: ClassVar[list[str]] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        text = query.decode() if isinstance(query, bytes) else str(query)
        CountingCursor.sent.append(" ".join(text.split()))
        return super().execute(query, params, **kwargs)


@pytest.fixture
def migrated(database: Database) -> Iterator[Database]:
    with database.connect() as conn:
        conn.execute((REPO / "sql" / "0001_prerequisites.sql").read_text(encoding="utf-8").encode())
        conn.execute(DATA.encode())
        Runner(conn, load_migrations()).apply()
    yield database


def counted(database: Database) -> psycopg.Connection[Any]:
    CountingCursor.sent = []
    return database.connect(cursor_factory=CountingCursor)


def test_the_contract_check_asked_again_on_an_unchanged_database_is_one_statement(migrated: Database) -> None:
    with counted(migrated) as conn:
        first = find_drift(conn)
        CountingCursor.sent.clear()
        assert find_drift(conn) == first == []
        assert find_drift(conn, counters=False) == []
        assert len(CountingCursor.sent) == 2, CountingCursor.sent  # one each: where the tables are, with the token


def test_the_verification_takes_the_linked_memories_from_the_counters_aggregate(migrated: Database) -> None:
    with migrated.connect() as fresh:
        expected = verification_rows(fresh)
    assert [(r.total_rows, r.unique_users) for r in expected[1:3]] == [(6, 2), (0, 0)]  # with, without a session
    with counted(migrated) as conn:
        find_drift(conn)  # the counters aggregate sums the linked memories on the way
        CountingCursor.sent.clear()
        assert verification_rows(conn) == expected
    assert not any("SELECT count(*) FROM conversation_memories)" in text for text in CountingCursor.sent)


def test_a_change_by_another_session_is_read_again(migrated: Database) -> None:
    with migrated.connect() as conn, migrated.connect() as other:
        assert find_drift(conn) == []
        assert [r.total_rows for r in verification_rows(conn)][:3] == [2, 6, 0]
        other.execute("UPDATE chat_sessions SET message_count = message_count + 1 WHERE user_id = 1")
        assert "counters_disagree" in {d.code for d in find_drift(conn)}
        other.execute("""INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance)
                         VALUES (gen_random_uuid(), 3, '세션 없는 질문', '요약', 'RELEVANT')""")
        other.execute("DROP INDEX idx_conv_mem_relevance")
        drift = find_drift(conn)
        assert {"counters_disagree", "index_missing"} <= {d.code for d in drift}
        rows = verification_rows(conn)
        assert [(r.total_rows, r.unique_users, r.healthy) for r in rows[1:3]] == [(6, 2, True), (1, 1, False)]


def test_a_change_by_the_same_session_is_read_again(migrated: Database) -> None:
    with migrated.connect() as conn:
        assert find_drift(conn) == []
        conn.execute("UPDATE chat_sessions SET last_message = 'x' WHERE user_id = 2")
        assert "counters_disagree" in {d.code for d in find_drift(conn)}
        with conn.transaction():  # inside a transaction nothing is answered from memory
            conn.execute("UPDATE chat_sessions SET message_count = 0")
            assert len([d for d in find_drift(conn) if d.code == "counters_disagree"]) == 1
            assert "세션 2개" in next(d.message for d in find_drift(conn) if d.code == "counters_disagree")
            raise psycopg.Rollback()
        assert "세션 1개" in next(d.message for d in find_drift(conn) if d.code == "counters_disagree")


def test_another_search_path_is_another_state(migrated: Database) -> None:
    with migrated.connect() as conn:
        conn.execute("CREATE SCHEMA elsewhere")
        assert find_drift(conn) == []
        conn.execute("SET search_path = elsewhere")  # no transaction id: only the setting says it changed
        assert "table_missing" in {d.code for d in find_drift(conn)}
        conn.execute("RESET search_path")
        assert find_drift(conn) == []


def test_langgraphs_migrations_are_counted_from_their_statement_alone() -> None:
    """Only the `MIGRATIONS = [...]` statement is parsed, not the whole module; a `]` that starts a line
    inside one of its strings does not end it early."""
    from setup_wizard.database.checkpoints import _count_migrations

    source = 'import x\n\nMIGRATIONS = [\n    "CREATE TABLE a ();",\n    """\n]\n""",\n    f(1),\n]\n\nOTHER = [\n]\n'
    assert _count_migrations(source) == 3
    assert _count_migrations("MIGRATIONS = compute()\n") is None


# The service managers and server tools a failed connection would ask; none of them once the server answers.
MACHINE_PROGRAMS = ("pg_lsclusters", "pg_ctlcluster", "pg_ctl", "systemctl", "service", "sudo", "launchctl", "brew")


@pytest.mark.slow
def test_a_database_that_answers_asks_the_machine_nothing(migrated: Database, tmp_path: Path) -> None:
    """The real program with stand-ins first on PATH that write down being called: check and --yes, text
    and --json, on a database that answers start none of them."""
    stand_ins, called = tmp_path / "bin", tmp_path / "called.log"
    stand_ins.mkdir()
    for name in MACHINE_PROGRAMS:
        script = stand_ins / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{called}"\nexit 1\n', encoding="utf-8")
        script.chmod(0o755)
    env = clean_environ(PATH=f"{stand_ins}{os.pathsep}{os.environ.get('PATH', '')}")
    work = tmp_path / "work"
    work.mkdir()
    for args in (["check"], ["check", "--json"], ["--yes"], ["--yes", "--json"]):
        done = run_cli(*args, "--dsn", migrated.url, cwd=work, env=env)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    assert not called.exists(), called.read_text(encoding="utf-8")


def test_the_memories_a_migration_rewrote_are_all_visible_for_the_next_run(migrated: Database) -> None:
    """0003 rewrites every memory; the run vacuums after it, so the next run's index-only scans over the
    memories (counters, verification) need not read the heap (at 1M: 1-2 s instead of 0.3 s until
    autovacuum comes by)."""
    with migrated.connect() as conn:
        row = conn.execute("""SELECT relpages, relallvisible FROM pg_class
                               WHERE oid = 'conversation_memories'::regclass""").fetchone()
    assert row is not None and row[0] > 0 and row[1] == row[0], row
