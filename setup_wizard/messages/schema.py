"""Schema: contract, drift and repair.

Section 9 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

# check: the live schema against the contract (database/contract.py).
STEP_SCHEMA_TABLES = "스키마: 테이블과 열"
STEP_SCHEMA_INDEXES = "스키마: 인덱스"
STEP_SCHEMA_CONSTRAINTS = "스키마: 키와 외래 키"
STEP_SCHEMA_TRIGGERS = "스키마: 트리거"
SCHEMA_NOTHING_YET = "백엔드 테이블이 아직 없습니다. 마이그레이션을 적용한 뒤 확인합니다."
SCHEMA_TABLES_OK = "테이블 {tables}개, 열 {columns}개가 백엔드가 기대하는 그대로입니다."
SCHEMA_INDEXES_OK = "인덱스 {count}개가 모두 있습니다."
SCHEMA_CONSTRAINTS_OK = "기본 키와 외래 키 {count}개가 모두 기대하는 그대로입니다."
SCHEMA_TRIGGERS_OK = "트리거 {count}개가 있고, 메시지 수를 세는 트리거는 하나뿐입니다."
FIX_SCHEMA_DRIFT_PENDING = (
    "python -m setup_wizard --yes 로 마이그레이션을 적용하면 빠진 것이 만들어집니다. 적용한 뒤 다시 "
    "점검하세요."
)

# One difference each.
DRIFT_NONE = "없음"
DRIFT_TABLE_MISSING = "테이블이 없습니다."
DRIFT_COLUMN_MISSING = "열이 없습니다."
DRIFT_COLUMN_TYPE = "형식이 {actual} 입니다 (기대: {expected})."
DRIFT_COLUMN_NULLABLE = "NOT NULL 이 아닙니다 (기대: NOT NULL)."
DRIFT_COLUMN_NOT_NULL = "NOT NULL 입니다 (기대: 빈 값 허용)."
DRIFT_COLUMN_DEFAULT = "기본값이 {actual} 입니다 (기대: {expected})."
DRIFT_COLUMN_NO_DEFAULT = "기본값이 없습니다 (기대: {expected})."
DRIFT_PRIMARY_KEY = "기본 키가 ({actual}) 입니다 (기대: {expected})."
DRIFT_ENUM_LABELS = "enum 값이 빠졌습니다: {labels}"
DRIFT_INDEX_MISSING = "인덱스가 없습니다 ({table} ({keys}))."
DRIFT_INDEX_DIFFERENT = "인덱스 정의가 {actual} 입니다 (기대: {expected})."
DRIFT_UNIQUE_MISSING = "{table}({columns}) 에 UNIQUE 제약이 없습니다."
DRIFT_FK_MISSING = "외래 키가 없습니다 ({table}({columns}) → {ref})."
DRIFT_FK_TARGET = "외래 키가 가리키는 곳이 다릅니다: {actual} (기대: {expected})"
DRIFT_FK_NO_CASCADE = "ON DELETE CASCADE 가 아닙니다: {ref} 의 행을 지우면 오류가 납니다."
DRIFT_FK_DUPLICATE = (
    "같은 일을 하는 외래 키가 {count}개 있습니다: {names} ({table}({columns}) → {ref}). 하나면 충분합니다."
)
DRIFT_FK_NOT_VALID_ROWS = "NOT VALID 상태입니다: {ref} 에 없는 행을 가리키는 {table} 행이 있습니다."
DRIFT_TRIGGER_MISSING = "{table} 에 트리거가 없습니다."
DRIFT_TRIGGER_DIFFERENT = "트리거가 {actual} 입니다 (기대: {expected})."
DRIFT_TRIGGER_DISABLED = "트리거가 꺼져 있습니다 (DISABLE TRIGGER)."
DRIFT_COUNTING_TWICE = "메시지 수를 세는 트리거가 {count}개라 메시지 하나가 여러 번 세어집니다: {names}"
DRIFT_COUNTERS = (
    "세션 {count}개의 message_count 나 last_message 가 실제 대화(conversation_memories)와 다릅니다 (예: {example}). "
    "메시지를 세는 트리거가 생기기 전에 저장된 대화는 세지 않았기 때문입니다."
)

# search_path: which schema's table the backend really uses.
STEP_SEARCH_PATH = "search_path (테이블을 찾는 스키마 순서)"
SEARCH_PATH_OK = "백엔드 테이블은 {schema} 스키마에 있고, search_path({path})에서 이름이 겹치는 테이블이 없습니다."
SEARCH_PATH_SHADOW = (
    "{table} 테이블이 여러 스키마에 있습니다 ({schemas}). 이름만 쓰는 백엔드는 search_path 순서에 따라 "
    "{first} 스키마의 테이블을 씁니다."
)
FIX_SEARCH_PATH = (
    "백엔드 테이블이 있는 스키마를 search_path 맨 앞에 두세요. 슈퍼유저로 psql 에 들어가 ({psql}) 실행합니다:\n"
    "ALTER ROLE {user} SET search_path = {path};\n"
    "다른 스키마의 같은 이름 테이블이 필요 없다면 지우거나 이름을 바꾸는 방법도 있습니다. "
    "바꾼 뒤 백엔드를 다시 시작하세요."
)
# A search_path in which no schema exists (or none this role may use): unqualified names resolve nowhere.
SEARCH_PATH_TABLES_AT = "{schema} 스키마에 있는 테이블을 하나도 찾지 못합니다"
SEARCH_PATH_NO_TABLES = "테이블을 만들어도 찾지 못합니다"
SEARCH_PATH_RESET = {
    "user": "슈퍼유저나 {user} 사용자로 psql 에서 되돌리세요: ALTER ROLE {user} RESET search_path;",
    "database user": "슈퍼유저로 psql 에서 되돌리세요: ALTER ROLE {user} IN DATABASE {dbname} RESET search_path;",
    "database": "데이터베이스 주인이나 슈퍼유저로 psql 에서 되돌리세요: ALTER DATABASE {dbname} RESET search_path;",
    "client": "접속 URL의 options 나 PGOPTIONS 환경 변수에서 search_path 를 지우세요.",
}
SEARCH_PATH_RESET_OTHER = (
    "슈퍼유저로 psql 에서 {schema} 스키마를 쓸 수 있게 하세요: GRANT USAGE ON SCHEMA {schema} TO {user};"
)
PROBLEMS: dict[str, Problem] = {
    "search_path_empty": Problem(
        title="백엔드가 테이블을 찾을 스키마가 없습니다",
        cause=(
            "{user} 사용자의 search_path({path}, 설정한 곳: {source})에는 이 데이터베이스에 있고 이 사용자가 쓸 수 "
            "있는 스키마가 하나도 없습니다. 백엔드는 이 사용자로 접속해 테이블 이름만 쓰므로 {tables}. "
            "마법사는 백엔드가 찾지 못할 곳에 테이블을 만들지 않습니다."
        ),
        steps=(
            "{reset}",
            "또는 테이블이 있는 스키마를 search_path 에 넣으세요: "
            "ALTER ROLE {user} SET search_path = \"$user\", {schema};",
            "백엔드를 다시 시작하고 python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
}

# Repairs that lose no row (database/repair.py), asked like the migrations.
STEP_REPAIRS = "스키마 수리"
PLAN_REPAIRS_INTRO = (
    "실제 스키마가 기대와 다른 곳을 고칩니다. 행은 하나도 지우지 않고, 하나마다 트랜잭션 하나로 적용합니다:"
)
ASK_CONFIRM_REPAIR = "위 내용을 고칠까요?"
REPAIR_DECLINED = "고치지 않았습니다. 스키마는 그대로입니다."
REPAIRING_START = "스키마를 고치는 중..."
REPAIRING = "고치는 중: {description}"
REPAIR_RERUN_FILE = "{name} 파일을 다시 실행해 빠진 것을 만듭니다 ({objects}). 이미 있는 것은 그대로 둡니다."
REPAIR_RERUN_RECOUNT = (
    "{name} 파일을 다시 실행해 세션의 메시지 수와 마지막 메시지를 실제 대화에 맞춥니다 ({objects}). "
    "행은 지우지 않습니다."
)
REPAIR_ADD_COLUMN = "{table} 테이블에 {column} 열을 더합니다 ({definition}). 기존 행은 그대로입니다."
REPAIR_SET_NOT_NULL = "{table}.{column} 에 NOT NULL 제약을 겁니다 (빈 값인 행은 없습니다)."
REPAIR_DROP_NOT_NULL = "{table}.{column} 의 NOT NULL 제약을 풉니다 (백엔드는 이 열을 비워 둘 수 있어야 합니다)."
REPAIR_SET_DEFAULT = "{table}.{column} 의 기본값을 정합니다: {default}"
REPAIR_ADD_ENUM = "{name} enum 에 빠진 값을 더합니다: {labels}"
REPAIR_CREATE_INDEX = "{table} 테이블에 인덱스를 만듭니다: {name} ({keys})"
REPAIR_REPLACE_INDEX = "정의가 다른 인덱스를 다시 만듭니다: {name} → {table} ({keys})"
REPAIR_ADD_UNIQUE = "UNIQUE 제약을 더합니다: {table}({columns}) (값이 겹치는 행은 없습니다)."
REPAIR_ADD_FK = (
    "외래 키를 더합니다: {table}({columns}) → {ref} ON DELETE CASCADE. 가리키는 행이 없는 행이 있으면 "
    "지우지 않고 NOT VALID 상태로 남깁니다."
)
REPAIR_FK_CASCADE = (
    "외래 키를 ON DELETE CASCADE 로 바꿉니다: {name} ({table}({columns}) → {ref}). 한 트랜잭션 안에서 "
    "지우고 다시 만들며, 행은 건드리지 않습니다."
)
REPAIR_FK_DUPLICATE = (
    "같은 일을 하는 외래 키 중 하나만 남깁니다. 남길 것: {keep}, 지울 것: {drops}. 행은 건드리지 않습니다."
)
REPAIR_VALIDATE_FK = "NOT VALID 상태인 외래 키를 검증합니다: {name}"
REPAIR_RESTORE_SESSIONS = (
    "없는 세션을 가리키는 대화 {memories}개를 위해 chat_sessions 에 세션 {sessions}개를 되살립니다 "
    "(제목 '복구된 대화', 대화는 그대로 연결됩니다)."
)
RESTORED_SESSION_TITLE = "복구된 대화"
REPAIR_OUTCOME = "{description} → {result}"
REPAIR_RESULTS = {
    "applied": "고쳤습니다",
    "not_valid": "고쳤지만 외래 키는 NOT VALID 상태로 남았습니다",
    "failed": "실패해 되돌렸습니다",
    "gone": "앞의 수정으로 이미 해결되었습니다",
}
REPAIR_LEFT_NOT_VALID = (
    "가리키는 행이 없는 행이 있어 외래 키를 NOT VALID 상태로 남겼습니다 ({name}). 새 행은 검사됩니다. "
    "python -m setup_wizard check 가 그 행을 찾는 방법을 알려 줍니다."
)

# What is left to a person, with the SQL to run.
MANUAL_COLUMN_TYPE = (
    "{table}.{column} 의 형식이 {actual} 입니다 (기대: {expected}). 값이 바뀔 수 있어 자동으로 고치지 "
    "않습니다. 팀과 확인한 뒤 실행하세요:"
)
MANUAL_NOT_NULL_HAS_NULLS = (
    "{table}.{column} 에 빈 값(NULL)인 행이 {count}개 있어 NOT NULL 제약을 걸 수 없습니다. 그 행을 채운 "
    "뒤 제약을 거세요:"
)
MANUAL_COLUMN_NO_DEFAULT = (
    "{table} 테이블에 {column} 열이 없습니다. NOT NULL 인데 기본값이 없어, 기존 행에 넣을 값을 정해야 합니다:"
)
MANUAL_UNIQUE_DUPLICATES = (
    "{table}({columns}) 값이 겹치는 묶음이 {count}개 있어 UNIQUE 제약을 걸 수 없습니다. 겹치는 행을 "
    "확인해 정리한 뒤 제약을 거세요:"
)
MANUAL_FK_TARGET = "외래 키가 다른 테이블을 가리킵니다 ({name}). 확인한 뒤 바꾸려면:"
MANUAL_FK_ORPHANS = (
    "{table} 행 {count}개가 {ref} 에 없는 행을 가리켜 외래 키가 NOT VALID 상태입니다 ({name}). 그 행을 "
    "확인하고 정리한 뒤 검증하세요:"
)
MANUAL_PRIMARY_KEY = "{table} 의 기본 키가 다릅니다. 자동으로 고치지 않습니다. 팀과 확인한 뒤 바꾸세요:"
FIX_SCHEMA_REPAIRABLE = (
    "python -m setup_wizard --yes 로 실행하면 행을 잃지 않고 고칩니다 "
    "(무엇을 고칠지 먼저 보려면 --yes 없이 실행하세요)."
)
FIX_SCHEMA_MANUAL_HEAD = "자동으로 고치지 않는 것은 직접 실행하세요:"
FIX_SCHEMA_RERUN_BY_HAND = (
    "직접 하려면 그 파일을 psql 로 다시 실행해도 됩니다 (여러 번 실행해도 행을 잃지 않습니다):\n"
    'psql "postgresql://USER:PASSWORD@HOST:PORT/DB" -1 -f sql/{name}'
)

PROBLEMS.update({
    "schema_repair_failed": Problem(
        title="스키마를 고치지 못했습니다",
        cause="{description}: 오류가 나서 이 수정은 모두 되돌렸습니다. 다른 수정은 그대로입니다.",
        steps=(
            "python -m setup_wizard check 로 남은 차이와 직접 실행할 SQL을 확인하세요.",
            "권한 오류(42501)라면 테이블 소유자나 슈퍼유저로 다시 실행하세요: python -m setup_wizard --yes",
            "그래도 안 되면 python -m setup_wizard check --report report.md 결과를 팀 채팅에 올리세요.",
        ),
    ),
    "schema_drift_manual": Problem(
        title="자동으로 고칠 수 없는 스키마 차이가 있습니다",
        cause="행을 잃거나 값이 바뀔 수 있는 차이라서 마법사가 고치지 않습니다.",
        steps=(
            "check 결과에 적힌 SQL을 팀과 확인한 뒤 psql 로 실행하세요.",
            "실행한 뒤 python -m setup_wizard check 로 다시 확인하세요.",
        ),
    ),
})

PROBLEMS.update({
    "schema_drift": Problem(
        title="데이터베이스가 백엔드가 기대하는 모양과 다릅니다",
        cause="백엔드가 쓰는 테이블, 열 또는 제약 조건 가운데 아직 없거나 다른 것이 있습니다.",
        hint=FIX_SCHEMA_DRIFT_PENDING,
    ),
    "search_path_shadow": Problem(
        title="같은 이름의 테이블이 여러 스키마에 있습니다", cause=SEARCH_PATH_SHADOW, hint=FIX_SEARCH_PATH,
    ),
})
