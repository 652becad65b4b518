"""One checklist for every door: `check` and a run's last screen are the same checks on the same database.

A run is its fixes and then `check`'s database items read again (its last screen: the final checklist,
in `--yes --json` as "checklist"). Whatever state the database was in, `check` run right after a `--yes`
says what that `--yes` said last, item by item (id, status, code); on an up-to-date database `check`
and a rerun's last pass agree before anything runs at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.databases import Database
from support.dbstate import MODELS_DDL, add_sample_data, hand_migrate, migrate, run_sql
from support.program import run_inprocess

Verdict = list[tuple[str, str, str | None]]


def last_pass(database: Database, folder: Path) -> Verdict:
    """`--yes --json`'s final checklist (the run changes the database first)."""
    result = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=folder)
    assert result.code in (0, 1), result.stderr
    items = result.json()["checklist"]
    assert items, "a run that reached the database ends with its checklist"
    return [(item["id"], item["status"], item["code"]) for item in items]


def check_verdict(database: Database, folder: Path, ids: set[str]) -> Verdict:
    """`check --json`'s items about the database, in its order."""
    steps = run_inprocess("check", "--json", "--dsn", database.url, cwd=folder).json()["steps"]
    return [(step["id"], step["status"], step["code"]) for step in steps if step["id"] in ids]


def drifted(database: Database) -> None:
    migrate(database)
    # One difference --yes repairs (a column it adds back), one it leaves to a person (a type it would narrow).
    run_sql(database, "ALTER TABLE sessions DROP COLUMN request_count; "
                      "ALTER TABLE chat_sessions ALTER COLUMN title TYPE text")


def hand_migrated(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=2)
        hand_migrate(conn)


STATES: dict[str, Any] = {
    "empty": lambda database: None,
    "hand_migrated": hand_migrated,
    "create_all": lambda database: run_sql(database, MODELS_DDL),
    "drifted": drifted,
}


@pytest.mark.parametrize("state", list(STATES))
def test_check_after_a_run_says_what_the_run_said_last(database: Database, tmp_path: Path, state: str) -> None:
    STATES[state](database)
    run_said = last_pass(database, tmp_path)
    assert [item[0] for item in run_said][:3] == ["server_version", "privileges", "table_access"]
    assert check_verdict(database, tmp_path, {item[0] for item in run_said}) == run_said
    if state == "drifted":  # what --yes leaves to a person is still said, the same way by both
        assert ("schema_tables", "fail", "schema_drift_manual") in run_said


def test_check_on_an_up_to_date_database_says_what_a_rerun_says_last(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=2)
    # Brought up to date: migrations, the dev user and LangGraph's tables (when the library is installed).
    assert run_inprocess("--yes", "--dsn", database.url, cwd=tmp_path).code == 0
    ids = {"server_version", "privileges", "table_access", "encoding", "migrations", "checksums", "schema_tables",
           "schema_indexes", "schema_constraints", "schema_triggers", "search_path", "backend_tables", "dev_user",
           "verification", "checkpoints"}
    before = check_verdict(database, tmp_path, ids)
    rerun_said = last_pass(database, tmp_path)
    assert before == rerun_said
    # Nothing left to fix (the server's own version may warn: CI's is not always 17).
    assert all(status in ("ok", "skip", "info") for id_, status, _code in rerun_said if id_ != "server_version")
    assert check_verdict(database, tmp_path, ids) == rerun_said


def test_text_ends_with_the_same_checklist_and_what_is_left_to_a_person(database: Database, tmp_path: Path) -> None:
    from setup_wizard.messages import finish as finish_msg
    from setup_wizard.messages import schema as schema_msg

    drifted(database)
    manual_sql = 'ALTER TABLE "chat_sessions" ALTER COLUMN "title" TYPE character varying(200)'
    run = run_inprocess("--yes", "--dsn", database.url, cwd=tmp_path)
    assert run.code == 1  # not ready: a difference only a person may fix
    assert finish_msg.CHECKLIST_TITLE in run.stdout and schema_msg.STEP_SCHEMA_TABLES in run.stdout
    assert manual_sql in run.stdout  # the last screen names the SQL, as `check` does
    check = run_inprocess("check", "--dsn", database.url, cwd=tmp_path)
    assert schema_msg.STEP_SCHEMA_TABLES in check.stdout and manual_sql in check.stdout
