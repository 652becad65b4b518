"""Connecting and logging in (with login help and the password reset).

Section 7 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

STEP_SERVER = "PostgreSQL 서버"
CHECKING_SERVER = "{host}:{port} 에 접속하는 중..."
SERVER_ANSWERS = "{host}:{port} 에서 서버가 응답합니다."
SERVER_OK = "{host}:{port} 에서 PostgreSQL 서버가 응답합니다 (버전 {version})."
STEP_LOGIN = "로그인"
LOGIN_OK = "{user} 사용자로 로그인했습니다."
TOO_MANY_TRIES = "비밀번호를 {count}번 입력했지만 로그인하지 못했습니다."
STEP_DATABASE = "데이터베이스"
DATABASE_OK = "{dbname} 데이터베이스가 있습니다."
DATABASE_CREATED = "{dbname} 데이터베이스를 만들었습니다 (UTF8)."

# What kind of server answered, when target_session_attrs wanted another.
SERVER_STATE_STANDBY = "복제 대기 서버(hot standby)라서 읽기만 됩니다"
SERVER_STATE_READ_ONLY = "읽기 전용 세션만 받습니다 (default_transaction_read_only = on)"
SERVER_STATE_PRIMARY = "쓰기 가능한 주 서버입니다"

STEP_SERVER_VERSION = "서버 버전"
SERVER_VERSION_DETAIL = "서버 PostgreSQL {server}, 클라이언트 psql {client}, libpq {libpq}"
SERVER_VERSION_NOT_17 = "서버는 PostgreSQL {server} 입니다. 이 프로젝트는 17을 기준으로 합니다 (동작은 합니다)."

# Every way a connection or login can fail.
PROBLEMS: dict[str, Problem] = {
    "server_not_running": Problem(
        title="PostgreSQL 서버가 실행되고 있지 않습니다",
        cause="{host}:{port} 에 연결을 시도했지만 접속을 받는 서버가 없습니다 (연결이 거부되었습니다).",
        steps=(
            "windows: Windows 키 + R → services.msc 입력 → postgresql-x64-17 찾기 → 우클릭 → 시작",
            "linux: 서버를 시작하세요: sudo systemctl start postgresql",
            "darwin: 서버를 시작하세요: brew services start postgresql@17",
            "포트가 맞는지 확인하세요: 두 번째로 설치한 PostgreSQL은 5433 포트를 쓰는 경우가 많습니다.",
            "서버를 시작한 뒤 python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
    "host_unreachable": Problem(
        title="데이터베이스 서버에 닿을 수 없습니다",
        cause="{host} 의 이름을 찾을 수 없거나, 제한 시간 안에 응답이 없습니다.",
        steps=(
            "호스트 이름이 맞는지 확인하세요. 내 컴퓨터의 서버라면 localhost 를 쓰세요.",
            "원격 서버라면 방화벽이 {port} 포트를 막고 있지 않은지 확인하세요.",
            "VPN이 필요한 서버라면 VPN에 먼저 연결하세요.",
        ),
    ),
    "server_full": Problem(
        title="서버의 접속 수가 가득 찼습니다",
        cause=(
            "{host}:{port} 서버가 더 이상 연결을 받지 않습니다 (최대 접속 수 초과). 비밀번호 문제가 아닙니다. "
            "서버가 보낸 메시지: {message}"
        ),
        steps=(
            "연결을 많이 여는 프로그램(백엔드 서버 uvicorn, DBeaver, pgAdmin, 열어 둔 psql 창)을 닫고 다시 실행하세요.",
            "누가 연결을 쓰고 있는지 보려면 슈퍼유저로 실행하세요: "
            "SELECT pid, usename, application_name, client_addr, state FROM pg_stat_activity;",
            "사용자에게 접속 수 제한이 걸려 있다면 슈퍼유저로 푸세요: ALTER ROLE \"{user}\" CONNECTION LIMIT -1;",
            "서버 전체가 가득 찼다면 postgresql.conf 의 max_connections 값을 늘리고 서버를 다시 시작하세요.",
        ),
    ),
    "session_attrs_unmet": Problem(
        title="target_session_attrs 조건에 맞는 서버가 없습니다",
        cause=(
            "접속 URL이 요구하는 서버 종류(target_session_attrs={wanted})와 다릅니다: {host}:{port} 서버는 "
            "{state}. 비밀번호 문제가 아닙니다."
        ),
        steps=(
            "이 마법사는 테이블을 만들므로 쓰기 가능한 주 서버가 필요합니다. 주 서버의 주소와 포트를 넣으세요.",
            "서버가 하나뿐이라면 접속 URL에서 target_session_attrs 를 지우고 다시 실행하세요.",
        ),
    ),
    "auth_failed": Problem(
        title="로그인에 실패했습니다 (비밀번호 또는 사용자)",
        cause="{user} 사용자의 비밀번호가 틀렸거나, 그런 사용자가 {host}:{port} 서버에 없습니다.",
        steps=(
            "접속한 서버가 맞는지 확인하세요: 다른 버전의 PostgreSQL이 다른 포트(5433 등)에서 돌고 있을 수 있습니다.",
            "backend/.env 의 DATABASE_URL(또는 POSTGRES_PASSWORD)에 있는 비밀번호를 확인하세요.",
            "winget 으로 설치했다면 기본 비밀번호는 postgres 입니다.",
            "비밀번호를 바꿨다면 python -m setup_wizard 를 실행해 새 비밀번호를 입력하고 저장하세요.",
        ),
    ),
    "password_missing": Problem(
        title="비밀번호가 필요합니다",
        cause="서버가 비밀번호를 요구하지만 어디에도 설정되어 있지 않습니다.",
        steps=(
            "backend/.env 의 DATABASE_URL 에 비밀번호를 넣거나 POSTGRES_PASSWORD 를 추가하세요.",
            "또는 --dsn \"postgresql://postgres:비밀번호@localhost:5432/real_estate\" 로 실행하세요.",
        ),
    ),
    "role_missing": Problem(
        title="그런 사용자(role)가 서버에 없습니다",
        cause="{host}:{port} 서버에 {user} 사용자(role)가 없습니다.",
        steps=(
            "접속한 서버와 포트가 맞는지 확인하세요. 설치할 때 만든 사용자는 보통 postgres 입니다.",
            "backend/.env 의 사용자 이름(POSTGRES_USER 또는 DATABASE_URL)을 확인하세요.",
            "새로 만들려면 슈퍼유저로 접속해: CREATE ROLE \"{user}\" LOGIN PASSWORD '비밀번호' CREATEDB;",
        ),
    ),
    "role_cannot_login": Problem(
        title="이 사용자는 로그인할 수 없습니다 (LOGIN 권한 없음)",
        cause=(
            "{host}:{port} 서버의 {user} 사용자(롤)에게 LOGIN 권한이 없습니다. "
            "비밀번호 문제가 아니므로 비밀번호를 바꿔도 해결되지 않습니다."
        ),
        steps=(
            "슈퍼유저(postgres)로 접속해 로그인을 허용하세요: ALTER ROLE \"{user}\" LOGIN;",
            "또는 backend/.env 의 DATABASE_URL 에 로그인할 수 있는 다른 사용자를 넣으세요 "
            "(권한을 묶어 두는 그룹 롤은 로그인에 쓰지 않습니다).",
        ),
    ),
    "database_missing": Problem(
        title="데이터베이스가 없습니다",
        cause="{host}:{port} 서버에 {dbname} 데이터베이스가 없습니다.",
        steps=(
            "python -m setup_wizard --yes 로 실행하면 자동으로 만듭니다.",
            "직접 만들려면: psql -h {host} -p {port} -U {user} -d postgres "
            "-c \"CREATE DATABASE \\\"{dbname}\\\" ENCODING 'UTF8'\"",
        ),
    ),
    "connection_failed": Problem(
        title="데이터베이스에 접속하지 못했습니다",
        cause="서버가 보낸 메시지: {message}",
        steps=(
            "위 메시지를 확인하세요. SQLSTATE가 있다면 PostgreSQL 문서에서 그 코드를 찾아보세요.",
            "python -m setup_wizard check --report report.md 결과를 팀 채팅에 올려 도움을 요청하세요.",
        ),
    ),
    "server_version_unsupported": Problem(
        title="서버 버전이 너무 오래되었습니다",
        cause="서버가 PostgreSQL {server} 입니다. 이 마법사와 백엔드는 13 이상이 필요합니다 (권장 17).",
        steps=(
            "PostgreSQL 17을 설치하세요 (Windows: winget install PostgreSQL.PostgreSQL.17).",
            "새 서버는 다른 포트(5433 등)를 쓸 수 있으니 설치 후 backend/.env 의 포트를 맞추세요.",
        ),
    ),
    "server_version_not_17": Problem(
        title="서버 버전이 17이 아닙니다 (경고)",
        cause="서버가 PostgreSQL {server} 입니다. 동작은 하지만 팀은 17을 기준으로 합니다.",
        steps=("가능하면 PostgreSQL 17을 쓰세요. 지금 그대로 진행해도 됩니다.",),
    ),
}

# Advice after a failed login (machine/login_help.py): where the password was set, how to try it.
LOGIN_HELP_FROM_ENV_FILE = (
    "이번에 쓴 비밀번호는 {path} 파일의 {key} 항목에서 읽었습니다. 팀원에게 받은 .env 파일이라면 "
    "그 비밀번호는 팀원 컴퓨터의 서버 비밀번호라서 이 컴퓨터에서는 맞지 않을 수 있습니다."
)
LOGIN_HELP_FROM_DEFAULT = (
    "비밀번호가 어디에도 없어서 백엔드의 기본값(root1234)으로 시도했습니다. "
    "가이드의 예시 비밀번호일 뿐, 이 컴퓨터에 설치할 때 정한 비밀번호가 아닐 수 있습니다."
)
LOGIN_HELP_FROM_ENVIRON = (
    "이번에 쓴 비밀번호는 환경 변수 {key} 값입니다. 환경 변수는 .env 파일보다 먼저 쓰이므로, "
    "오래된 값이 남아 있지 않은지 확인하세요."
)
LOGIN_HELP_FROM_DSN = "이번에 쓴 비밀번호는 --dsn 옵션에 넣은 값입니다."
LOGIN_HELP_EDB = (
    "PostgreSQL {version} 버전은 Windows 설치 프로그램(EDB)으로 설치되었습니다 ({bindir}). "
    "설치 프로그램을 직접 실행했다면 설치 중 비밀번호(Password) 화면에서 관리자 계정 {superuser} 의 "
    "비밀번호를 직접 정했습니다."
)
LOGIN_HELP_WINGET = (
    "winget 명령(winget install PostgreSQL.PostgreSQL.{version})으로 설치했다면 "
    "비밀번호를 묻지 않고 설치되며, 그때 정해진 비밀번호는 postgres 입니다."
)
LOGIN_HELP_CHOCOLATEY = (
    "PostgreSQL {version} 버전은 Chocolatey 패키지로 설치되었습니다. 설치할 때 /Password: 옵션을 주지 않았다면 "
    "Chocolatey가 비밀번호를 만들어 'Generated password' 줄에 보여 주었습니다. "
    "PowerShell에서 설치 기록을 찾아보세요: {command}"
)
LOGIN_HELP_SCOOP = (
    "Scoop 패키지로 설치한 서버는 비밀번호를 확인하지 않습니다(이 컴퓨터 안의 접속은 모두 허용). "
    "그런데도 로그인에 실패했다면 다른 서버에 접속했거나 사용자 이름이 다릅니다."
)
LOGIN_HELP_SUPERUSER = (
    "설치할 때 만든 관리자 계정의 이름: {superuser}. 지금 접속하려는 사용자의 이름: {user}. "
    "비밀번호는 계정마다 따로 있으니, 설치할 때 정한 비밀번호는 관리자 계정으로 시도하세요."
)
LOGIN_HELP_DEBIAN = (
    "리눅스 패키지(Debian/Ubuntu 등)로 설치한 PostgreSQL의 postgres 계정에는 처음에 비밀번호가 없습니다. "
    "비밀번호 대신 리눅스 계정으로 확인하므로, 다음 명령으로 비밀번호 없이 들어갈 수 있습니다: {command}"
)
LOGIN_HELP_HOMEBREW = (
    "Homebrew 로 설치한 PostgreSQL의 관리자 계정은 postgres 가 아니라 macOS 사용자 이름({os_user})이고, "
    "이 컴퓨터 안에서는 비밀번호 없이 접속합니다. macOS 사용자로 들어가기: {command}"
)
LOGIN_HELP_POSTGRES_APP = (
    "Postgres.app 의 기본 계정은 macOS 사용자 이름({os_user})이고, 이 컴퓨터 안에서는 비밀번호 없이 "
    "접속합니다. macOS 사용자로 들어가기: {command}"
)
LOGIN_HELP_MAC_USER = (
    "지금 사용자는 {user} 입니다. backend/.env 의 사용자를 macOS 사용자 이름({os_user})으로 바꾸거나, "
    "macOS 사용자로 들어가 {user} 계정의 비밀번호를 정하세요."
)
LOGIN_HELP_SET_PASSWORD = (
    "psql 에 들어간 뒤 다음 명령을 입력하면 새 비밀번호를 두 번 묻고 정해 줍니다 "
    "(명령줄이나 기록에 비밀번호가 남지 않습니다): \\password {user}"
)
LOGIN_HELP_SERVER_ON_PORT = "{version} 버전 → 포트 {port}"
LOGIN_HELP_PORTS = (
    "이 컴퓨터에는 PostgreSQL 서버가 여러 개 있습니다: {servers}. 두 번째로 설치한 서버는 5433 포트를 쓰는 "
    "경우가 많아서, 맞는 비밀번호를 다른 서버에 넣고 있을 수 있습니다. 지금 설정의 포트: {port}"
)
LOGIN_HELP_PORTS_UNKNOWN = (
    "이 컴퓨터에는 PostgreSQL이 여러 버전 설치되어 있습니다 ({versions}). 두 번째로 설치한 서버는 보통 "
    "5433 포트를 씁니다. 지금 설정의 포트({port})가 비밀번호를 정한 서버의 포트인지 확인하세요."
)
LOGIN_HELP_OTHER_PORT = (
    "이 컴퓨터의 PostgreSQL {version} 서버에 설정된 포트는 {other} 이고, 지금 설정의 포트는 {port} 입니다. "
    "다른 서버에 접속한 것일 수 있습니다."
)
LOGIN_HELP_OTHER_PORT_STOPPED = (
    "이 컴퓨터의 PostgreSQL {version} 서버(포트 {other})는 지금 멈춰 있습니다. 지금 설정의 포트({port})에서 "
    "응답한 것은 다른 서버이니, 그 서버의 비밀번호인지 확인하세요."
)
LOGIN_HELP_STATE_RUNNING = "(실행 중)"
LOGIN_HELP_STATE_STOPPED = "(멈춤)"
LOGIN_HELP_REMOTE = "{host} 서버는 이 컴퓨터 밖에 있습니다. 비밀번호는 그 서버를 관리하는 사람에게 확인하세요."
LOGIN_HELP_TRY = (
    "비밀번호가 맞는지 직접 확인해 보세요. 비밀번호를 물으면 입력하고, 들어가지면 맞는 비밀번호입니다 "
    "(나올 때는 \\q): {command}"
)
LOGIN_HELP_RESET = (
    "이 컴퓨터의 서버라서 마법사가 비밀번호를 새로 정할 수 있습니다: python -m setup_wizard 를 실행하고 "
    "로그인 실패 화면에서 '비밀번호 새로 정하기'를 고르세요."
)
LOGIN_HELP_SAVE = "맞는 비밀번호를 찾으면 python -m setup_wizard 를 다시 실행해 입력하고 .env 파일에 저장하세요."
LOGIN_HELP_RETYPE = "맞는 비밀번호를 찾으면 아래에서 '비밀번호 다시 입력하기'를 고르세요."
LOGIN_RETRY_FAILED = "이 비밀번호도 맞지 않습니다 (다시 시도 {tries}/{most}). 해결 방법은 위 상자에 있습니다."
LOGIN_HELP_PUT_IN_ENV = (
    "비밀번호를 backend/.env 의 POSTGRES_PASSWORD 항목(또는 DATABASE_URL)에 넣거나, "
    "python -m setup_wizard 를 실행해 입력하고 저장하세요. 이번 한 번만 쓰려면 이렇게 실행합니다: "
    "python -m setup_wizard --dsn \"postgresql://{user}:비밀번호@{host}:{port}/{dbname}\""
)

# The guided password reset (machine/password_reset.py), only with the person's consent.
STEP_PASSWORD_RESET = "비밀번호 새로 정하기"
ASK_RESET_PASSWORD = (
    "{user} 계정의 비밀번호를 새로 정할까요? 잠깐 동안 이 컴퓨터 안에서 {user} 계정만 비밀번호 없이 "
    "들어가도록 접속 규칙 파일({hba})을 바꾸고, 새 비밀번호를 정한 뒤 원래 파일을 한 글자도 다르지 않게 "
    "되돌립니다. 다른 설정과 데이터는 바꾸지 않습니다."
)
ASK_RESET_PASSWORD_UAC = " 관리자 권한이 필요해서 Windows가 허용할지 묻는 창(UAC)을 한 번 띄웁니다."
ASK_NEW_PASSWORD = "{user} 계정의 새 비밀번호"
ASK_NEW_PASSWORD_AGAIN = "확인을 위해 새 비밀번호를 한 번 더 입력하세요"
NEW_PASSWORD_MISMATCH = "두 번 입력한 비밀번호가 다릅니다. 다시 입력하세요."
RESETTING_PASSWORD = "비밀번호를 새로 정하는 중입니다. 접속 규칙 파일은 끝나면 원래대로 되돌립니다..."
RESET_DONE = (
    "{user} 계정의 비밀번호를 새로 정했고, 새 비밀번호로 로그인되는 것을 확인했습니다. "
    "접속 규칙 파일({hba})은 원래 내용 그대로 되돌렸습니다."
)
RESET_NOT_DONE = "비밀번호를 바꾸지 않았습니다. 접속 규칙 파일({hba})은 원래 내용 그대로 되돌렸습니다."
RESET_UNVERIFIED = (
    "새 비밀번호는 저장했지만 그 비밀번호로 로그인되는지는 확인하지 못했습니다. "
    "접속 규칙 파일({hba})은 원래 내용 그대로 되돌렸고, 이어서 새 비밀번호로 접속해 봅니다."
)
RESET_REASON_RELOAD = "서버가 바뀐 설정을 다시 읽지 못했습니다: {output}"
RESET_REASON_CONNECT = "비밀번호 없이 접속하지 못했습니다: {error}"
RESET_REASON_ROLE_MISSING = "서버에 그 이름의 계정이 없습니다 (계정 이름: {user})."
RESET_REASON_ALTER = "비밀번호를 바꾸는 명령이 실패했습니다: {error}"
RESET_REASON_VERIFY = "새 비밀번호로 로그인되는지 확인하지 못했습니다: {error}"
RESET_REASON_DECLINED = "관리자 권한 요청(UAC)을 허용하지 않았습니다."
RESET_REASON_HELPER = "관리자 권한으로 실행한 도우미가 실패했습니다 (종료 코드 {code})."
RESET_REASON_FILE = "접속 규칙 파일을 읽거나 쓰지 못했습니다: {error}"
RESET_RESTORE_FAILED = (
    "접속 규칙 파일을 원래대로 되돌리지 못했습니다. 지금은 이 컴퓨터 안에서 {user} 계정이 비밀번호 없이 "
    "들어갈 수 있습니다. 백업 파일을 원래 자리에 복사하고 서버를 다시 시작하세요: {backup} → {hba}"
)
RESET_FIX = (
    "1. 위 이유를 확인한 뒤 python -m setup_wizard 를 다시 실행해 한 번 더 시도할 수 있습니다.\n"
    "2. 직접 하려면 관리자 계정으로 psql 에 들어가 다음 명령을 입력하세요: \\password {user}"
)

PROBLEMS.update({
    "password_reset_failed": Problem(title="비밀번호를 바꾸지 못했습니다", cause=RESET_NOT_DONE, hint=RESET_FIX),
})
