"""The real `python -m setup_wizard` in a pseudo-terminal, answered key by key (pexpect)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from support.databases import Database
from support.dbstate import add_sample_data
from support.pgserver import free_port
from support.program import PASSWORD
from support.ptyrun import Terminal

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.messages import envfiles as msg

ENTER, DOWN, BACKSPACE = "\r", "\x1b[B", "\x7f"


def Wizard(cwd: Path, term: str) -> Terminal:
    return Terminal(cwd, term, columns=110, timeout=15)


def env_file(folder: Path, url: str) -> Path:
    (folder / "backend").mkdir()
    path = folder / "backend" / ".env"
    path.write_text(
        "# backend settings\r\n"
        "SECRET_KEY=not-for-the-wizard\r\n"
        f"DATABASE_URL={url.replace('postgresql://', 'postgresql+psycopg://')}  # 팀 서버\r\n"
        "\r\n"
        "MONGODB_URL=mongodb://localhost:27017\r\n",
        encoding="utf-8", newline="")
    return path


def without_password(url: str) -> str:
    return url.replace(":" + quote(PASSWORD, safe="") + "@", "@")


@pytest.mark.slow
def test_happy_path_accepting_defaults_then_a_short_rerun(database: Database, tmp_path: Path) -> None:
    with database.connect() as conn:
        add_sample_data(conn, users=3, per_user=4)
    path = env_file(tmp_path, database.url)
    before = path.read_bytes()
    run = Wizard(tmp_path, "xterm-256color")
    run.ask("위 마이그레이션을 적용할까요?", ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", ENTER)
    assert run.finish() == 0, run.output
    assert "사용자 3명의 대화 12개를" in run.output
    checkpoints_line = "setup()" if library_installed() else "서버를 처음 시작할 때 자동으로 만들어집니다"
    for seen in ("설치된 PostgreSQL", "접속 정보", "검증 결과", "최종 점검", "데이터베이스가 준비되었습니다",
                 checkpoints_line, "uvicorn"):
        assert seen in run.output
    assert database.scalar("SELECT count(*) FROM chat_sessions") == 3
    assert path.read_bytes() == before

    again = Wizard(tmp_path, "xterm-256color")
    assert again.finish() == 0, again.output
    assert "이미 모두 준비되어 있습니다" in again.output and "적용할까요" not in again.output


def choose(run: Wizard, label: str) -> int:
    """Answer the select on screen with the arrow keys: from the pointer (») down to `label`, then
    Enter. Returns how many times the down arrow was pressed."""
    run.child.expect_exact("어떻게 할까요?")
    run.child.expect_exact("끝내기")  # the last choice: the whole list is drawn
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run.child.before or "").split("\n")[1:]  # after the hint
    lines = [line.strip("\r") for line in drawn] + ["   끝내기"]
    pointer = next(n for n, line in enumerate(lines) if line.lstrip().startswith("»"))
    labels = [line.strip(" »") for line in lines]
    downs = labels.index(label) - pointer
    run.child.send(DOWN * downs + ENTER)
    return downs


@pytest.mark.slow
def test_wrong_port_chosen_with_arrows_and_missing_password_typed_then_saved(database: Database, tmp_path: Path,
                                                                              user_data_folder: Path) -> None:
    """A newcomer's .env: nothing listens at its port and it has no password. In the select that
    follows the refused connection the arrow keys pick "change host and port"; the right port is typed
    over the old one, the password typed, both saved in the .env's own line."""
    with database.connect() as conn:
        add_sample_data(conn)
    closed, port = free_port(), database.server.port
    path = env_file(tmp_path, without_password(database.url).replace(f":{port}/", f":{closed}/"))
    before = path.read_bytes()
    run = Wizard(tmp_path, "xterm-256color")
    run.ask("의 비밀번호", PASSWORD + ENTER)
    # Below "다시 확인하기" (retry), and below a fix (a new local server) where this machine offers one.
    assert choose(run, "호스트와 포트 바꾸기") >= 1
    run.ask(" 호스트 ", ENTER)  # keep 127.0.0.1
    run.ask(" 포트 ", BACKSPACE * len(str(closed)) + str(port) + ENTER)
    run.ask("이 값을 .env 파일에 저장할까요?", ENTER)
    run.ask(msg.ASK_RESTRICT_ENV.format(mode="600"), ENTER)  # the file was readable by others (644)
    run.ask("위 마이그레이션을 적용할까요?", ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블", ENTER)
    assert run.finish() == 0, run.output
    assert "어떻게 할까요? 호스트와 포트 바꾸기" in run.output  # what the arrows chose
    assert f"127.0.0.1:{port} 에서 PostgreSQL" in run.output
    assert path.stat().st_mode & 0o777 == 0o600
    old = before.decode().split("\r\n")
    new = path.read_bytes().decode().split("\r\n")
    assert len(new) == len(old)
    for line_old, line_new in zip(old, new, strict=True):
        if line_old.startswith("DATABASE_URL="):
            assert line_new == line_old.replace("postgres@", f"postgres:{quote(PASSWORD, safe='')}@").replace(
                f":{closed}/", f":{port}/")
            assert line_new.startswith("DATABASE_URL=postgresql+psycopg://") and line_new.endswith("  # 팀 서버")
        else:
            assert line_new == line_old
    backups = list((user_data_folder / "setup_wizard" / "backups").glob("*/*.bak"))
    assert [b.read_bytes() for b in backups] == [before] and not list((tmp_path / "backend").glob(".env?*"))
    assert database.scalar("SELECT count(*) FROM chat_sessions") == 3


@pytest.mark.slow
@pytest.mark.parametrize("term", ["dumb"])
def test_whole_path_through_the_plain_fallback(database: Database, tmp_path: Path, term: str) -> None:
    path = env_file(tmp_path, without_password(database.url))
    run = Wizard(tmp_path, term)
    run.ask("의 비밀번호 (입력 내용은 가려집니다): ", PASSWORD + ENTER)
    run.ask("이 값을 .env 파일에 저장할까요? (y: 예, n: 아니요, Enter: 예): ", "y" + ENTER)
    run.ask(msg.ASK_RESTRICT_ENV.format(mode="600") + " (y: 예, n: 아니요, Enter: 예): ", "n" + ENTER)
    run.ask("위 마이그레이션을 적용할까요? (y: 예, n: 아니요, Enter: 예): ", ENTER)
    if library_installed():
        run.ask("LangGraph 체크포인트 테이블(checkpoints 등)을 지금 만들까요? (y: 예, n: 아니요, Enter: 예): ", ENTER)
    run.ask("지금 만들까요? (추가만 합니다) (y: 예, n: 아니요, Enter: 예): ", ENTER)
    assert run.finish() == 0, run.output
    assert "\x1b[3" not in run.log.getvalue()  # no colour on a dumb terminal
    assert "적용함" in run.output and "최종 점검" in run.output
    assert quote(PASSWORD, safe="") in path.read_text(encoding="utf-8")
    assert database.scalar("SELECT count(*) FROM users WHERE id = 1") == 1
