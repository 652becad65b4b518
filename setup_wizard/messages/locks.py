"""Locks, time limits, privileges and read-only servers.

Section 12 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

# Another session holds a table; another run holds the migration lock.
LOCK_HOLDERS_HEAD = "잠금을 잡고 있는 연결:"
LOCK_HOLDER_LINE = (
    "pid {pid} · 프로그램 {application} · 주소 {client} · 상태 {state} · {seconds}초째 · "
    "테이블 {tables} ({mode}) · 실행 중이거나 마지막으로 실행한 쿼리: {query}"
)
LOCK_HOLDER_FIX = (
    "위 연결(pid {pids})의 프로그램을 닫으세요. 닫을 수 없다면 슈퍼유저로 접속해 끝내세요: "
    "SELECT pg_terminate_backend({pid});"
)
LOCK_ALREADY_WAITED = "앞의 항목에서 이미 {seconds}초를 기다렸으므로 이 항목은 다시 기다리지 않았습니다."
OTHER_RUN = "pid {pid} · 프로그램 {application} · 주소 {client} · 시작 시각 {since}"
OTHER_RUN_UNKNOWN = "누가 실행 중인지는 읽을 수 없습니다"
WAITING_FOR_RUN = "다른 실행이 마이그레이션을 적용하고 있습니다 ({who}). 최대 {seconds}초 기다립니다…"

# Where a server setting (statement_timeout, default_transaction_read_only) was set.
SETTING_SOURCES = {
    "default": "서버 기본값",
    "configuration file": "postgresql.conf",
    "command line": "서버 시작 옵션",
    "environment variable": "서버의 환경 변수",
    "database": "데이터베이스 설정(ALTER DATABASE)",
    "user": "사용자 설정(ALTER ROLE)",
    "database user": "이 데이터베이스에서의 사용자 설정(ALTER ROLE ... IN DATABASE)",
    "client": "접속 옵션(URL의 options 또는 PGOPTIONS)",
    "session": "세션의 SET 명령",
}
STATEMENT_TIMEOUT_STORED = "서버에 저장된 제한도 있습니다: {setting} ({user} 사용자 또는 이 데이터베이스의 설정)"

STEP_PRIVILEGES = "권한"
STEP_TABLE_ACCESS = "테이블 사용 권한"
TABLE_ACCESS_OK = "{user} 사용자는 백엔드와 마법사가 쓰는 테이블 {count}개를 모두 읽고 쓸 수 있습니다."
TABLE_ACCESS_NOTHING_YET = "아직 테이블이 없습니다. 마법사가 만들면 이 사용자의 것이 됩니다."
TABLE_ACCESS_LINE = "- {name} (주인 {owner}, 없는 권한: {missing})"
TABLE_ACCESS_DENIED_HERE = "권한이 없어 이 항목을 읽지 못했습니다: {error}"
FIX_TABLE_ACCESS_SEE_ABOVE = "위 「테이블 사용 권한」 항목의 해결 방법을 따르세요."
PRIVILEGES_OK = "{user} 사용자는 public 스키마에 테이블을 만들 수 있습니다."
SCHEMA_NO_CREATE = (
    "{schema} 스키마에 CREATE 권한이 없습니다 (PostgreSQL 15부터는 public 스키마에도 기본으로 주지 않습니다)."
)

PROBLEMS: dict[str, Problem] = {
    "lock_timeout": Problem(
        title="다른 세션이 테이블을 사용하고 있어 기다리다 멈췄습니다",
        cause="{seconds}초 동안 기다렸지만 다른 연결이 필요한 테이블을 잡고 있었습니다. 아무것도 바뀌지 않았습니다.",
        steps=(
            "실행 중인 백엔드 서버(uvicorn)와 열려 있는 psql, DBeaver, pgAdmin 창을 닫으세요.",
            "그래도 안 되면 잡고 있는 연결을 끊으세요 (아래 pid): SELECT pg_terminate_backend(pid);",
            "python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
    "run_in_progress": Problem(
        title="다른 마법사 실행이 진행 중입니다",
        cause=(
            "다른 실행이 이 데이터베이스에 마이그레이션을 적용하고 있습니다: {who}. "
            "{seconds}초 동안 기다렸지만 끝나지 않아 멈췄습니다. 아무것도 바꾸지 않았습니다."
        ),
        steps=(
            "다른 터미널에서 마법사가 실행 중이라면 끝날 때까지 기다린 뒤 다시 실행하세요.",
            "더 오래 기다리게 하려면 --lock-timeout 30 을 붙이세요.",
            "멈춰 버린 실행이라면 슈퍼유저로 접속해 끝내세요: SELECT pg_terminate_backend({pid});",
        ),
    ),
    "statement_timeout": Problem(
        title="명령 실행 시간 제한(statement_timeout)에 걸려 멈췄습니다",
        cause=(
            "명령이 statement_timeout 제한({value}) 안에 끝나지 않아 서버가 취소했습니다 "
            "(설정한 곳: {source}). 트랜잭션을 되돌려 아무것도 바뀌지 않았습니다."
        ),
        steps=(
            "이번 실행에서만 제한을 풀려면 PGOPTIONS 환경 변수를 주고 실행하세요: "
            "PGOPTIONS=\"-c statement_timeout=0\" python -m setup_wizard "
            "(PowerShell: $env:PGOPTIONS=\"-c statement_timeout=0\")",
            "사용자에 저장된 제한을 없애려면 슈퍼유저로 실행하세요: ALTER ROLE \"{user}\" RESET statement_timeout;",
            "python -m setup_wizard 를 다시 실행하세요. 이미 적용된 단계는 건너뜁니다.",
        ),
    ),
    "permission_denied": Problem(
        title="권한이 부족합니다",
        cause="{user} 사용자에게 이 작업을 할 권한이 없습니다.",
        steps=(
            "슈퍼유저(postgres)로 접속해 권한을 주세요: GRANT CREATE ON DATABASE \"{dbname}\" TO \"{user}\";",
            "스키마 권한도 필요합니다: GRANT USAGE, CREATE ON SCHEMA public TO \"{user}\";",
        ),
    ),
    "no_usable_schema": Problem(
        title="테이블을 만들 스키마가 없습니다",
        cause="{user} 사용자는 {dbname} 데이터베이스에 테이블을 만들 수 없습니다. {reason}",
        steps=(
            "슈퍼유저로 권한을 주세요: GRANT USAGE, CREATE ON SCHEMA {schema} TO \"{user}\";",
            "search_path 설정이 바뀌어 있다면 되돌리세요: ALTER ROLE \"{user}\" RESET search_path;",
            "python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
    "table_access_denied": Problem(
        title="이 사용자가 쓸 수 없는 테이블이 있습니다",
        cause=(
            "{user} 사용자에게 아래 테이블을 읽고 쓸 권한이 없습니다. 백엔드도 이 사용자로 접속하므로 같은 "
            "권한 오류로 실패합니다. 마법사는 아무것도 바꾸지 않았습니다.\n{lines}"
        ),
        steps=(
            "테이블 주인({owners})이나 슈퍼유저로 psql 에서 주인을 {user} 사용자로 바꾸세요. "
            "그러면 마법사가 다음 마이그레이션도 적용할 수 있습니다:\n{alter}",
            "또는 같은 사용자로 권한만 주세요 (그때 마이그레이션은 주인인 {owners} 사용자로 적용합니다):\n{grant}",
            "python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
    "history_not_writable": Problem(
        title="마이그레이션 기록 테이블에 쓸 수 없습니다",
        cause=(
            "{table} 테이블의 주인은 {owner} 사용자이고, {user} 사용자에게는 이 테이블에 기록할 권한이 없습니다. "
            "아무것도 바꾸지 않았습니다."
        ),
        steps=(
            "{owner} 사용자나 슈퍼유저로 접속해 주인을 바꾸세요: ALTER TABLE {table} OWNER TO \"{user}\";",
            "또는 처음에 마이그레이션을 적용한 {owner} 사용자로 마법사를 실행하세요.",
        ),
    ),
    "server_read_only": Problem(
        title="서버가 읽기 전용입니다 (복제 대기 서버)",
        cause=(
            "접속한 서버는 복제 대기 서버(hot standby)라서 {dbname} 데이터베이스에 쓸 수 없습니다. "
            "아무것도 바꾸지 않았습니다."
        ),
        steps=(
            "주 서버(primary)의 주소로 접속하세요: backend/.env 의 DATABASE_URL 에서 호스트와 포트를 확인하세요.",
            "복제를 쓰지 않는 로컬 개발 서버라면 주 서버로 올리세요: pg_ctl promote -D <data 폴더>",
        ),
    ),
    "database_read_only": Problem(
        title="읽기 전용으로 설정되어 있어 쓸 수 없습니다",
        cause=(
            "{dbname} 데이터베이스에서 {user} 사용자의 트랜잭션은 기본이 읽기 전용입니다 "
            "(default_transaction_read_only = on, 설정한 곳: {source}). 아무것도 바꾸지 않았습니다."
        ),
        steps=(
            "슈퍼유저로 설정을 되돌리세요: ALTER DATABASE \"{dbname}\" RESET default_transaction_read_only; "
            "또는 ALTER ROLE \"{user}\" RESET default_transaction_read_only;",
            "접속 URL의 options 나 PGOPTIONS 환경 변수에 default_transaction_read_only=on 이 있다면 지우세요.",
            "python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
}
