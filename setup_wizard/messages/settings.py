"""Settings and their sources (--dsn, environment, .env, defaults).

Section 3 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.exitcodes import ExitCode
from setup_wizard.messages.catalogue import Problem

SOURCE_DSN = "--dsn"
SOURCE_ENVIRON = "환경 변수 {key}"
SOURCE_ENV_FILE = ".env {key}"
SOURCE_DEFAULT = "기본값"
SOURCE_TYPED = "직접 입력"
SOURCE_LIBPQ_DEFAULT = "libpq 기본값"
SOURCE_LIBPQ_DEFAULT_DBNAME = "libpq 기본값(사용자 이름)"

NOT_SET = "(없음)"
FIELD_NAMES = {
    "host": "호스트",
    "port": "포트",
    "user": "사용자",
    "password": "비밀번호",
    "dbname": "데이터베이스",
}
CONFLICT = "{field}: 두 곳에 값이 있고, 쓰이는 쪽은 {winner} 입니다 (무시되는 쪽: {loser})."
STEP_SETTINGS = "접속 정보"
SETTINGS_DETAIL = "{url} (비밀번호 출처: {password_source})"
SETTINGS_SOURCE_LINE = "{field}: {value} ({source})"

# A connection URL (--dsn, DATABASE_URL) or a port that cannot be used.
DSN_EMPTY = "--dsn 값이 비어 있습니다."
DSN_UNPARSABLE = "{source} 의 접속 URL을 해석할 수 없습니다."
DSN_BAD_SCHEME = "{source} 의 접속 URL이 postgresql:// 로 시작하지 않습니다."
DSN_BAD_PORT = "{source} 의 접속 URL에서 포트가 숫자가 아닙니다."
DSN_MULTI_HOST = "{source} 에 호스트가 여러 개 있습니다. 이 마법사는 서버 하나만 다룹니다."
DSN_LIBPQ_REFUSES = (
    "{source} 의 접속 URL을 PostgreSQL 클라이언트(libpq)가 받아들이지 않습니다: 포트가 1~65535 사이의 숫자가 아니거나, "
    "호스트와 포트의 개수가 맞지 않거나, 알 수 없는 접속 옵션이 있습니다."
)
DSN_UNENCODED_AT = "{source} 의 접속 URL에 @ 가 두 번 이상 있습니다. 비밀번호의 @ 가 호스트를 바꿔 버립니다."
PORT_NOT_NUMBER = "{source} 의 포트가 1~65535 사이의 숫자가 아닙니다."
FIX_DSN_FORM = (
    "형식: postgresql://사용자:비밀번호@호스트:포트/데이터베이스\n"
    "예: postgresql+psycopg://postgres:root1234@localhost:5432/real_estate"
)
FIX_DSN_ENCODE = (
    "비밀번호의 특수문자는 퍼센트 인코딩해서 쓰세요: @ → %40, # → %23, : → %3A, / → %2F, ? → %3F, 공백 → %20\n"
    "예: 비밀번호가 p@ss 라면 postgresql://postgres:p%40ss@localhost:5432/real_estate"
)
FIX_PORT = "POSTGRES_PORT 또는 PGPORT 에 5432 같은 숫자를 넣으세요."

PROBLEMS: dict[str, Problem] = {
    "dsn_invalid": Problem(
        title="접속 URL이 올바르지 않습니다",
        cause="접속 URL(--dsn, DATABASE_URL 또는 POSTGRES_* 값)을 해석할 수 없어 아무것도 바꾸지 않았습니다.",
        hint=FIX_DSN_FORM,
        exit_code=ExitCode.USAGE,
    ),
}
