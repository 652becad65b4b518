"""The backend's .env gains values only after a login proved them, in one write; and a run is ready only
where the backend will connect to the database the wizard prepared.

Every test runs the real program (a subprocess, or a pseudo-terminal for the interactive walk) and
compares the .env bytes, the backend folder and, where the database is reached, its state before and
after.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
from support.databases import Database
from support.dbstate import snapshot
from support.pgserver import free_port
from support.program import PASSWORD, assert_no_secret, backend_form, run_cli

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import settings as settings_msg

ENTER, CTRL_C, CTRL_D, CTRL_U, UP, DOWN = "\r", "\x03", "\x04", "\x15", "\x1b[A", "\x1b[B"
PORT_QUESTION = screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["port"])
HOST_QUESTION = screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["host"])
PASSWORD_QUESTION = "의 비밀번호"
pty_only = pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal")


def backend(root: Path, text: str) -> Path:
    """A project whose backend/.env holds `text`; returns the .env's path."""
    (root / "backend" / "app").mkdir(parents=True)
    env = root / "backend" / ".env"
    env.write_text(text, encoding="utf-8")
    return env


def postgres_keys(port: int, dbname: str, password: str) -> str:
    """A teammate's .env from before DATABASE_URL: only the POSTGRES_* keys."""
    return (f"# 팀 공용 설정\nPOSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={port}\nPOSTGRES_USER=postgres\n"
            f"POSTGRES_PASSWORD='{password}'\nPOSTGRES_DB={dbname}\nSECRET_KEY=keep-me\n")


def folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def said_last(screen: str, start: str) -> str:
    """The screen's last paragraph, which begins with `start` (wrapped lines joined): nothing follows it."""
    assert start in screen, screen[-2000:]
    return screen[screen.rindex(start):].replace("\n", "")


# --- item 8: nothing new is written before a login proved it -----------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("mode", ["text", "json"])
def test_yes_without_a_server_writes_nothing_and_says_what_it_would_have(tmp_path: Path, mode: str) -> None:
    port = free_port()
    env = backend(tmp_path, f"POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={port}\n")
    before = folder(env.parent)
    proc = run_cli("--yes", *(["--json"] if mode == "json" else []), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert folder(env.parent) == before  # not a byte changed, no backup, no temporary file
    would = f"DATABASE_URL=postgresql+psycopg://postgres:***@127.0.0.1:{port}/real_estate"
    if mode == "json":
        import json

        steps = json.loads(proc.stdout)["steps"]
        saved = [s for s in steps if s["id"] == "env_save"]
        assert [s["status"] for s in saved] == ["skip"] and would in saved[0]["detail"]
        last = last_line(proc.stderr)
    else:
        last = last_line(proc.stdout)
    assert would in last and "python -m setup_wizard" in last
    assert "root1234" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("mode", ["text", "json"])
def test_yes_with_a_wrong_password_leaves_the_postgres_keys_alone(database: Database, tmp_path: Path,
                                                                  mode: str) -> None:
    env = backend(tmp_path, postgres_keys(database.server.port, database.name, "wrong"))
    before = folder(env.parent)
    with database.connect() as conn:
        schema_before = snapshot(conn)
    proc = run_cli("--yes", *(["--json"] if mode == "json" else []), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert folder(env.parent) == before
    with database.connect() as conn:
        assert snapshot(conn) == schema_before
    out = proc.stderr if mode == "json" else proc.stdout
    assert "DATABASE_URL=postgresql+psycopg://postgres:***@127.0.0.1" in last_line(out)


@pytest.mark.slow
def test_yes_writes_database_url_once_after_the_login(database: Database, tmp_path: Path,
                                                      user_data_folder: Path) -> None:
    import json

    # Saved by Notepad as "ANSI" (CP949): two fixes, the encoding and DATABASE_URL, and one write.
    original = postgres_keys(database.server.port, database.name, PASSWORD)
    env = backend(tmp_path, "")
    env.write_bytes(original.encode("cp949"))
    proc = run_cli("--yes", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
    steps = json.loads(proc.stdout)["steps"]
    ids = [step["id"] for step in steps]
    # One write, after the login: no fix applied on its own before it.
    assert ids.count("env_save") == 1 and ids.index("login") < ids.index("env_save")
    assert not any(i.startswith("env_") and i not in ("env_file", "env_save", "env_permissions") for i in ids), ids
    assert steps[ids.index("env_save")]["status"] == "ok"
    new = env.read_bytes().decode("utf-8")  # UTF-8 now, which the backend reads
    lines = original.splitlines()
    assert new.splitlines()[:len(lines)] == lines  # every line kept, the URL added at the end
    assert new.splitlines()[len(lines)].startswith("DATABASE_URL=postgresql+psycopg://postgres:")
    # One replace, so one backup: the file exactly as it was before the run.
    kept = [p for p in (user_data_folder / "setup_wizard" / "backups").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in kept] == [original.encode("cp949")]
    assert run_cli("check", cwd=tmp_path).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("reachable", [True, False], ids=["login", "no-server"])
def test_a_root_env_is_copied_into_backend_only_after_a_login(database: Database, tmp_path: Path,
                                                              reachable: bool) -> None:
    import json

    url = backend_form(database.url) if reachable else f"postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/x"
    (tmp_path / "backend" / "app").mkdir(parents=True)
    root_env = tmp_path / ".env"
    root_env.write_text(f"# 프로젝트 맨 위\nDATABASE_URL={url}\n", encoding="utf-8")
    before = root_env.read_bytes()
    proc = run_cli("--yes", "--json", cwd=tmp_path)
    assert root_env.read_bytes() == before  # the original stays as it was
    copy = tmp_path / "backend" / ".env"
    if reachable:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert copy.read_bytes() == before
        ids = [step["id"] for step in json.loads(proc.stdout)["steps"]]
        assert ids.index("login") < ids.index("env_save")
    else:
        assert proc.returncode == 1
        assert not copy.exists() and sorted(p.name for p in (tmp_path / "backend").iterdir()) == ["app"]
        assert str(root_env) in last_line(proc.stderr)


@pytest.mark.slow
@pty_only
@pytest.mark.parametrize("stop", ["ctrl-c", "eof", "sigterm"])
def test_stopping_at_the_password_prompt_leaves_env_as_it_was(database: Database, tmp_path: Path,
                                                               stop: str) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, postgres_keys(database.server.port, database.name, "wrong"))
    before = folder(env.parent)
    with database.connect() as conn:
        schema_before = snapshot(conn)
    run = Terminal(tmp_path)
    run.ask(screens_msg.ASK_NEXT, ENTER)  # retype the password
    run.child.expect_exact(PASSWORD_QUESTION)
    if stop == "sigterm":
        run.child.kill(signal.SIGTERM)
    else:
        run.child.send(CTRL_C if stop == "ctrl-c" else CTRL_D)
    # (SIGTERM inside a questionary prompt ends as 130 today, not 143: the signals' own item, not this one.)
    assert run.finish() in ((143, 130) if stop == "sigterm" else (130,))
    assert folder(env.parent) == before
    with database.connect() as conn:
        assert snapshot(conn) == schema_before


@pytest.mark.slow
@pty_only
def test_quitting_the_wizard_before_a_login_says_last_what_it_would_have_written(database: Database,
                                                                                  tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, postgres_keys(database.server.port, database.name, "wrong"))
    before = folder(env.parent)
    run = Terminal(tmp_path)
    run.ask(screens_msg.ASK_NEXT, UP + ENTER)  # up wraps to the last choice: quit
    assert run.finish() == 1
    assert folder(env.parent) == before
    screen = run.output
    last = said_last(screen, envfiles_msg.SAVE_NOT_PROVEN[:12])
    assert screen.rindex(finish_msg.NEXT_FOR_FAILURE.format(title=login_msg.STEP_LOGIN)) < screen.rindex(
        envfiles_msg.SAVE_NOT_PROVEN[:12]
    )
    assert f"DATABASE_URL=postgresql+psycopg://postgres:***@127.0.0.1:{database.server.port}/{database.name}" in last
    assert "python -m setup_wizard" in last


@pytest.mark.slow
@pty_only
def test_a_retyped_password_is_written_once_with_the_database_url(database: Database, tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, postgres_keys(database.server.port, database.name, "wrong"))
    run = Terminal(tmp_path)
    run.ask(screens_msg.ASK_NEXT, ENTER)
    run.ask(PASSWORD_QUESTION, PASSWORD + ENTER)
    run.child.expect_exact(backend_settings_msg.ENV_FIX_ADD_URL[:20])  # the reason, shown with the one question
    run.ask(envfiles_msg.ASK_SAVE, ENTER)
    run.ask(
        envfiles_msg.ASK_RESTRICT_ENV.format(mode="600"), DOWN + ENTER
    )  # keep the permissions (another test's subject)
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)
    assert run.finish() == 0, run.output
    from setup_wizard.config.envfile import read_env_file
    from setup_wizard.config.load import load_settings

    values = read_env_file(env).values
    assert values["POSTGRES_PASSWORD"] == PASSWORD and values["SECRET_KEY"] == "keep-me"
    assert load_settings(None, {}, values, env).password == PASSWORD


# --- item 9: ready only where the backend will connect ---------------------------------------------------

def answer_the_rest(run: object) -> None:
    from support.ptyrun import Terminal

    assert isinstance(run, Terminal)
    run.ask(envfiles_msg.ASK_SAVE, DOWN + ENTER)  # no: the backend keeps its own values
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)


@pytest.mark.slow
@pty_only
def test_another_port_typed_and_not_saved_is_not_ready(database: Database, tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    dead = free_port()
    url = backend_form(database.url).replace(f":{database.server.port}/", f":{dead}/")
    env = backend(tmp_path, f"DATABASE_URL={url}\n")
    before = folder(env.parent)
    run = Terminal(tmp_path, timeout=30)
    run.ask(screens_msg.ASK_NEXT, UP + UP + ENTER)  # "change host and port", just above "quit"
    run.ask(HOST_QUESTION, ENTER)
    run.ask(PORT_QUESTION, CTRL_U + str(database.server.port) + ENTER)
    answer_the_rest(run)
    assert run.finish() == 1
    screen = run.output
    assert finish_msg.SUMMARY_OK not in screen and finish_msg.SUMMARY_NOT_READY in screen
    last = said_last(screen, backend_settings_msg.AGREE_LAST_LINE[:20])
    assert screen.rindex(finish_msg.NEXT_FOR_FAILURE[:5]) < screen.rindex(backend_settings_msg.AGREE_LAST_LINE[:20])
    assert f"127.0.0.1:{dead}/{database.name}" in last and f"127.0.0.1:{database.server.port}/{database.name}" in last
    assert "DATABASE_URL" in last and settings_msg.FIELD_NAMES["port"] in last
    assert folder(env.parent) == before
    # The database was prepared, only where the backend does not look.
    assert database.scalar("SELECT to_regclass('chat_sessions') IS NOT NULL") is True


@pytest.mark.slow
@pty_only
def test_a_retyped_password_not_saved_is_not_ready(database: Database, tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, f"DATABASE_URL={backend_form(database.server.url(database.name, password='old'))}\n")
    before = folder(env.parent)
    run = Terminal(tmp_path, timeout=30)
    run.ask(screens_msg.ASK_NEXT, ENTER)
    run.ask(PASSWORD_QUESTION, PASSWORD + ENTER)
    answer_the_rest(run)
    assert run.finish() == 1
    last = said_last(run.output, backend_settings_msg.AGREE_LAST_LINE[:20])
    assert f"다른 값: {settings_msg.FIELD_NAMES['password']})" in last and finish_msg.SUMMARY_OK not in run.output
    assert folder(env.parent) == before


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["text", "json"])
def test_yes_preparing_another_file_than_the_backends_is_not_ready(database: Database, tmp_path: Path,
                                                                   mode: str) -> None:
    dead = free_port()
    env = backend(tmp_path, f"DATABASE_URL=postgresql+psycopg://postgres:pw@127.0.0.1:{dead}/real_estate\n")
    (tmp_path / "other.env").write_text(f"DATABASE_URL={backend_form(database.url)}\n", encoding="utf-8")
    before = folder(env.parent)
    proc = run_cli("--yes", "--env-file", "other.env", *(["--json"] if mode == "json" else []), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert folder(env.parent) == before
    assert_no_secret(proc.stdout, proc.stderr)
    if mode == "json":
        import json

        document = json.loads(proc.stdout)
        failed = [s for s in document["steps"] if s["status"] == "fail"]
        assert document["ok"] is False and [s["code"] for s in failed] == ["backend_elsewhere"]
        last = last_line(proc.stderr)
    else:
        last = last_line(proc.stdout)
    assert f"127.0.0.1:{dead}/real_estate" in last and f"127.0.0.1:{database.server.port}/{database.name}" in last


@pytest.mark.slow
def test_dsn_elsewhere_keeps_its_warning_and_stays_ready(database: Database, tmp_path: Path) -> None:
    backend(tmp_path, f"DATABASE_URL=postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/real_estate\n")
    proc = run_cli("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "backend_dsn_elsewhere" in proc.stdout and "backend_elsewhere\"" not in proc.stdout


def test_saved_but_hidden_by_the_environment_is_not_ready(database: Database, tmp_path: Path) -> None:
    """In-process (the pseudo-terminal's environment is clean by design): DATABASE_URL in the
    environment beats the .env the wizard saved into, so the backend still goes to the dead port."""
    import io

    from rich.console import Console
    from support.program import clean_environ
    from support.scripted import ScriptedPrompter

    from setup_wizard.environment import Environment
    from setup_wizard.flow.options import Options
    from setup_wizard.results import Status
    from setup_wizard.ui import wizard
    from setup_wizard.ui.render import ASCII_SYMBOLS
    from setup_wizard.ui.screen import Screen

    dead_url = backend_form(database.url).replace(f":{database.server.port}/", f":{free_port()}/")
    backend(tmp_path, f"DATABASE_URL={dead_url}\n")
    out = io.StringIO()
    checkpoints = [False] if library_installed() else []
    prompter = ScriptedPrompter(["address", "", str(database.server.port), True, False, True, *checkpoints, True])
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=out, environ=clean_environ(DATABASE_URL=dead_url),
                      cwd=tmp_path)
    report = wizard.run(Options(), env, prompter, Screen(Console(file=out, width=100), ASCII_SYMBOLS))
    assert not report.ok
    assert [s.code for s in report.steps if s.status is Status.FAIL] == ["backend_elsewhere_environ"]
    assert "env_overridden" in [s.code for s in report.steps]
    assert report.footer and "DATABASE_URL" in report.footer[-1] and str(database.server.port) in report.footer[-1]
