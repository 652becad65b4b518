"""The backend's .env as a newcomer meets it: what the wizard says before and after the login, and asks.

Before the login the wizard says once what the save after it will fix (a BOM, CP949) or create (no .env),
labelling each value by where it is now; the one save question comes after the login with each fix's
reason; a declined fix is named with its fix at the end; a password written into a file others can read
brings the permission question. The real program in a pseudo-terminal (tests/support/ptyrun.py), and `--yes`,
`--json` and `check` as subprocesses.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from support.databases import Database
from support.program import PASSWORD, backend_form, clean_environ, run_cli

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import settings as settings_msg

ENTER, CTRL_U, DOWN = "\r", "\x15", "\x1b[B"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal")
# The wizard's own fix, said before the login as if it were the person's job (the words before item 4/5).
RUN_YES_TO_FIX = "--yes 로 실행하면"


def words(text: str) -> str:
    """The screen as running text: box sides dropped, wrapped lines joined, runs of spaces made one."""
    return " ".join(re.sub(r"[│|]", " ", text).split())


def backend(root: Path, raw: bytes | None) -> Path:
    (root / "backend" / "app").mkdir(parents=True)
    env = root / "backend" / ".env"
    if raw is not None:
        env.write_bytes(raw)
        env.chmod(0o644)
    return env


def postgres_keys(database: Database) -> str:
    return (f"# 팀 공용 설정\nPOSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={database.server.port}\n"
            f"POSTGRES_USER=postgres\nPOSTGRES_PASSWORD='{PASSWORD}'\nPOSTGRES_DB={database.name}\n")


def file_of(kind: str, database: Database) -> bytes:
    if kind == "bom":
        return ("\ufeffDATABASE_URL=" + backend_form(database.url) + "\n").encode("utf-8")
    return postgres_keys(database).encode("cp949")  # Notepad's "ANSI" on Korean Windows


def the_rest(run: object) -> None:
    """The migrations, the checkpoints (no) and the development user."""
    from support.ptyrun import Terminal

    assert isinstance(run, Terminal)
    run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)


# 4. BOM or CP949: the reason before the question; a declined fix named, with its fix, last ---------------
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bom", "cp949"])
def test_a_declined_env_fix_is_said_before_the_login_and_named_last(database: Database, tmp_path: Path,
                                                                     kind: str) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, file_of(kind, database))
    before = env.read_bytes()
    run = Terminal(tmp_path, columns=100, timeout=30)
    run.ask(envfiles_msg.ASK_SAVE, "")
    asked = run.output
    pre_login = words(asked[:asked.index(screens_msg.SCREEN_SERVER)])
    titles = ["백엔드가 DATABASE_URL을 보지 못합니다 (BOM)"] if kind == "bom" else [
        "백엔드가 .env 파일을 읽지 못합니다 (인코딩)", "백엔드가 쓸 DATABASE_URL이 없습니다"]
    # Said once, before the login: what the save after it will fix; no box whose fix is that very save.
    assert words(envfiles_msg.ENV_PLAN_PENDING.format(path=env, problems=", ".join(titles))) in pre_login
    assert RUN_YES_TO_FIX not in pre_login and "오류 코드: backend_" not in pre_login
    if kind == "cp949":  # each value labelled by the key that holds it now, not by the URL still to be built
        assert ".env POSTGRES_HOST" in pre_login and ".env DATABASE_URL" not in pre_login
    # The reason comes with the question, after the login worked.
    save_screen = words(asked[asked.rindex(screens_msg.SCREEN_SAVE):])
    assert asked.index("사용자로 로그인했습니다") < asked.rindex(screens_msg.SCREEN_SAVE)
    assert words(backend_settings_msg.ENV_FIX_REWRITE_UTF8) in save_screen
    run.child.send(DOWN + ENTER)  # no
    the_rest(run)
    assert run.finish() == 1
    assert env.read_bytes() == before
    final = words(run.output[run.output.rindex(finish_msg.SUMMARY_NOT_READY):])
    assert words(finish_msg.RERUN_AFTER_FIX) not in final  # not "the problem above": named, with its fix
    assert words(finish_msg.NEXT_FOR_FAILURE.format(title=", ".join(titles))) in final
    assert "다시 저장할지 묻습니다" in final and "직접 고치려면" in final


def test_check_json_says_the_wizard_asks_before_rewriting(database: Database, tmp_path: Path) -> None:
    backend(tmp_path, file_of("bom", database))
    proc = run_cli("check", "--json", cwd=tmp_path)
    steps = {s["code"]: s for s in json.loads(proc.stdout)["steps"] if s.get("code")}
    fix = steps["backend_env_bom"]["fix"]
    assert RUN_YES_TO_FIX not in fix and "저장할지 묻습니다(--yes 는 묻지 않고 저장합니다)" in fix


# 5. No .env: where the file will be created, asked once, after the login --------------------------------
@pytest.mark.slow
def test_no_env_one_account_where_it_is_created_asked_once_after_the_login(database: Database,
                                                                         tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, None)
    run = Terminal(tmp_path, columns=100, timeout=30)
    run.ask(screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["host"]), CTRL_U + "127.0.0.1" + ENTER)
    pre_login = words(run.output)
    assert words(envfiles_msg.ENV_CREATE_PENDING.format(path=env)) in pre_login
    assert words(screens_msg.SETTINGS_ASK_INTRO) in pre_login and "[ ]" not in pre_login  # the prompts show no [ ]
    assert RUN_YES_TO_FIX not in pre_login and "POSTGRES_*" not in pre_login  # there are none
    assert "env_file_missing" not in pre_login and "backend_url_missing" not in pre_login
    run.ask(
        screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["port"]), CTRL_U + str(database.server.port) + ENTER
    )
    run.ask(screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["user"]), ENTER)
    run.ask(screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES["dbname"]), CTRL_U + database.name + ENTER)
    run.ask("의 비밀번호", PASSWORD + ENTER)
    run.ask(envfiles_msg.ASK_SAVE, "")
    screen = run.output
    save_screen = words(screen[screen.rindex(screens_msg.SCREEN_SAVE):])
    assert screen.index("사용자로 로그인했습니다") < screen.rindex(screens_msg.SCREEN_SAVE)
    assert words(screens_msg.SAVE_CREATE.format(path=env)) in save_screen and not env.exists()
    run.child.send(ENTER)
    # A new file is made with the umask's mode: the permission question comes when others could read it.
    if run.child.expect_exact([envfiles_msg.ASK_RESTRICT_ENV[:12], migrations_msg.ASK_CONFIRM_APPLY]) == 0:
        run.child.send(ENTER)
        run.ask(migrations_msg.ASK_CONFIRM_APPLY, ENTER)
    else:
        run.child.send(ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", DOWN + ENTER)
    run.ask(backend_needs_msg.ASK_CREATE_DEV_USER, ENTER)
    assert run.finish() == 0, run.output[-3000:]
    assert words(run.output).count(words(envfiles_msg.ASK_SAVE)) == 1 + words(run.output).count(
        words(envfiles_msg.ASK_SAVE) + " 예")  # asked once (questionary echoes the answered question)
    assert env.read_text(encoding="utf-8").startswith("DATABASE_URL=postgresql+psycopg://postgres:")
    assert run_cli("check", cwd=tmp_path).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["text", "json"])
def test_no_env_yes_creates_it_after_the_login(database: Database, tmp_path: Path, mode: str) -> None:
    """The values from PG* variables, which the backend never reads: --yes writes backend/.env's
    DATABASE_URL once the login proved them (an addition), and the run is ready."""
    env = backend(tmp_path, None)
    environ = clean_environ(PGHOST="127.0.0.1", PGPORT=str(database.server.port), PGUSER="postgres",
                            PGPASSWORD=PASSWORD, PGDATABASE=database.name)
    proc = run_cli("--yes", *(["--json"] if mode == "json" else []), cwd=tmp_path, env=environ)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert env.read_text(encoding="utf-8").startswith("DATABASE_URL=postgresql+psycopg://postgres:")
    if mode == "json":
        steps = json.loads(proc.stdout)["steps"]
        ids = [s["id"] for s in steps]
        assert ids.count("env_save") == 1 and ids.index("login") < ids.index("env_save")
        saved = steps[ids.index("env_save")]
        assert saved["status"] == "ok" and envfiles_msg.ENV_FIX_CREATE in saved["detail"]
        assert "env_file_missing" not in [s["code"] for s in steps]  # no longer true once it is made
    else:
        assert words(envfiles_msg.SAVE_DONE.format(path=env)) in words(proc.stdout)
    assert run_cli("check", cwd=tmp_path, env=clean_environ()).returncode == 0


# 10. The password written into a file others can read: the permission question -------------------------
@pytest.mark.slow
def test_database_url_built_into_a_644_file_asks_to_restrict_it(database: Database, tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, postgres_keys(database).encode("utf-8"))
    run = Terminal(tmp_path, columns=100, timeout=30)
    run.ask(envfiles_msg.ASK_SAVE, ENTER)
    run.ask(envfiles_msg.ASK_RESTRICT_ENV.format(mode="600"), "")
    assert words(envfiles_msg.ENV_READABLE_AFTER_SAVE.format(path=env, mode="644")) in words(run.output)
    run.child.send(ENTER)
    the_rest(run)
    assert run.finish() == 0
    assert env.stat().st_mode & 0o777 == 0o600
    assert "DATABASE_URL=postgresql+psycopg://postgres:" in env.read_text(encoding="utf-8")


@pytest.mark.slow
def test_yes_leaves_the_permissions_to_the_person_and_says_how(database: Database, tmp_path: Path) -> None:
    """README: --yes applies only additions; a permission change is the person's decision, so --yes
    writes the URL, keeps 644 and warns with the command."""
    env = backend(tmp_path, postgres_keys(database).encode("utf-8"))
    proc = run_cli("--yes", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = {s["id"]: s for s in json.loads(proc.stdout)["steps"]}
    assert steps["env_save"]["status"] == "ok"
    assert steps["env_permissions"]["status"] == "warn" and steps["env_permissions"]["code"] == "env_file_readable"
    assert f"chmod 600 {env}" in steps["env_permissions"]["fix"]
    assert env.stat().st_mode & 0o777 == 0o644


def test_the_by_hand_database_url_points_at_the_files_own_server(tmp_path: Path) -> None:
    """Issue 18 item 8: a shown command targets the server in question. With only POSTGRES_* keys, the
    DATABASE_URL to add by hand carries the file's host, port, user and database, not localhost:5432."""
    from support.program import run_inprocess

    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / ".env").write_text(
        "POSTGRES_HOST=db.local\nPOSTGRES_PORT=55999\nPOSTGRES_USER=민수\nPOSTGRES_PASSWORD=pw\nPOSTGRES_DB=매물\n",
        encoding="utf-8")
    result = run_inprocess("check", "--json", "--dsn", "postgresql://nobody@127.0.0.1:9/x", cwd=tmp_path,
                           env=clean_environ(SETUP_WIZARD_NO_USER_SERVER="1"))
    fixes = [s["fix"] or "" for s in result.json()["steps"] if s["code"] == "backend_url_missing"]
    assert len(fixes) == 1, result.stdout
    assert "DATABASE_URL=postgresql+psycopg://%EB%AF%BC%EC%88%98:비밀번호@db.local:55999/%EB%A7%A4%EB%AC%BC" in fixes[0]
    assert ":5432/" not in fixes[0] and "pw@" not in fixes[0]


# The save's reasons, said once: with the question in the wizard, with the saved item under --yes ---------
@pytest.mark.slow
def test_the_wizard_says_each_save_reason_once(database: Database, tmp_path: Path) -> None:
    from support.ptyrun import Terminal

    env = backend(tmp_path, postgres_keys(database).encode("utf-8"))
    env.chmod(0o600)
    run = Terminal(tmp_path, columns=100, timeout=30)
    run.ask(envfiles_msg.ASK_SAVE, ENTER)
    the_rest(run)
    assert run.finish() == 0
    screen = words(run.output)
    assert screen.count(words(backend_settings_msg.ENV_FIX_ADD_URL)) == 1
    assert words(envfiles_msg.SAVE_DONE.format(path=env)) in screen


@pytest.mark.slow
def test_yes_says_each_save_reason_once_with_the_saved_item(database: Database, tmp_path: Path) -> None:
    env = backend(tmp_path, postgres_keys(database).encode("utf-8"))
    env.chmod(0o600)
    done = run_cli("--yes", cwd=tmp_path, env=clean_environ(COLUMNS="100"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert words(done.stdout).count(words(backend_settings_msg.ENV_FIX_ADD_URL)) == 1
