"""The contract's promises through the installed program: counters brought in line with the rows,
chat_messages beside chat_sessions, and the last words about LangGraph's tables, in every output mode.

Each test runs `python -m setup_wizard` in a real process at least once (run_cli) and compares the data
before and after (dbstate.snapshot); cheaper doors (run_inprocess, the scripted walk) cover the other modes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import SUPPORT
from support.checklist import needs_langgraph
from support.databases import Database
from support.dbstate import MODELS_DDL, add_sample_data, planned, snapshot
from support.program import backend_form, clean_environ, run_cli, run_inprocess
from support.wizard_walk import CP, walk

from setup_wizard.database.drift import find_drift
from setup_wizard.database.preview import describe_pending
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.results import Status

# --- 12. the last words about LangGraph's tables --------------------------------------------------------------


@pytest.mark.slow
@needs_langgraph
def test_after_the_run_made_langgraphs_tables_the_last_line_says_so(database: Database, tmp_path: Path) -> None:
    text = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert text.returncode == 0, text.stdout + text.stderr
    assert database.scalar("SELECT to_regclass('checkpoints') IS NOT NULL")
    lines = [line for line in text.stdout.splitlines() if line.strip()]
    assert lines[-1] == finish_msg.NEXT_STEPS_CHECKPOINTS_READY, lines[-4:]
    assert lines[-2].startswith(finish_msg.NEXT_STEPS.split("{", 1)[0]), lines[-4:]
    assert finish_msg.NEXT_STEPS_CHECKPOINTS_LATER not in text.stdout + text.stderr

    # --json: the document says what the run did, and nothing on either stream says "later".
    with database.connect() as conn:
        before = snapshot(conn)
    document = run_cli("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert document.returncode == 0, document.stderr
    steps = {s["id"]: s for s in run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    assert steps["checkpoints"]["status"] == "ok"
    assert "처음 시작할 때" not in document.stdout + document.stderr
    with database.connect() as conn:
        assert snapshot(conn) == before  # the reruns changed nothing


@needs_langgraph
def test_the_wizards_last_panel_says_langgraphs_tables_are_there(database: Database, tmp_path: Path) -> None:
    report, _prompter, text = walk(tmp_path, database.url, [True, *CP, True])
    assert report.ok, text
    assert finish_msg.NEXT_STEPS_CHECKPOINTS_READY in text and finish_msg.NEXT_STEPS_CHECKPOINTS_LATER not in text


def test_a_run_that_did_not_make_them_says_the_backend_will(database: Database, tmp_path: Path) -> None:
    # Declined (or the library is missing): the backend makes them at its first start, as the line says.
    report, _prompter, text = walk(tmp_path, database.url, [True, *([False] if CP else []), True])
    assert report.ok, text
    assert finish_msg.NEXT_STEPS_CHECKPOINTS_LATER in text and finish_msg.NEXT_STEPS_CHECKPOINTS_READY not in text


# --- 11. chat_messages beside chat_sessions ------------------------------------------------------------------

def chat_messages_shape(database: Database) -> dict[str, tuple[str, bool, str | None]]:
    with database.connect() as conn:
        return {name: (type_, not_null, default) for name, type_, not_null, default in conn.execute("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
              FROM pg_attribute AS a LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = 'chat_messages'::regclass AND a.attnum > 0 AND NOT a.attisdropped""")}


def chat_messages_keys(database: Database) -> tuple[list[str], list[str]]:
    """(index names, foreign key definitions) on chat_messages."""
    with database.connect() as conn:
        indexes = [r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'chat_messages' ORDER BY 1")]
        keys = [r[0] for r in conn.execute("""SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
                                               WHERE conrelid = 'chat_messages'::regclass AND contype = 'f'""")]
    return indexes, keys


@pytest.mark.slow
def test_the_run_creates_chat_messages_and_deleting_a_session_takes_its_messages(database: Database,
                                                                                  tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=3)
    first = run_cli("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    document = json.loads(first.stdout)
    assert {m["name"]: m["action"] for m in document["migrations"]}["0005_chat_messages.sql"] == "applied"
    assert {row["table_name"]: row["total_rows"] for row in document["verification"]}["chat_messages"] == 0
    assert chat_messages_shape(database) == {
        "id": ("uuid", True, "gen_random_uuid()"),
        "session_id": ("character varying(100)", True, None),
        "sender_type": ("character varying(20)", True, None),
        "content": ("text", True, None),
        "created_at": ("timestamp with time zone", False, "now()"),
    }
    assert chat_messages_keys(database) == (
        ["chat_messages_pkey", "idx_chat_messages_session_id"],
        ["chat_messages_session_id_fkey: FOREIGN KEY (session_id) REFERENCES chat_sessions(session_id) "
         "ON DELETE CASCADE"])

    # The backend's use: a chat with messages, then the session deleted (what its ORM's delete does in SQL).
    with database.connect() as conn:
        conn.execute("""INSERT INTO chat_sessions (session_id, user_id, title) VALUES ('chat-a', 1, '강남'),
                                                                                      ('chat-b', 2, '분당');
                        INSERT INTO chat_messages (session_id, sender_type, content)
                        VALUES ('chat-a', 'user', '전세 매물'), ('chat-a', 'assistant', '세 곳 있습니다'),
                               ('chat-b', 'user', '월세')""".encode())
        before = snapshot(conn)
    again = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "chat_messages" in again.stdout  # the verification table names it
    with database.connect() as conn:
        assert snapshot(conn) == before  # the rerun lost nothing and changed nothing
        conn.execute("DELETE FROM chat_sessions WHERE session_id = 'chat-a'")
        assert conn.execute("SELECT session_id, content FROM chat_messages").fetchall() == [("chat-b", "월세")]
    check = run_cli("check", "--json", "--dsn", database.url, cwd=tmp_path)
    steps = {s["id"]: s for s in json.loads(check.stdout)["steps"]}
    assert all(steps[key]["status"] == "ok" for key in
               ("schema_tables", "schema_indexes", "schema_constraints", "migrations")), steps


@pytest.mark.slow
def test_a_create_all_chat_messages_satisfies_the_contract_as_it_is(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        conn.execute(MODELS_DDL.encode())
        conn.execute("INSERT INTO chat_messages (id, session_id, sender_type, content) "
                     "VALUES (gen_random_uuid(), 's-1', 'user', '질문')")
        assert [d for d in find_drift(conn) if "chat_messages" in d.name] == []
        before = snapshot(conn)
    done = run_cli("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    actions = {m["name"]: m["action"] for m in json.loads(done.stdout)["migrations"]}
    assert actions["0005_chat_messages.sql"] == "baseline"
    # The models' own names are kept, and nothing is built beside them.
    assert chat_messages_keys(database) == (
        ["chat_messages_pkey", "ix_chat_messages_session_id"],
        ["chat_messages_session_id_fkey: FOREIGN KEY (session_id) REFERENCES chat_sessions(session_id) "
         "ON DELETE CASCADE"])
    with database.connect() as conn:
        after = snapshot(conn)
    assert after["chat_messages"] == before["chat_messages"] and after["users"] == before["users"]
    assert {r[0] for r in after["memories"]} == {r[0] for r in before["memories"]}


@pytest.mark.slow
def test_a_chat_messages_key_and_index_dropped_are_reported_and_repaired(database: Database, tmp_path: Path) -> None:
    assert run_cli("--yes", "--dsn", database.url, cwd=tmp_path).returncode == 0
    with database.connect() as conn:
        conn.execute("""INSERT INTO chat_sessions (session_id, user_id, title) VALUES ('chat-a', 1, '강남');
                        INSERT INTO chat_messages (session_id, sender_type, content) VALUES ('chat-a', 'user', '전세');
                        ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_session_id_fkey;
                        DROP INDEX idx_chat_messages_session_id""".encode())
        before = snapshot(conn)
    check = run_cli("check", "--dsn", database.url, cwd=tmp_path)
    assert check.returncode == 0, check.stdout  # warnings only
    assert "chat_messages(session_id) → chat_sessions" in check.stdout
    assert "idx_chat_messages_session_id" in check.stdout and "python -m setup_wizard --yes" in check.stdout
    steps = {s["id"]: s for s in run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    assert steps["schema_constraints"]["status"] == "warn" and steps["schema_indexes"]["status"] == "warn"
    assert run_cli("--yes", "--dsn", database.url, cwd=tmp_path).returncode == 0
    indexes, keys = chat_messages_keys(database)
    assert indexes == ["chat_messages_pkey", "idx_chat_messages_session_id"] and len(keys) == 1, (indexes, keys)
    with database.connect() as conn:
        after = snapshot(conn)
        assert find_drift(conn) == []
    assert after["chat_messages"] == before["chat_messages"] and after["chat_sessions"] == before["chat_sessions"]


def test_the_wizard_plans_and_checks_chat_messages(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=1, per_user=1)
        assert dict(describe_pending(conn, ["0005_chat_messages.sql"])) == {
            "0005_chat_messages.sql": planned("0005_chat_messages.sql", 1)}
    report, _prompter, text = walk(tmp_path, database.url, [True, *CP])
    assert report.ok, text
    assert "0005_chat_messages.sql" in text and "chat_messages 테이블을 만듭니다" in text  # the plan
    last = {step.id: step for step in report.checklist}  # the final checklist: check's items read again
    assert finish_msg.CHECKLIST_TITLE in text and last["schema_tables"].status is Status.OK
    with database.connect() as conn:
        assert dict(describe_pending(conn, ["0005_chat_messages.sql"])) == {
            "0005_chat_messages.sql": planned("0005_chat_messages.sql", 0)}


# --- 10. counters brought in line with the rows ---------------------------------------------------------------

# On a database the backend's models made: message_count set in Python (0 when the session was made) and
# never again, so s-1 with two memories shows 0; s-2 has no memory and a last_message of its own.
MODELS_COUNTS = """
UPDATE chat_sessions SET message_count = 0;
UPDATE conversation_memories SET created_at = now() - interval '2 hours';
INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance, session_id, created_at)
VALUES (gen_random_uuid(), 1, '두 번째 질문', '요약', 'RELEVANT', 's-1', now() - interval '1 hour');
INSERT INTO chat_sessions (session_id, user_id, title, message_count, last_message, updated_at)
VALUES ('s-2', 1, '빈 대화', 0, '지운 메시지', timestamptz '2025-03-01');
"""


def counters(database: Database) -> dict[str, tuple[int | None, str | None]]:
    with database.connect() as conn:
        return {sid: (count, last) for sid, count, last in conn.execute(
            "SELECT session_id, message_count, last_message FROM chat_sessions ORDER BY 1")}


@pytest.mark.slow
def test_counts_on_a_create_all_database_are_brought_in_line(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        conn.execute(MODELS_DDL.encode())
        conn.execute(MODELS_COUNTS.encode())
        before = snapshot(conn)
        sessions_before = conn.execute("SELECT session_id, user_id, title, created_at, updated_at, is_active, "
                                       "metadata::text FROM chat_sessions ORDER BY 1").fetchall()
    assert counters(database) == {"s-1": (0, None), "s-2": (0, "지운 메시지")}

    # check names the sessions that disagree, and the fix (text and --json): here the pending migrations.
    check = run_cli("check", "--dsn", database.url, cwd=tmp_path)
    assert "세션 1개의 message_count 나 last_message" in check.stdout and "(예: s-1)" in check.stdout, check.stdout
    assert "python -m setup_wizard --yes" in check.stdout
    steps = {s["id"]: s for s in run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    assert steps["schema_triggers"]["status"] in ("warn", "fail") and "s-1" in steps["schema_triggers"]["detail"]

    done = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # Two memories, the newer one's text; the session without memories keeps its last_message.
    assert counters(database) == {"s-1": (2, "두 번째 질문"), "s-2": (0, "지운 메시지")}
    with database.connect() as conn:
        after = snapshot(conn)
        assert conn.execute("SELECT session_id, user_id, title, created_at, updated_at, is_active, metadata::text "
                            "FROM chat_sessions ORDER BY 1").fetchall() == sessions_before  # updated_at kept
        assert find_drift(conn) == []
        # From now on the trigger counts, once per memory.
        conn.execute("""INSERT INTO conversation_memories (id, user_id, query, response_summary, relevance, session_id)
                        VALUES (gen_random_uuid(), 1, '세 번째', '요약', 'RELEVANT', 's-1')""")
    for key in ("users", "memories", "chat_messages"):
        assert after[key] == before[key], key  # no row lost or changed beyond the counters
    assert counters(database)["s-1"] == (3, "세 번째")
    steps = {s["id"]: s for s in run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    assert steps["schema_triggers"]["status"] == "ok", steps["schema_triggers"]


@pytest.mark.slow
def test_counts_that_drifted_under_an_installed_trigger_are_repaired(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=2)
    assert run_cli("--yes", "--dsn", database.url, cwd=tmp_path).returncode == 0
    with database.connect() as conn:
        # Memories saved while the trigger was off (a bulk import with triggers disabled, say).
        conn.execute("""ALTER TABLE conversation_memories DISABLE TRIGGER trigger_update_session_message_count;
                        INSERT INTO conversation_memories (user_id, query, response_summary, relevance, session_id)
                        SELECT user_id, '가져온 질문', '요약', 'HIGH', session_id FROM chat_sessions;
                        ALTER TABLE conversation_memories ENABLE TRIGGER trigger_update_session_message_count"""
                     .encode())
        before = snapshot(conn)
    assert {count for count, _last in counters(database).values()} == {2}
    check = run_cli("check", "--dsn", database.url, cwd=tmp_path)
    assert "세션 2개의 message_count 나 last_message" in check.stdout, check.stdout
    assert "python -m setup_wizard --yes" in check.stdout and "-f sql/0003_chat_sessions.sql" in check.stdout

    # The wizard asks, shows what the repair does, and brings them in line.
    report, prompter, text = walk(tmp_path, database.url, [True])
    assert report.ok, text
    assert schema_msg.ASK_CONFIRM_REPAIR in prompter.questions
    assert "세션의 메시지 수와 마지막 메시지를 실제 대화에 맞춥니다" in text.replace("\n", "")
    assert set(counters(database).values()) == {(3, "가져온 질문")}
    with database.connect() as conn:
        after = snapshot(conn)
    for key in ("users", "memories"):
        assert after[key] == before[key], key
    # A rerun (installed program, --json) finds nothing left to do.
    again = run_cli("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert again.returncode == 0 and "repairs" not in {s["id"] for s in json.loads(again.stdout)["steps"]}


def backend_venv_python() -> Path:
    """The backend's pinned libraries (tests/backend-requirements.txt), as test_backend_settings finds them."""
    venv = Path(os.environ.get("SETUP_WIZARD_BACKEND_VENV", Path(__file__).resolve().parents[2] / ".venv-backend"))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        pytest.skip(f"the backend's venv is missing ({venv}): see tests/config/test_backend_settings.py")
    return python


@pytest.mark.slow
def test_the_backends_orm_deletes_a_chat_session_with_its_messages(database: Database, tmp_path: Path) -> None:
    """The failure the issue names (UndefinedTable: chat_messages), through the backend's own ORM."""
    backend_python = backend_venv_python()
    with database.connect() as conn:
        add_sample_data(conn, users=1, per_user=1)
    assert run_cli("--yes", "--dsn", database.url, cwd=tmp_path).returncode == 0
    with database.connect() as conn:
        before = snapshot(conn)
    env = clean_environ(DATABASE_URL=backend_form(database.url))
    proc = subprocess.run([str(backend_python), str(SUPPORT / "backend_orm.py")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"ok": True, "error_class": None, "messages_after": 0}
    with database.connect() as conn:
        assert snapshot(conn) == before  # the ORM's session came and went; nothing else moved
