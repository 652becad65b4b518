"""One flow: the same situation through the wizard's door and through --yes ends in the same report."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from support.databases import Database
from support.dbstate import add_sample_data, hand_migrate
from support.program import backend_form, clean_environ
from support.scripted import ScriptedPrompter

from setup_wizard import cli
from setup_wizard.database.checkpoints import library_installed
from setup_wizard.environment import Environment
from setup_wizard.flow.options import Options
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.ui import wizard
from setup_wizard.ui.render import ASCII_SYMBOLS
from setup_wizard.ui.screen import Screen

Outline = list[tuple[str, str, str | None]]


def _twin(database: Database) -> Database:
    """A second database on the same server, for the other door."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(**database.server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    return Database(database.server, name)


def _drop(db: Database) -> None:
    with psycopg.connect(**db.server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def _project(root: Path, url: str) -> Path:
    (root / "backend").mkdir(parents=True)
    (root / "backend" / ".env").write_text(f"DATABASE_URL={backend_form(url)}\n", encoding="utf-8")
    return root


def _through_yes(root: Path) -> tuple[int, Outline]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ=clean_environ(), cwd=root)
    code = cli.main(["--yes", "--json"], env)
    document = json.loads(out.getvalue())
    return code, [(s["id"], s["status"], s["code"]) for s in document["steps"]]


class AgreeingPrompter(ScriptedPrompter):
    """Says yes to every yes/no question, as --yes does; nothing else is expected."""

    def confirm(self, message: str, default: bool = True) -> bool:
        self.questions.append(message)
        return True


def _through_wizard(root: Path, answers: list[object] | None) -> tuple[bool, Outline, list[str]]:
    out = io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=out, environ=clean_environ(), cwd=root)
    prompter = AgreeingPrompter([]) if answers is None else ScriptedPrompter(answers)
    report = wizard.run(Options(), env, prompter, Screen(Console(file=out, width=100), ASCII_SYMBOLS))
    return report.ok, [(s.id, s.status.value, s.code) for s in report.steps], prompter.questions


def _prepare(db: Database, kind: str) -> None:
    with db.connect() as conn:
        if kind in ("data", "hand"):
            add_sample_data(conn, users=3, per_user=2)
        if kind == "data":
            conn.execute("DELETE FROM users WHERE id = 1")  # the dev user is missing: a fix to offer
        if kind == "hand":
            hand_migrate(conn)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["empty", "data", "hand"])
def test_wizard_saying_yes_and_yes_end_in_the_same_report(database: Database, tmp_path: Path, kind: str) -> None:
    twin = _twin(database)
    try:
        _prepare(database, kind)
        _prepare(twin, kind)
        code, by_yes = _through_yes(_project(tmp_path / "yes", database.url))
        # The person agrees to everything --yes would do: apply, repairs, LangGraph's tables, the dev user.
        ok, by_wizard, questions = _through_wizard(_project(tmp_path / "wizard", twin.url), None)
    finally:
        _drop(twin)
    assert code == 0 and ok
    assert migrations_msg.ASK_CONFIRM_APPLY in questions
    assert (backend_needs_msg.ASK_CREATE_DEV_USER in questions) == (kind != "hand")
    assert (backend_needs_msg.ASK_CREATE_CHECKPOINTS in questions) == library_installed()
    assert by_wizard == by_yes
    assert ("dev_user", "ok", None) in by_yes
    assert [step[0] for step in by_yes][:3] == ["postgres", "psql", "env_file"]


def test_a_rerun_reads_the_same_through_both_doors(database: Database, tmp_path: Path) -> None:
    root = _project(tmp_path / "p", database.url)
    assert _through_yes(root)[0] == 0
    code, by_yes = _through_yes(root)
    ok, by_wizard, questions = _through_wizard(root, [])  # a ready database: nothing is asked
    assert code == 0 and ok and questions == []
    assert by_wizard == by_yes
    assert ("migrations", "ok", None) in by_yes


def test_a_wrong_password_reads_the_same_through_both_doors(database: Database, tmp_path: Path) -> None:
    url = database.server.url(database.name, password="wrong")
    root = _project(tmp_path / "p", url)
    code, by_yes = _through_yes(root)
    # The wizard offers to retype; the person quits at once, as --yes cannot ask.
    ok, by_wizard, questions = _through_wizard(root, ["quit"])
    assert code == 1 and not ok and questions == [screens_msg.ASK_NEXT]
    assert by_wizard == by_yes
    assert by_yes[-1] == ("login", "fail", "auth_failed")


def test_a_rerun_repairs_drift_behind_the_history_and_is_ready_only_when_it_holds(
        database: Database, tmp_path: Path) -> None:
    from setup_wizard.database.drift import find_drift

    root = _project(tmp_path / "p", database.url)
    assert _through_yes(root)[0] == 0
    with database.connect() as conn:  # a teammate's script changes the schema behind the history table
        conn.execute("DROP INDEX idx_chat_sessions_user_updated")
        conn.execute("DROP TRIGGER trigger_update_session_message_count ON conversation_memories")
    code, by_yes = _through_yes(root)
    assert code == 0 and ("repairs", "ok", None) in by_yes
    with database.connect() as conn:
        assert find_drift(conn) == []
        # Something no repair may do safely: the rerun is not "ready", and says what to run.
        conn.execute("ALTER TABLE sessions ALTER COLUMN session_id TYPE text")
    code, by_yes = _through_yes(root)
    assert code == 1
    assert ("readiness", "fail", "schema_drift") in by_yes or any(s[2] == "schema_drift_manual" for s in by_yes)
