"""A run starts from `check`'s checks: after the login it reads the registry's database items once (the
first pass), applies only the fixes their failing ids call for, and reads the same items again only when
a fix was applied (Django's system checks). Seen where it cannot be faked: the server's own statement
log (log_statement = all for the test's database), and `check`'s verdict on the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from support.databases import Database
from support.dbstate import add_sample_data, run_sql
from support.program import run_inprocess
from support.wizard_walk import walk

from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import migrations as migrations_msg

# One statement each check sends, and nothing else does (server_facts, checks_database, migration_history,
# dev_user, checkpoints). The server's version is read from what it reported at login: no statement asks.
READS = {
    "privileges": "has_schema_privilege('public', 'CREATE')",
    "encoding": "pg_encoding_to_char(encoding)",
    "migrations": "WHERE kind <> 'repair'",
    "dev_user": "WHERE id = 1)",
    "checkpoints": "WHERE to_regclass(n) IS NOT NULL",
}
DEV_USER_INSERT = "VALUES (1, 'test@test.com'"
WRITES = ("INSERT ", "UPDATE ", "DELETE ", "CREATE ", "ALTER ", "DROP ")

Verdict = list[tuple[str, str, str | None]]
T = TypeVar("T")


def logged(database: Database, action: Callable[[], T]) -> tuple[T, str]:
    """What the server received from the action's sessions in this database, in order."""
    log = database.server.root / "log"
    run_sql(database, f'ALTER DATABASE "{database.name}" SET log_statement = \'all\'')
    start = log.stat().st_size
    result = action()
    with log.open("rb") as stream:
        stream.seek(start)
        text = stream.read().decode("utf-8", errors="replace")
    run_sql(database, f'ALTER DATABASE "{database.name}" RESET log_statement')
    return result, text


def reads(text: str) -> dict[str, int]:
    return {check: text.count(statement) for check, statement in READS.items()}


def check_verdict(database: Database, folder: Path, ids: set[str]) -> Verdict:
    steps = run_inprocess("check", "--json", "--dsn", database.url, cwd=folder).json()["steps"]
    return [(step["id"], step["status"], step["code"]) for step in steps if step["id"] in ids]


def up_to_date(database: Database, folder: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=2)
    assert run_inprocess("--yes", "--dsn", database.url, cwd=folder).code == 0


@pytest.mark.parametrize("mode", [[], ["--json"], ["-v"]], ids=["text", "json", "verbose"])
def test_an_up_to_date_yes_reads_the_checklist_once_and_changes_nothing(
        database: Database, tmp_path: Path, mode: list[str]) -> None:
    up_to_date(database, tmp_path)
    result, text = logged(database, lambda: run_inprocess("--yes", *mode, "--dsn", database.url, cwd=tmp_path))
    assert result.code == 0, result.stdout + result.stderr
    assert reads(text) == dict.fromkeys(READS, 1), text
    assert "server_version" not in text, text
    assert not [line for line in text.splitlines() if any(write in line for write in WRITES)]
    assert finish_msg.CHECKLIST_TITLE in result.stdout or mode == ["--json"]


def test_the_wizard_on_an_up_to_date_database_reads_the_checklist_once(database: Database, tmp_path: Path) -> None:
    up_to_date(database, tmp_path)
    (report, prompter, screen), text = logged(database, lambda: walk(tmp_path, database.url, []))
    assert report.ok and prompter.questions == [], screen
    assert reads(text) == dict.fromkeys(READS, 1), text
    assert finish_msg.CHECKLIST_TITLE in screen and finish_msg.RERUN_ALL_GOOD in screen


def test_a_walk_that_only_adds_the_dev_user_says_the_database_changed(database: Database, tmp_path: Path) -> None:
    """The run knows from the fix itself that it added user 1 (not from the words it shows)."""
    up_to_date(database, tmp_path)
    run_sql(database, "DELETE FROM users WHERE id = 1")
    report, prompter, screen = walk(tmp_path, database.url, [True])
    assert prompter.questions == [backend_needs_msg.ASK_CREATE_DEV_USER], screen
    assert report.ok and report.changed
    assert finish_msg.SUMMARY_OK in screen and finish_msg.RERUN_ALL_GOOD not in screen
    run_sql(database, "DELETE FROM users WHERE id = 1")
    declined, prompter, screen = walk(tmp_path, database.url, [False])
    assert prompter.questions == [backend_needs_msg.ASK_CREATE_DEV_USER], screen
    assert not declined.ok and not declined.changed


def test_the_fixes_are_what_the_first_pass_found_and_the_last_screen_reads_again(
        database: Database, tmp_path: Path) -> None:
    up_to_date(database, tmp_path)
    run_sql(database, "DELETE FROM users WHERE id = 1")
    ids = {"server_version", "privileges", "table_access", "encoding", "migrations", "checksums", "schema_tables",
           "schema_indexes", "schema_constraints", "schema_triggers", "search_path", "backend_tables", "dev_user",
           "verification", "checkpoints"}
    before = check_verdict(database, tmp_path, ids)
    assert [item for item in before if item[1] == "fail"] == [("dev_user", "fail", "dev_user_missing")]

    result, text = logged(database, lambda: run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path))
    assert result.code == 0, result.stdout
    # Every check read before anything changed; the one fix its failing id calls for; then every check again.
    assert DEV_USER_INSERT in text, text
    cut = text.rfind("\n", 0, text.index(DEV_USER_INSERT))  # the line of the one change
    first, last = text[:cut], text[cut:]
    assert reads(first) == dict.fromkeys(READS, 1), first  # the fix adds what the first pass found missing
    assert reads(last) == dict.fromkeys(READS, 1), last
    assert not [line for line in first.splitlines() if any(write in line for write in WRITES)]
    report = result.json()
    steps = {step["id"]: step for step in report["steps"]}
    assert steps["dev_user"]["detail"] == backend_needs_msg.DEV_USER_CREATED
    assert "repairs" not in steps and {m["action"] for m in report["migrations"]} == {"skipped"}
    run_said = [(item["id"], item["status"], item["code"]) for item in report["checklist"]]
    assert check_verdict(database, tmp_path, ids) == run_said
    assert ("dev_user", "ok", None) in run_said


@pytest.mark.parametrize("mode", [[], ["--json"]], ids=["text", "json"])
def test_changed_files_stop_the_run_with_checks_own_item(database: Database, tmp_path: Path, mode: list[str]) -> None:
    """Files changed after they were applied: the run says what `check` says (every changed file, under the
    checksum item), before anything is planned, and changes nothing."""
    from setup_wizard.database.migration_history import HISTORY_TABLE

    up_to_date(database, tmp_path)
    run_sql(database, f"UPDATE {HISTORY_TABLE} SET checksum = 'edited' "
                      "WHERE name IN ('0002_sessions.sql', '0004_memory_tables.sql')")
    check = {step["id"]: step for step in
             run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    said = check["checksums"]
    assert said["code"] == "checksum_mismatch" and "0004_memory_tables.sql" in said["detail"]
    result, text = logged(database, lambda: run_inprocess("--yes", *mode, "--dsn", database.url, cwd=tmp_path))
    assert result.code == 1
    assert not [line for line in text.splitlines() if any(write in line for write in WRITES)]
    if mode:
        failed = [step for step in result.json()["steps"] if step["status"] == "fail"]
        assert failed == [said]
    else:
        assert migrations_msg.STEP_CHECKSUMS in result.stdout and "[checksum_mismatch]" not in result.stderr
        assert all(name in result.stdout for name in ("0002_sessions.sql", "0004_memory_tables.sql"))


def test_tables_dropped_after_the_migrations_are_found_by_the_first_pass_and_made_again(
        database: Database, tmp_path: Path) -> None:
    """The live database is the truth: every file recorded as applied, no table left. `check` says so (not
    "nothing yet"), and the run's first pass chooses the repairs that run the files again."""
    up_to_date(database, tmp_path)
    run_sql(database, "DROP TABLE chat_messages, entity_memories, user_preferences, conversation_memories, "
                      "chat_sessions, sessions, users CASCADE")
    ids = {"migrations", "schema_tables", "dev_user", "verification"}
    before = dict((id_, (status, code)) for id_, status, code in check_verdict(database, tmp_path, ids))
    assert before["migrations"] == ("ok", None)
    assert before["schema_tables"] == ("fail", "schema_drift")
    result = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert result.code == 0, result.stdout
    steps = {step["id"]: step for step in result.json()["steps"]}
    assert steps["repairs"]["status"] == "ok" and steps["dev_user"]["detail"] == backend_needs_msg.DEV_USER_CREATED
    run_said = [(item["id"], item["status"], item["code"]) for item in result.json()["checklist"]]
    assert ("schema_tables", "ok", None) in run_said
    assert check_verdict(database, tmp_path, {item[0] for item in run_said}) == run_said


def sent(text: str) -> list[str]:
    """Each statement of a log_statement = all log, its text on one line."""
    import re

    parts = re.split(r"LOG:\s+(?:statement|execute [^:]*): ", text)[1:]
    return [" ".join(part.split("\n2")[0].split()) for part in parts]


@pytest.mark.parametrize("mode", [[], ["--json"], ["-v"]], ids=["text", "json", "verbose"])
def test_check_asks_each_fact_once_and_related_facts_together(
        database: Database, tmp_path: Path, mode: list[str]) -> None:
    """What `check` asks an up-to-date database: the verification's counts in one statement (chat_sessions,
    the memories, the memory tables and chat_messages), the tables' privileges with how many of them there
    are, and the search_path once for its item (from pg_settings only when it is unusable). Fewer round
    trips, the same verdict (test_same_verdict)."""
    up_to_date(database, tmp_path)
    result, text = logged(database, lambda: run_inprocess("check", *mode, "--dsn", database.url, cwd=tmp_path))
    assert result.code == 0, result.stdout + result.stderr
    statements = sent(text)
    counts = [s for s in statements if "FROM user_preferences" in s or "FROM chat_messages" in s]
    assert len(counts) == 1 and "FROM entity_memories" in counts[0] and "FROM chat_sessions" in counts[0], counts
    access = [s for s in statements if "has_table_privilege(oid, 'SELECT')" in s]
    assert len(access) == 1 and "to_regclass(format(" in access[0], access
    assert not [s for s in statements if "count(*) FROM unnest(" in s and s not in access], statements
    assert "SELECT current_setting('search_path')" not in statements, statements
    # pg_settings computes every setting: read only to explain an unusable search_path, not to find it fine.
    assert not [s for s in statements if "pg_settings" in s], statements
    assert len(statements) == CHECK_STATEMENTS, "\n".join(statements)


# What `check` sends to an up-to-date database, the session's settings included (bench_startup's floor
# process sends as many).
CHECK_STATEMENTS = 33
