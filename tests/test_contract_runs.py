"""The contract's promises through the installed program: counters brought in line with the rows,
chat_messages beside chat_sessions, and the last words about LangGraph's tables, in every output mode.

Each test runs `python -m setup_wizard` in a real process at least once (run_cli) and compares the data
before and after (dbstate.snapshot); cheaper doors (run_inprocess, the scripted walk) cover the other modes.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Database, run_cli, run_inprocess
from dbstate import snapshot
from test_check import needs_langgraph
from test_wizard import CP, walk

from setup_wizard import messages as msg

# --- 12. the last words about LangGraph's tables --------------------------------------------------------------


@needs_langgraph
def test_after_the_run_made_langgraphs_tables_the_last_line_says_so(database: Database, tmp_path: Path) -> None:
    text = run_cli("--yes", "--dsn", database.url, cwd=tmp_path)
    assert text.returncode == 0, text.stdout + text.stderr
    assert database.scalar("SELECT to_regclass('checkpoints') IS NOT NULL")
    lines = [line for line in text.stdout.splitlines() if line.strip()]
    assert lines[-2:] == [msg.NEXT_STEPS, msg.NEXT_STEPS_CHECKPOINTS_READY], lines[-4:]
    assert msg.NEXT_STEPS_CHECKPOINTS_LATER not in text.stdout + text.stderr

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
    assert msg.NEXT_STEPS_CHECKPOINTS_READY in text and msg.NEXT_STEPS_CHECKPOINTS_LATER not in text


def test_a_run_that_did_not_make_them_says_the_backend_will(database: Database, tmp_path: Path) -> None:
    # Declined (or the library is missing): the backend makes them at its first start, as the line says.
    report, _prompter, text = walk(tmp_path, database.url, [True, *([False] if CP else []), True])
    assert report.ok, text
    assert msg.NEXT_STEPS_CHECKPOINTS_LATER in text and msg.NEXT_STEPS_CHECKPOINTS_READY not in text
