"""The interactive screens (the wizard's own words; each step's text sits with its topic above).

Section 15 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section).
"""

from __future__ import annotations

# Title, welcome and one heading per screen, in the order of the walk.
WIZARD_TITLE = "부동산 채팅 백엔드 데이터베이스 설치 마법사"
WIZARD_WELCOME = (
    "이 마법사는 백엔드가 쓰는 PostgreSQL 데이터베이스를 한 단계씩 준비합니다.\n"
    "\n"
    "1. backend/.env 에서 접속 정보를 읽고, 빠진 값만 묻습니다.\n"
    "2. 서버와 데이터베이스를 확인하고, 없으면 만들지 묻습니다.\n"
    "3. 적용할 마이그레이션이 이 데이터베이스에 무엇을 하는지 보여 준 뒤 한 번 확인을 받습니다.\n"
    "4. 결과를 검증하고 백엔드를 시작하는 방법을 알려 드립니다.\n"
    "\n"
    "보통 1~2분이면 끝납니다. 묻지 않고 지우는 것은 없습니다. 언제든 Ctrl+C로 멈출 수 있습니다."
)
SCREEN_INSTALL = "설치된 PostgreSQL"
SCREEN_SETTINGS = "접속 정보"
SCREEN_SAVE = ".env 저장"
SCREEN_SERVER = "서버와 로그인"
SCREEN_DATABASE = "데이터베이스"
SCREEN_PLAN = "할 일"
SCREEN_APPLY = "적용"
SCREEN_RESULT = "결과"

# Installed PostgreSQL screen.
INSTALL_COL_VERSION = "버전"
INSTALL_COL_PLACE = "위치"
INSTALL_COL_ORIGIN = "찾은 곳"
INSTALL_COL_SERVICE = "서비스"
INSTALL_COL_PORT = "포트"
INSTALL_NONE = (
    "이 컴퓨터에서 PostgreSQL 설치를 찾지 못했습니다. 다른 컴퓨터의 서버에 접속한다면 그대로 진행해도 됩니다."
)
INSTALL_SEARCH_FAILED = "설치된 PostgreSQL을 찾는 중 문제가 있어 건너뜁니다: {error}"

# Settings screen, and asking for missing values.
SETTINGS_COL_FIELD = "항목"
SETTINGS_COL_VALUE = "값"
SETTINGS_COL_SOURCE = "출처"
SETTINGS_NO_FILE = ".env 파일이 없습니다. 백엔드 기본값으로 시작합니다."
SETTINGS_CONFLICTS = "같은 항목이 여러 곳에 있습니다:"
SETTINGS_BACKEND_IGNORES_PG = (
    "백엔드는 PG로 시작하는 환경 변수(PGPASSWORD 등)를 읽지 않습니다. "
    "마법사가 접속에 성공해도 백엔드는 .env 의 값을 씁니다."
)
SETTINGS_ASK_INTRO = "설정되지 않은 값을 묻습니다. Enter를 누르면 제안된 값을 그대로 씁니다."
ASK_FIELD = "{field} 값을 입력하세요"
ASK_PASSWORD_HIDDEN = "{user}@{host}:{port} 의 비밀번호 (입력 내용은 가려집니다)"
ASK_PASSWORD_DEFAULT_HINT = "비워 두면 백엔드 기본 비밀번호를 씁니다"
PASSWORD_EMPTY = "비밀번호를 입력하지 않았습니다."
PORT_INVALID = "포트는 1~65535 사이의 숫자여야 합니다. 다시 입력하세요."
VALUE_EMPTY = "값을 비워 둘 수 없습니다. 다시 입력하세요."

# Save screen.
SAVE_INTRO = "로그인에 성공한 값을 {path} 파일에 저장하면 백엔드도 같은 곳에 접속합니다."
SAVE_CREATE = "로그인에 성공한 값으로 {path} 파일을 새로 만들면 백엔드도 같은 곳에 접속합니다."
SAVE_LINE = "{key}={shown}"
SAVE_KEEPS = "다른 줄과 주석, 순서는 그대로 두고, 이전 파일은 백업으로 남깁니다."

# Server, login and database screens: what to do next.
ASK_NEXT = "어떻게 할까요?"
CHOICE_RETRY = "다시 확인하기 (서버를 시작했습니다)"
CHOICE_START_SERVICE = "{name} 서비스를 시작하기"
CHOICE_CREATE_CLUSTER = "이 사용자 전용 PostgreSQL 서버를 만들기 (관리자 권한 필요 없음)"
CHOICE_RECOMMENDED = "{label}  ← 추천"
CHOICE_START_USER_SERVER = "이 사용자 전용 서버를 시작하기"
CHOICE_INSTALL_POSTGRES = "PostgreSQL 17 설치하기 (관리자 권한 필요: winget, 팀 가이드와 같은 설치)"
CHOICE_CHANGE_ADDRESS = "호스트와 포트 바꾸기"
CHOICE_RETYPE_PASSWORD = "비밀번호 다시 입력하기"
CHOICE_RESET_PASSWORD = "비밀번호 새로 정하기 (이 컴퓨터의 서버, 다른 설정은 그대로)"
CHOICE_CHANGE_LOGIN = "사용자와 포트 바꾸기"
CHOICE_QUIT = "끝내기"
ASK_CREATE_DATABASE_WIZARD = "{dbname} 데이터베이스를 지금 만들까요? (UTF8)"

# The prompts themselves (arrow-key selection, or the plain fallback).
PROMPT_FALLBACK = "이 터미널에서는 화살표 선택 화면을 쓸 수 없어 번호와 글자로 묻습니다."
PLAIN_CHOICE_NUMBER = "번호 [{default}]: "
SELECT_HINT = "(화살표 키로 고르고 Enter)"
ANSWER_YES = "예"
ANSWER_NO = "아니요"
CONFIRM_HINT = "(y: 예, n: 아니요, Enter: {default})"
PLAIN_CONFIRM_AGAIN = "알아듣지 못한 답입니다: '{answer}'. y(예) 또는 n(아니요)으로 답하세요."
PLAIN_CHOICE_AGAIN = "목록에 없는 답입니다: '{answer}'. 목록의 번호(1~{count})로 답하세요."
