"""The plan and applying migrations (and --recreate).

Section 8 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

# The plan: what each file will do to this database, asked once.
STEP_MIGRATIONS = "마이그레이션"
PLAN_INTRO = "적용할 마이그레이션 {count}개가 이 데이터베이스에 하는 일입니다:"
PLAN_SAFE = "기존 데이터는 지우지 않습니다. 파일마다 트랜잭션 하나로 적용해, 실패하면 그 파일의 변경은 모두 되돌립니다."
# What each file will do is declared in the file itself (-- setup_wizard:plan:); a file that declares nothing:
PLAN_GENERIC = "{name} 파일을 적용합니다."
ASK_CONFIRM_APPLY = "위 마이그레이션을 적용할까요?"
APPLY_DECLINED = "적용하지 않았습니다. 아무것도 바뀌지 않았습니다."

# Applying, and what the server said while doing it.
APPLY_STARTING = "마이그레이션을 적용하는 중..."
APPLYING = "{name} 적용 중..."
APPLY_FILE_DONE = "{name}: {action} ({seconds:.2f}초)"
MIGRATIONS_APPLIED = "마이그레이션 {applied}개를 적용했습니다 ({seconds:.2f}초)."
MIGRATIONS_NONE_APPLIED = "새로 적용한 마이그레이션은 없습니다 ({seconds:.2f}초)."
MIGRATIONS_SKIPPED = "{skipped}개는 이미 적용되어 있어 건너뛰었습니다."
MIGRATIONS_BASELINE = "손으로 마이그레이션한 데이터베이스로 인식해 기준점으로 기록했습니다: {name}"
MIGRATIONS_UP_TO_DATE = "모든 마이그레이션({count}개)이 적용되어 있습니다."
MIGRATION_TABLE_TITLE = "마이그레이션"
MIGRATION_COL_FILE = "파일"
MIGRATION_COL_ACTION = "결과"
MIGRATION_COL_SECONDS = "시간(초)"
MIGRATION_ACTIONS = {
    "applied": "적용함",
    "baseline": "기준점 기록",
    "skipped": "이미 적용됨",
    "pending": "대기 중",
    "failed": "실패 (되돌림)",
    "changed": "내용 바뀜",
}

NOTICES_TITLE = "서버가 알려 준 내용:"
# Our own notices are told in the Korean their files declare (-- setup_wizard:notice:); the server's:
NOTICE_OTHER = "그 밖의 서버 알림이 {count}건 있습니다. 할 일은 없습니다."
# The server's own "…, skipping" notices, in the server's language: told apart by what they say.
NOTICE_EXISTS_SKIPPED = (
    "이미 있는 테이블·인덱스·형식은 다시 만들지 않고 건너뛰었다는 알림이 {count}건 있습니다. 해롭지 않습니다."
)
NOTICE_MISSING_SKIPPED = (
    "아직 없는 트리거나 제약 조건은 지우지 않고 건너뛰었다는 알림이 {count}건 있습니다. "
    "처음 적용할 때 흔한 일이며 해롭지 않습니다."
)
NOTICE_SEE_ORIGINALS = "서버가 보낸 원문은 -v 를 붙여 실행하면 볼 수 있습니다."
NOTICES_ORIGINAL = "서버 알림 원문: {text}"

# check: pending files and the checksums of applied ones.
MIGRATIONS_PENDING_HEAD = "적용하지 않은 마이그레이션이 {count}개 있습니다:"
MIGRATION_PENDING_LINE = "- {name}{note}"
MIGRATION_PENDING_BASELINE = " (손으로 적용한 흔적이 있어 빠진 것만 더하고 기준점으로 기록합니다)"
STEP_CHECKSUMS = "마이그레이션 파일 체크섬"
CHECKSUMS_NO_PLAN = "마이그레이션 상태를 읽지 못해 건너뛰었습니다."
CHECKSUMS_NOTHING_APPLIED = "아직 적용한 마이그레이션이 없습니다."
CHECKSUMS_OK = "적용한 파일 {count}개의 내용이 기록과 같습니다."

PROBLEMS: dict[str, Problem] = {
    "migrations_pending": Problem(
        title="적용하지 않은 마이그레이션이 있습니다",
        cause="데이터베이스가 백엔드가 기대하는 상태가 아닙니다.",
        steps=("python -m setup_wizard --yes 로 적용하세요 (기존 데이터는 지우지 않습니다).",),
    ),
    "migration_failed": Problem(
        title="마이그레이션이 실패해 모두 되돌렸습니다",
        cause="{name} 파일을 적용하다가 오류가 났습니다. 트랜잭션을 되돌려 데이터베이스는 바뀌지 않았습니다.",
        steps=(
            "아래 서버 메시지와 SQLSTATE를 확인하세요.",
            "원인을 고친 뒤 python -m setup_wizard 를 다시 실행하세요. 이미 적용된 단계는 건너뜁니다.",
            "해결이 안 되면 python -m setup_wizard check --report report.md 결과를 팀 채팅에 올리세요.",
        ),
    ),
    "checksum_mismatch": Problem(
        title="이미 적용된 마이그레이션 파일의 내용이 바뀌었습니다",
        cause="{name} 파일은 {applied_at} 에 적용되었는데, 지금 파일 내용이 그때와 다릅니다. 다시 실행하지 않았습니다.",
        steps=(
            "마법사를 최신 버전으로 받았는지(git pull) 확인하세요.",
            "파일을 일부러 고쳤다면 되돌리세요. 이미 적용된 마이그레이션은 바꾸지 말고 새 파일을 추가해야 합니다.",
            "변경 내용을 팀과 확인하세요: git log -p sql/{name}",
        ),
    ),
}

SEED_ERRORS = {
    # SQLSTATEs of the seed guide's own error messages, explained when a migration meets them.
    "42P07": "seed_relation_exists",
    "42P01": "seed_table_missing",
    "25P02": "seed_rolled_back",
    "23503": "dev_user_missing",
}

PROBLEMS.update({
    "seed_relation_exists": Problem(
        title="\"relation already exists\" (이미 있습니다) 는 해롭지 않습니다",
        cause="가이드의 SQL을 두 번 실행하면 이미 만든 테이블·인덱스 때문에 나는 메시지입니다. 데이터는 그대로입니다.",
        steps=(
            "python -m setup_wizard check 로 지금 상태를 확인하세요.",
            "마법사의 마이그레이션은 몇 번을 실행해도 안전하니 python -m setup_wizard --yes 로 마무리하세요.",
        ),
    ),
    "seed_table_missing": Problem(
        title="\"table does not exist\" (테이블이 없습니다) 는 해롭지 않습니다",
        cause="처음 설치하는 데이터베이스라 아직 없는 테이블을 지우거나 바꾸려 할 때 나는 메시지입니다.",
        steps=(
            "python -m setup_wizard --yes 를 실행하면 필요한 테이블(users, conversation_memories 포함)을 만듭니다.",
        ),
    ),
    "seed_rolled_back": Problem(
        title="ROLLBACK: 아무것도 바뀌지 않았습니다",
        cause="트랜잭션 중에 오류가 나서 그 트랜잭션 전체가 되돌려졌습니다. 데이터베이스는 시작 전 그대로입니다.",
        steps=(
            "위쪽의 첫 번째 오류 메시지가 진짜 원인입니다. 그 원인을 고치세요.",
            "그다음 python -m setup_wizard --yes 로 다시 실행하세요. 이미 적용된 단계는 건너뜁니다.",
        ),
    ),
})

# --recreate: back up chat_sessions, drop it and make it again.
PLAN_RECREATE = (
    "--recreate: chat_sessions 와 conversation_memories.session_id 를 백업 스키마에 복사한 뒤 지우고 "
    "다시 만듭니다. 모든 대화가 사용자마다 세션 하나로 다시 묶입니다."
)
RECREATE_CONFIRM = (
    "chat_sessions 테이블을 지우고 다시 만듭니다. 지우기 전에 백업 스키마에 복사합니다.\n"
    "계속하려면 데이터베이스 이름({dbname})을 그대로 입력하세요"
)
RECREATE_DECLINED = "입력한 이름이 데이터베이스 이름과 달라 아무것도 바꾸지 않았습니다."
RECREATE_NEEDS_CONFIRM = "--recreate 는 확인이 필요합니다."
FIX_RECREATE_NEEDS_CONFIRM = "터미널에서 실행해 데이터베이스 이름을 입력하거나, --yes --recreate 로 실행하세요."
STEP_RECREATE = "chat_sessions 다시 만들기"
RECREATE_DONE = (
    "chat_sessions 와 conversation_memories.session_id 를 {schema} 스키마에 백업한 뒤 다시 만들었습니다."
)
RECREATE_RESTORE = (
    "되돌리려면 다음 명령으로 psql 에 들어가 아래 SQL을 실행하세요: {psql}\n{sql}"
)
