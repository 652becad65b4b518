"""What a newcomer reads: each screen true, said once, in Korean, within the terminal's width.

Each test runs the real `python -m setup_wizard` (pexpect in a pseudo-terminal for the wizard, a
subprocess for `--yes` and `check`) and asserts what the screen says. Debian's `pg_lsclusters` is
replaced by a script on PATH where a test needs a cluster on a given port and state.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from support.databases import Database
from support.dbstate import planned
from support.pgserver import free_port
from support.program import backend_form, clean_environ, run_cli
from support.ptyrun import Terminal

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import server as server_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.problems import catalogue

ENTER, UP, DOWN = "\r", "\x1b[A", "\x1b[B"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal")


def words(text: str) -> str:
    """The screen as running text: box sides dropped, wrapped lines joined, runs of spaces made one."""
    return " ".join(re.sub(r"[│|]", " ", text).split())


def project(root: Path, url: str | None) -> Path:
    (root / "backend").mkdir(parents=True)
    if url is not None:
        (root / "backend" / ".env").write_text(f"DATABASE_URL={backend_form(url)}\n", encoding="utf-8")
    return root


def clusters_on_path(folder: Path, *rows: str) -> str:
    """A PATH whose pg_lsclusters lists these clusters (Ver Cluster Port Status Owner Datadir Logfile)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "pg_lsclusters"
    script.write_text("#!/bin/sh\ncat <<'EOF'\n" + "\n".join(rows) + "\nEOF\n", encoding="utf-8")
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def finish_happy_path(run: Terminal, dev_user: bool = True, checkpoints: bool = False) -> int:
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        no = DOWN + ENTER if run.term != "dumb" else "n" + ENTER
        run.ask("LangGraph 체크포인트 테이블", ENTER if checkpoints else no)
    if dev_user:
        run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)
    return run.finish()


# 1. A stopped server: the fix that starts *this* server, shown with the choice ----------------------------
@pytest.mark.slow
def test_stopped_cluster_its_start_command_is_shown_with_the_choice(tmp_path: Path) -> None:
    port = free_port()
    path = clusters_on_path(tmp_path / "bin", f"15  main  {port}  down  postgres  /var/lib/postgresql/15/main  x.log",
                            "15  other  5432  online  postgres  /var/lib/postgresql/15/other  y.log")
    root = project(tmp_path / "p", f"postgresql://postgres:pw@127.0.0.1:{port}/real_estate")
    run = Terminal(root, PATH=path)
    run.ask(screens_msg.ASK_NEXT, "")
    asked = words(run.output)
    assert "pg_ctlcluster 15 main start" in asked and "/var/lib/postgresql/15/main" in asked
    assert words(server_msg.SERVER_START_THEN_RETRY) in asked  # inside the wizard: the choice below, not a rerun
    assert "connection refused" not in asked and "systemctl start postgresql" not in asked
    run.child.send(UP + ENTER)  # up wraps to the last choice: quit
    assert run.finish() == 1
    final = words(run.output[run.output.rindex(finish_msg.SUMMARY_NOT_READY):])
    assert "pg_ctlcluster 15 main start" in final and words(server_msg.SERVER_START_THEN_RERUN) in final
    assert words(run.output).count("pg_ctlcluster 15 main start") == 2  # with the choice, and last: not more


def test_stopped_cluster_check_names_it_too(tmp_path: Path) -> None:
    port = free_port()
    path = clusters_on_path(tmp_path / "bin", "15  main  5432  down  postgres  /var/lib/postgresql/15/main  x.log")
    root = project(tmp_path / "p", f"postgresql://postgres:pw@127.0.0.1:{port}/real_estate")
    result = run_cli("check", cwd=root, env=clean_environ(PATH=path))
    out = words(result.stdout)
    # No cluster on this port: what there is, its state, and how to use it.
    assert server_msg.SERVER_NO_CLUSTER_ON_PORT.format(port=port, servers="15/main (5432 포트, 멈춤)") in out
    assert "pg_ctlcluster 15 main start" in out and "systemctl" not in out


# 2. A port hint only from what was observed ----------------------------------------------------------------
@pytest.mark.slow
def test_wrong_password_a_stopped_cluster_is_said_to_be_stopped(database: Database, tmp_path: Path) -> None:
    path = clusters_on_path(tmp_path / "bin", "15  main  5432  down  postgres  /var/lib/postgresql/15/main  x.log")
    root = project(tmp_path / "p", database.server.url(database.name, password="wrong"))
    stopped = words(login_msg.LOGIN_HELP_OTHER_PORT_STOPPED.format(version="15", other=5432, port=database.server.port))
    run = Terminal(root, PATH=path)
    run.ask(screens_msg.ASK_NEXT, "")
    assert stopped in words(run.output) and "기다리는데" not in run.output
    run.child.send(UP + ENTER)
    assert run.finish() == 1
    result = run_cli("check", cwd=root, env=clean_environ(PATH=path))
    assert stopped in words(result.stdout)


# 3. The next step's path from where the person is ----------------------------------------------------------
@pytest.mark.slow
def test_next_steps_from_inside_backend_need_no_cd(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Terminal(root / "backend")
    assert finish_happy_path(run) == 0
    final = words(run.output[run.output.rindex(finish_msg.NEXT_STEPS_TITLE):])
    assert words(finish_msg.NEXT_STEPS_WIZARD_HERE) in final and "cd backend" not in final


@pytest.mark.slow
def test_next_steps_from_a_sibling_folder_go_up(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path / "repo", database.url)
    (root / ".git").mkdir()
    (root / "frontend").mkdir()
    result = run_cli("--yes", cwd=root / "frontend")
    assert result.returncode == 0, result.stdout
    assert "cd ../backend 후 uvicorn" in words(result.stdout)


# 6. No backend folder: said first, with where to run it; asked whether to go on -------------------------
@pytest.mark.slow
def test_no_backend_folder_is_said_first_and_asked(tmp_path: Path) -> None:
    (tmp_path / "clone" / "backend").mkdir(parents=True)  # the project, one level down
    run = Terminal(tmp_path)
    run.ask(backend_settings_msg.ASK_CONTINUE_WITHOUT_BACKEND, "")
    asked = run.output
    assert catalogue()["backend_not_found"].title in asked
    assert f"cd {tmp_path / 'clone'}" in words(asked)
    assert (
        screens_msg.SCREEN_INSTALL not in asked and screens_msg.SETTINGS_ASK_INTRO not in asked
    )  # before anything else
    run.child.send(ENTER)  # the default: no
    assert run.finish() == 1
    final = words(run.output[run.output.rindex(finish_msg.SUMMARY_NOT_READY):])
    assert f"cd {tmp_path / 'clone'}" in final
    assert screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["host"]) not in run.output


# 7. Server notices described by what they say; originals under -v ---------------------------------------
@pytest.mark.slow
def test_notices_originals_under_verbose_in_every_mode(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Terminal(root, args=["-v"])
    assert finish_happy_path(run) == 0
    assert "does not exist, skipping" in run.output and migrations_msg.NOTICE_SEE_ORIGINALS not in words(run.output)


@pytest.mark.slow
def test_notices_are_described_by_what_they_say(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Terminal(root)
    assert finish_happy_path(run) == 0
    shown = words(run.output)
    assert "건너뛰었다는 알림이" in shown and words(migrations_msg.NOTICE_SEE_ORIGINALS) in shown
    assert "이미 있는 테이블이나 인덱스는 만들지 않고" not in shown  # the old, untrue summary


@pytest.mark.slow
def test_notices_summary_and_originals_with_yes(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    quiet = run_cli("--yes", cwd=root)
    assert "does not exist, skipping" not in quiet.stdout
    with database.connect() as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    loud = run_cli("--yes", "-v", cwd=root)
    assert loud.returncode == 0, loud.stdout
    assert migrations_msg.NOTICES_ORIGINAL.format(text="") in loud.stdout and "does not exist, skipping" in loud.stdout


# 8. Every shown command targets the server in question ----------------------------------------------------
def test_missing_database_fix_names_host_and_port(database: Database, missing_database_name: str,
                                                  tmp_path: Path) -> None:
    url = database.server.url(missing_database_name, password=database.server.password)
    root = project(tmp_path, url)
    result = run_cli("check", cwd=root)
    assert f"psql -h 127.0.0.1 -p {database.server.port} -U postgres -d postgres" in words(result.stdout)


# 9. JSON and redirected output --------------------------------------------------------------------------
@pytest.mark.slow
def test_check_json_lists_the_applied_migrations_and_text_has_no_trailing_spaces(database: Database,
                                                                                 tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    applied = run_cli("--yes", cwd=root)
    assert applied.returncode == 0, applied.stdout
    assert not [line for line in applied.stdout.splitlines() if line != line.rstrip()]
    assert "0개는" not in applied.stdout  # nothing skipped: not said
    report = json.loads(run_cli("check", "--json", cwd=root).stdout)
    names = [m["name"] for m in report["migrations"]]
    assert "0001_prerequisites.sql" in names and {m["action"] for m in report["migrations"]} == {"skipped"}


# 11. Said once ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_rerun_says_ready_once_and_each_thing_once(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    assert finish_happy_path(Terminal(root), checkpoints=True) == 0
    again = Terminal(root)
    assert again.finish() == 0
    text = again.output
    assert finish_msg.RERUN_ALL_GOOD in text and finish_msg.SUMMARY_OK not in text
    first = text[text.index(screens_msg.SCREEN_INSTALL):text.index(screens_msg.SCREEN_SETTINGS)]
    bindirs = re.findall(r"/usr/lib/postgresql/\d+/bin", first)
    assert len(bindirs) == len(set(bindirs))  # each installation once: its row in the table
    assert text.count("읽은 파일") == 1


@pytest.mark.slow
def test_a_failed_retry_is_one_line_not_the_box_again(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.server.url(database.name, password="wrong"))
    run = Terminal(root)
    run.ask(screens_msg.ASK_NEXT, ENTER)  # retype the password
    run.ask("의 비밀번호", "still-wrong" + ENTER)
    run.ask(screens_msg.ASK_NEXT, "")
    inside = run.output
    assert inside.count(catalogue()["auth_failed"].title) == 1
    assert login_msg.LOGIN_RETRY_FAILED.format(tries=1, most=3) in words(inside)
    assert words(login_msg.LOGIN_HELP_RETYPE) in words(inside) and words(login_msg.LOGIN_HELP_SAVE) not in words(inside)
    run.child.send(UP + ENTER)
    assert run.finish() == 1


# 12. A plain prompt says why it asks again -------------------------------------------------------------
@pytest.mark.slow
def test_dumb_terminal_says_why_it_asks_again(database: Database, tmp_path: Path) -> None:
    root = project(tmp_path, database.url)
    run = Terminal(root, term="dumb")
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, "chek" + ENTER)
    run.child.expect_exact(screens_msg.PLAIN_CONFIRM_AGAIN.format(answer="chek"))
    run.child.send("n" + ENTER)
    assert run.finish() == 0


# 13. English left in the interface: the help and a mistyped command ------------------------------------
def test_help_and_usage_errors_have_no_english_placeholders(tmp_path: Path) -> None:
    shown = run_cli("--help", cwd=tmp_path).stdout
    assert not re.search(r"\b(SECONDS|FILE|PATH)\b", shown) and "--lock-timeout 초" in shown
    wrong = run_cli("chek", cwd=tmp_path)
    assert wrong.returncode == 2 and "command:" not in wrong.stderr and "명령:" in wrong.stderr


# 14. Any width -----------------------------------------------------------------------------------------
SEGMENT = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r|\n")


def too_wide(raw: str, columns: int) -> list[str]:
    """Every run of text the program wrote between line breaks and cursor moves, measured in cells."""
    return [part for part in SEGMENT.split(raw) if cell_len(part) > columns]


@pytest.mark.slow
@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
@pytest.mark.parametrize("columns", [60, 80, 100])
def test_every_screen_fits_the_terminal(database: Database, tmp_path: Path, term: str, columns: int) -> None:
    """The terminal's own size (no COLUMNS): every line within it, and the plan loses no character."""
    root = project(tmp_path, database.url)
    run = Terminal(root, term=term, columns=columns, columns_variable=False)
    assert finish_happy_path(run) == 0, run.output
    assert not too_wide(run.log.getvalue(), columns)
    shown = words(run.output)
    for text in (planned("0002_sessions.sql", 1), planned("0004_memory_tables.sql", 1), migrations_msg.PLAN_SAFE):
        assert words(text) in shown
    check = Terminal(root, term=term, columns=columns, args=["check"], columns_variable=False)
    check.finish()
    assert not too_wide(check.log.getvalue(), columns)
    assert "postgresql+psycopg://postgres:***@" in check.output
    helped = Terminal(root, term=term, columns=columns, args=["--help"], columns_variable=False)
    assert helped.finish() == 0 and not too_wide(helped.log.getvalue(), columns)
