"""The wizard's screens drawn into a StringIO: tables, panels, symbols, Hangul columns, encodings."""

from __future__ import annotations

import io
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console
from support.program import PASSWORD, assert_no_secret

from setup_wizard.config.load import load_settings
from setup_wizard.environment import Environment
from setup_wizard.results import Status, Step, VerificationRow
from setup_wizard.ui.render import ASCII_SYMBOLS, UNICODE_SYMBOLS, symbols_for
from setup_wizard.ui.screen import Screen, make_screen

BOX_AND_SYMBOLS = "✓✗─│╭╮╰╯├┤┬┴┼"

CHECKLIST = [
    Step("sessions", Status.OK, "sessions 테이블", "있습니다"),
    Step("dev_user", Status.WARN, "개발용 사용자 id 1", "없습니다", None, "INSERT INTO users ..."),
    Step("checkpoints", Status.SKIP, "LangGraph 체크포인트 테이블", "서버를 처음 시작할 때 자동으로 만들어집니다"),
]
ROWS = [VerificationRow("chat_sessions", 12, 3, True),
        VerificationRow("conversation_memories without session", 1_234, 2, False)]


def draw(symbols: object, **console: object) -> tuple[Screen, io.StringIO]:
    out = io.StringIO()
    screen = Screen(Console(file=out, width=100, highlight=False, **console), symbols)  # type: ignore[arg-type]
    return screen, out


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1] in ("│", "|", "╭", "╰", "├", "+")]


def test_settings_table_masks_the_password_and_lines_up_hangul() -> None:
    settings = load_settings(None, {"PGPASSWORD": PASSWORD},
                             {"DATABASE_URL": "postgresql+psycopg://postgres:other@localhost:5433/real_estate"},
                             Path("backend/.env"))
    for symbols in (UNICODE_SYMBOLS, ASCII_SYMBOLS):
        screen, out = draw(symbols)
        screen.settings(settings, Path("backend/.env"), True)
        text = out.getvalue()
        words = " ".join(text.split())  # a long line is wrapped at word boundaries
        assert_no_secret(text)
        assert "other" not in text and "********" in text
        assert "환경 변수 PGPASSWORD" in words and ".env DATABASE_URL" in text
        assert "PGPASSWORD" in text and "백엔드는 PG로 시작하는 환경 변수" in text  # the conflict, called out
        lines = table_lines(text)
        assert len(lines) >= 7
        assert len({cell_len(line) for line in lines}) == 1  # Hangul is two cells wide, and measured so


def test_unicode_and_ascii_symbols() -> None:
    fancy, fancy_out = draw(UNICODE_SYMBOLS)
    plain, plain_out = draw(ASCII_SYMBOLS)
    for screen in (fancy, plain):
        screen.welcome()
        screen.verification(ROWS)
        screen.checklist(CHECKLIST)
        screen.problem("서버가 꺼져 있습니다", "응답이 없습니다", "1. 서비스를 시작하세요")
    unicode_text, ascii_text = fancy_out.getvalue(), plain_out.getvalue()
    assert "✓ chat_sessions" in unicode_text and "╭" in unicode_text
    assert not any(ch in ascii_text for ch in BOX_AND_SYMBOLS)
    assert "[OK] chat_sessions" in ascii_text and "[!]" in ascii_text and "[-]" in ascii_text
    for text in (unicode_text, ascii_text):
        assert "1,234" in text and "해결 방법" in text and "서버를 처음 시작할 때 자동으로 만들어집니다" in text
        assert len({cell_len(line) for line in table_lines(text)}) <= 3  # three tables, each aligned


def test_cp949_stream_gets_ascii_symbols_and_never_fails() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp949")
    assert symbols_for(stream) is ASCII_SYMBOLS
    screen = make_screen(stream, no_color=True, width=100)
    screen.heading("결과")
    screen.verification(ROWS)
    screen.checklist(CHECKLIST)
    screen.status_line(Status.OK, "데이터베이스가 준비되었습니다.")
    with screen.progress("적용 중...") as update:
        update("0003_chat_sessions.sql 적용 중...")
    stream.flush()
    text = raw.getvalue().decode("cp949")
    assert "[OK] 데이터베이스가 준비되었습니다." in text and "[OK] chat_sessions" in text


def test_no_color_is_honoured() -> None:
    colored, colored_out = draw(UNICODE_SYMBOLS, force_terminal=True, color_system="standard")
    plain, plain_out = draw(UNICODE_SYMBOLS, force_terminal=True, color_system="standard", no_color=True)
    for screen in (colored, plain):
        screen.status_line(Status.OK, "준비되었습니다")
        screen.status_line(Status.FAIL, "실패했습니다")
    assert "\x1b[32m" in colored_out.getvalue()
    assert "\x1b[32m" not in plain_out.getvalue() and "\x1b[31m" not in plain_out.getvalue()
    assert Environment(environ={"NO_COLOR": "1"}).no_color and Environment(environ={"TERM": "dumb"}).no_color
    assert not Environment(environ={"TERM": "xterm"}).no_color


def test_plan_lines_and_save_preview() -> None:
    screen, out = draw(UNICODE_SYMBOLS)
    line = "사용자 12명의 대화 3,408개를 '이전 대화 (마이그레이션)' 세션으로 연결합니다."
    screen.plan([("0003_chat_sessions.sql", line)], "기존 데이터는 지우지 않습니다.")
    screen.save_preview(Path("backend/.env"), [], [("DATABASE_URL", "postgresql+psycopg://postgres:***@localhost:5432/x")],
                        exists=True)
    text = out.getvalue()
    assert "0003_chat_sessions.sql  사용자 12명의 대화 3,408개" in text
    assert "DATABASE_URL=postgresql+psycopg://postgres:***@localhost:5432/x" in text
