"""The walk in-process, against the real test server, with scripted answers; and the prompter fallback."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from support.databases import Database
from support.dbstate import add_sample_data, hand_migrate, planned, snapshot
from support.probe_migration import probe_dir
from support.program import assert_no_secret
from support.wizard_walk import CP, walk

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.preview import describe_pending, summarise_notices
from setup_wizard.errors import Interrupted
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.problems import catalogue
from setup_wizard.results import Status
from setup_wizard.ui.prompts import QuestionaryPrompter, questionary_usable

# With the [checkpoints] extra installed the walk also offers LangGraph's tables, right after the apply.
CPQ = [backend_needs_msg.ASK_CREATE_CHECKPOINTS] if library_installed() else []

ALL = [m.name for m in load_migrations()]


def test_plan_says_what_happens_to_this_database(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=3, per_user=4)
        lines = dict(describe_pending(conn, ALL))
    assert lines["0001_prerequisites.sql"] == planned("0001_prerequisites.sql", 1)
    assert lines["0002_sessions.sql"] == planned("0002_sessions.sql", 1)
    assert "사용자 3명의 대화 12개를 '이전 대화 (마이그레이션)' 세션으로 연결합니다" in lines["0003_chat_sessions.sql"]


def test_plan_for_a_hand_migrated_database_names_the_duplicate_trigger(database: Database) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        hand_migrate(conn)
        text = dict(describe_pending(conn, ALL))["0003_chat_sessions.sql"]
    assert text.startswith(planned("0003_chat_sessions.sql", 1)) and "count_messages_again" in text


def test_notices_are_summarised_in_korean() -> None:
    summary = summarise_notices([
        "setup_wizard:memories-migrated users=1204 sessions=1204",
        "setup_wizard:session-fk-kept name=conversation_memories_session_id_fkey",
        'relation "idx_expires_at" already exists, skipping',
        '릴레이션 "sessions" 이미 있음, 건너뜀',
        'trigger "count_messages" for relation "conversation_memories" does not exist, skipping',
        "something else entirely",
    ])
    assert summary == [
        "사용자 1,204명의 기존 대화를 '이전 대화 (마이그레이션)' 세션 1,204개로 연결했습니다.",
        "conversation_memories.session_id 에는 외래 키(conversation_memories_session_id_fkey)가 이미 있어 새로 "
        "만들지 않았습니다.",
        migrations_msg.NOTICE_EXISTS_SKIPPED.format(count=2),
        migrations_msg.NOTICE_MISSING_SKIPPED.format(count=1),
        migrations_msg.NOTICE_OTHER.format(count=1),
        migrations_msg.NOTICE_SEE_ORIGINALS,
    ]
    # Under -v the originals are shown, so no pointer to -v.
    assert migrations_msg.NOTICE_SEE_ORIGINALS not in summarise_notices(["x already exists, skipping"], verbose=True)


def test_walk_applies_after_one_confirmation_and_a_rerun_asks_nothing(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=3)
    report, prompter, text = walk(tmp_path, database.url, [True, *CP])
    assert report.ok, text
    assert prompter.questions == [migrations_msg.ASK_CONFIRM_APPLY, *CPQ]
    assert (
        "사용자 2명의 대화 6개" in text and finish_msg.CHECKLIST_TITLE in text and finish_msg.NEXT_STEPS_TITLE in text
    )
    # The last screen is `check`'s database items, read again after the run's fixes.
    assert all(
        title in text
        for title in (
            migrations_msg.STEP_MIGRATIONS,
            schema_msg.STEP_SCHEMA_TABLES,
            schema_msg.STEP_SCHEMA_TRIGGERS,
            schema_msg.STEP_SEARCH_PATH,
            backend_needs_msg.STEP_DEV_USER,
        )
    ), text
    assert [item.id for item in report.checklist][:2] == ["server_version", "privileges"]
    ids = [step.id for step in report.steps]
    order = ["postgres", "psql", "env_file", "backend_env", "backend_url", "settings", "server", "login", "database"]
    assert [i for i in ids if i in order] == order
    assert {m.action for m in report.migrations} == {"applied"}
    assert_no_secret(text)

    again, prompter, text = walk(tmp_path, database.url, [])  # any question would raise Interrupted
    assert again.ok and prompter.questions == []
    assert finish_msg.RERUN_ALL_GOOD in text, text
    assert migrations_msg.MIGRATIONS_UP_TO_DATE.format(count=len(ALL)) in text
    items = {item.id: item for item in again.checklist}  # the rerun's last screen: check's items read again
    assert all(items[name].status is Status.OK for name in
               ("migrations", "checksums", "schema_tables", "schema_indexes", "schema_constraints",
                "schema_triggers", "search_path", "dev_user"))
    if library_installed():  # created through the library's setup() when the walk offered it
        assert items["checkpoints"].status is Status.OK
    else:
        assert items["checkpoints"].detail == backend_needs_msg.CHECKPOINTS_ABSENT


def test_declining_changes_nothing(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn)
        before = snapshot(conn)
    report, _, text = walk(tmp_path, database.url, [False])
    assert report.ok and migrations_msg.APPLY_DECLINED in text
    with database.connect() as conn:
        assert snapshot(conn) == before


def test_dev_user_1_is_offered_on_an_empty_database(database: Database, tmp_path: Path) -> None:
    report, prompter, _ = walk(tmp_path, database.url, [True, *CP, True])
    assert prompter.questions == [migrations_msg.ASK_CONFIRM_APPLY, *CPQ, backend_needs_msg.ASK_CREATE_DEV_USER]
    assert report.ok
    assert database.scalar("SELECT email FROM users WHERE id = 1") == "test@test.com"
    with database.connect() as conn:  # the sequence moved past 1: the next user does not collide
        conn.execute("INSERT INTO users (email, type) VALUES ('next@example.com', 'USER')")
    assert database.scalar("SELECT max(id) FROM users") == 2


# --- the prompter: questionary, and the fallback when it cannot start ----------------------------------


class NoConsoleScreenBufferError(Exception):
    """Stands in for prompt_toolkit.output.win32's error, which cannot be imported off Windows."""


class BrokenToolkit:
    """questionary as Git Bash/mintty on Windows sees it: every question fails to start."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error
        self.calls = 0

    def Choice(self, title: str, value: str) -> tuple[str, str]:
        return (title, value)

    def _fail(self, *args: object, **kwargs: object) -> None:
        self.calls += 1
        raise self.error("Found xterm-256color, while expecting a Windows console.")

    text = password = confirm = select = _fail


@pytest.fixture
def terminal() -> Any:
    """Both ends of a real pseudo-terminal, so that the prompter sees a TTY."""
    master, slave = os.openpty()
    stdin = os.fdopen(slave, "r", encoding="utf-8", closefd=False)
    stream = os.fdopen(os.dup(slave), "w", encoding="utf-8")
    yield master, stdin, stream
    stdin.close()
    stream.close()
    os.close(slave)
    os.close(master)


def test_fallback_to_plain_prompts_when_questionary_cannot_start(terminal: Any) -> None:
    master, stdin, stream = terminal
    notices: list[str] = []
    toolkit = BrokenToolkit(NoConsoleScreenBufferError)
    prompter = QuestionaryPrompter(stdin, stream, {"TERM": "xterm-256color"}, notices.append, toolkit=toolkit)
    assert prompter.active
    os.write(master, b"2\ny\n5433\n")
    assert prompter.select("어떻게 할까요?", [("retry", "다시"), ("quit", "끝내기")]) == "quit"
    assert prompter.confirm("적용할까요?") is True
    assert prompter.text("포트", "5432") == "5433"
    assert notices == [screens_msg.PROMPT_FALLBACK]
    assert toolkit.calls == 1 and prompter.failure == "NoConsoleScreenBufferError"


def test_ctrl_c_in_questionary_is_an_interruption_not_a_fallback(terminal: Any) -> None:
    _master, stdin, stream = terminal
    toolkit = BrokenToolkit(KeyboardInterrupt)
    prompter = QuestionaryPrompter(stdin, stream, {"TERM": "xterm"}, lambda _text: None, toolkit=toolkit)
    with pytest.raises(Interrupted):
        prompter.confirm("적용할까요?")
    assert prompter.active


def test_questionary_is_not_tried_where_it_cannot_draw(terminal: Any) -> None:
    _master, stdin, stream = terminal
    assert questionary_usable(stdin, stream, {"TERM": "xterm"})
    assert not questionary_usable(stdin, stream, {"TERM": "dumb"})
    assert not questionary_usable(io.StringIO(), stream, {"TERM": "xterm"})


def test_without_any_env_file_every_value_is_asked_and_a_new_env_file_is_offered(
    database: Database, tmp_path: Path
) -> None:
    from support.program import PASSWORD

    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.load import load_settings

    port = str(database.server.port)
    report, prompter, text = walk(tmp_path, None, ["127.0.0.1", port, "", database.name, PASSWORD,
                                                   True, True, *CP, True])
    assert report.ok, text
    assert prompter.questions[:4] == [screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES[name])
                                      for name in ("host", "port", "user", "dbname")]
    assert prompter.questions[5:] == [
        envfiles_msg.ASK_SAVE,
        migrations_msg.ASK_CONFIRM_APPLY,
        *CPQ,
        backend_needs_msg.ASK_CREATE_DEV_USER,
    ]
    written = read_env_file(tmp_path / "backend" / ".env").values
    assert list(written) == ["DATABASE_URL"]
    settings = load_settings(None, {}, written, None)
    assert (settings.host, settings.port, settings.user, settings.password, settings.dbname) == (
        "127.0.0.1", int(port), "postgres", PASSWORD, database.name)
    assert written["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert_no_secret(text)


def test_a_wrong_password_is_asked_again_then_saved(database: Database, tmp_path: Path) -> None:
    from support.program import PASSWORD

    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.load import load_settings

    wrong = database.server.url(database.name, password="wrong")
    report, prompter, text = walk(tmp_path, wrong, ["password", PASSWORD, True, True, *CP, True])
    assert report.ok, text
    assert prompter.questions[0] == screens_msg.ASK_NEXT and prompter.questions[2] == envfiles_msg.ASK_SAVE
    assert catalogue()["auth_failed"].title in text
    saved = load_settings(None, {}, read_env_file(tmp_path / "backend" / ".env").values, None)
    assert saved.password == PASSWORD


def test_a_stopped_server_is_explained_and_quitting_fails_the_run(tmp_path: Path) -> None:
    from support.pgserver import free_port

    report, _prompter, text = walk(tmp_path, f"postgresql://postgres:x@127.0.0.1:{free_port()}/db", ["quit"])
    assert not report.ok
    assert [s.code for s in report.steps if s.status is Status.FAIL] == ["server_not_running"]
    assert catalogue()["server_not_running"].title in text and finish_msg.SUMMARY_NOT_READY in text


def test_stopped_windows_service_is_offered_and_a_declined_uac_prompt_shows_the_manual_steps(
        tmp_path: Path) -> None:
    from support.pgserver import free_port
    from support.recorded import windows_two_versions

    from setup_wizard.machine.system import ERROR_CANCELLED, Elevation

    system = windows_two_versions(elevation=Elevation(error=ERROR_CANCELLED))
    url = f"postgresql://postgres:x@localhost:{free_port()}/real_estate"
    # psql is not on PATH: adding it is declined first.
    report, prompter, text = walk(tmp_path, url, [False, "fix", True, "quit"], system=system)
    assert not report.ok
    assert prompter.questions[1] == screens_msg.ASK_NEXT
    assert system.actions == ["elevated sc.exe start postgresql-x64-17"]  # the UAC prompt, declined
    assert "services.msc" in text
    failed = [s.code for s in report.steps if s.status is Status.FAIL]
    assert failed == ["service_start_declined", "server_not_running"]



def test_declining_the_dev_user_is_not_called_ready(database: Database, tmp_path: Path) -> None:
    """The first chat would fail: the verdict and the exit status say so, and the last thing shown is the fix."""
    report, _prompter, text = walk(tmp_path, database.url, [True, *[False for _ in CP], False])
    assert not report.ok
    assert [s.code for s in report.steps if s.status is Status.FAIL] == ["dev_user_missing"]
    assert finish_msg.SUMMARY_OK not in text and finish_msg.SUMMARY_NOT_READY in text
    final = text[text.rindex(finish_msg.SUMMARY_NOT_READY):]
    assert finish_msg.NEXT_FOR_FAILURE.format(title=backend_needs_msg.STEP_DEV_USER) in final and "setval" in final


def test_a_probe_migration_is_planned_and_its_notice_told_on_the_wizards_screens(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new file in the migrations folder (the sql_dir seam), declaring its plan and its notice: the wizard
    tells both in Korean, with no code knowing the file."""
    from setup_wizard.database import migration_files

    folder = probe_dir(tmp_path)
    monkeypatch.setattr(migration_files, "sql_dir", lambda: folder)
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=1)
    report, _prompter, text = walk(tmp_path, database.url, [True, *CP])
    assert report.ok, text
    assert "0099_probe.sql" in text and "사용자 2명을 시험용 표에 적습니다." in text  # the plan
    assert "시험용 표에 사용자 2명을 적었습니다 (probe (user_id))." in text  # the notice, told
    assert "setup_wizard:probe-written" not in text  # the original only under -v
