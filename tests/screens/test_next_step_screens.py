"""A newcomer's day one in a real pseudo-terminal: each situation ends with what to do next, on screen.

Each test runs the real `python -m setup_wizard`, answers key by key, and asserts what the screen says
(not only the exit status): the failure's own fix is the last thing shown, nothing claims readiness it
has not earned, and TERM=dumb at 60 columns draws within 60 columns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.databases import Database
from support.dbstate import add_sample_data
from support.pgserver import free_port
from support.program import PASSWORD, backend_form
from support.ptyrun import Terminal

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import cli as cli_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import settings as settings_msg

ENTER, CTRL_C, DOWN = "\r", "\x03", "\x1b[B"
HOST, PORT, USER, DBNAME = (
    screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES[n]) for n in ("host", "port", "user", "dbname")
)
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal")


class Newcomer(Terminal):
    def __init__(self, cwd: Path, term: str = "xterm", columns: int = 100) -> None:
        super().__init__(cwd, term, columns, timeout=20)

    @property
    def screen(self) -> str:
        return self.output

    def last_part(self) -> str:
        text = self.screen
        return text[text.rindex(finish_msg.SUMMARY_NOT_READY):] if finish_msg.SUMMARY_NOT_READY in text else ""


def project(root: Path, url: str | None) -> Path:
    (root / "backend").mkdir(parents=True)
    if url is not None:
        (root / "backend" / ".env").write_text(f"DATABASE_URL={backend_form(url)}\n", encoding="utf-8")
    return root


@pytest.mark.slow
def test_wrong_password_twice_then_quit_ends_with_the_login_fix(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.server.url(database.name, password="wrong"))
    run = Newcomer(root)
    for _ in range(2):
        run.ask(screens_msg.ASK_NEXT, ENTER)  # "retype the password" is the first choice
        run.ask("의 비밀번호", "still-wrong" + ENTER)
    run.ask(screens_msg.ASK_NEXT, DOWN + DOWN + ENTER)  # arrow keys down to "quit"
    assert run.finish() == 1
    final = run.last_part()
    assert finish_msg.NEXT_FOR_FAILURE.format(title=login_msg.STEP_LOGIN) in final
    assert "1." in final and finish_msg.SUMMARY_OK not in run.screen
    assert catalogue_msg.CODE_LINE.format(code="auth_failed") in run.screen  # findable, after the text


@pytest.mark.slow
def test_stopped_server_ends_with_how_to_start_it(tmp_path: Path) -> None:
    root = project(tmp_path, f"postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/real_estate")
    run = Newcomer(root)
    run.ask(screens_msg.ASK_NEXT, "\x1b[A" + ENTER)  # arrow up wraps to the last choice: quit
    assert run.finish() == 1
    final = run.last_part()
    assert finish_msg.NEXT_FOR_FAILURE.format(title=login_msg.STEP_SERVER) in final
    assert "python -m setup_wizard" in final  # the catalogue's steps end with the rerun


@pytest.mark.slow
def test_no_env_file_every_value_is_asked_and_saved(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, None)
    run = Newcomer(root)
    run.ask(HOST, "\x15127.0.0.1" + ENTER)  # Ctrl+U clears the default first
    run.ask(PORT, "\x15" + str(database.server.port) + ENTER)
    run.ask(USER, ENTER)
    run.ask(DBNAME, "\x15" + database.name + ENTER)
    run.ask("의 비밀번호", PASSWORD + ENTER)
    run.ask(envfiles_msg.ASK_SAVE, ENTER)
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)  # no
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)
    assert run.finish() == 0
    assert finish_msg.SUMMARY_OK in run.screen and (root / "backend" / ".env").exists()


@pytest.mark.slow
def test_wrong_folder_uses_the_projects_backend_env(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path / "repo", database.url)
    (root / ".git").mkdir()
    (root / "frontend").mkdir()
    with database.connect() as conn:
        add_sample_data(conn, users=2, per_user=1)
    run = Newcomer(root / "frontend")
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    assert run.finish() == 0
    assert str((root / "backend" / ".env").resolve()) in run.screen.replace("\n", "")
    assert not (root / "frontend" / ".env").exists() and not (root / "frontend" / "backend").exists()


@pytest.mark.slow
def test_declined_dev_user_is_not_ready(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Newcomer(root)
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, DOWN + ENTER)  # no
    assert run.finish() == 1
    assert finish_msg.SUMMARY_OK not in run.screen
    assert "setval" in run.last_part()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["select", "confirm", "text", "password"])
def test_ctrl_c_at_every_kind_of_question_changes_nothing(database: Database, tmp_path: Path, where: str) -> None:
    if where == "select":
        root = project(tmp_path, database.server.url(database.name, password="wrong"))
        question = screens_msg.ASK_NEXT
    elif where == "confirm":
        root = project(tmp_path, database.url)
        question = migrations_msg.ASK_CONFIRM_APPLY
    else:
        root = project(tmp_path, None)
        question = HOST if where == "text" else "의 비밀번호"
    run = Newcomer(root)
    if where == "password":
        for _ in range(4):
            run.ask((HOST, PORT, USER, DBNAME)[_], ENTER)
    run.ask(question, CTRL_C)
    assert run.finish() == 130
    assert cli_msg.INTERRUPTED in run.screen
    assert database.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0


@pytest.mark.slow
def test_term_dumb_at_60_columns_stays_within_60_columns(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Newcomer(root, term="dumb", columns=60)
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", "n" + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)
    assert run.finish() == 0
    from rich.cells import cell_len

    drawn = [line for line in run.screen.splitlines() if line.startswith(("+", "|", "-", "="))]
    assert drawn and max(cell_len(line) for line in drawn) <= 60
