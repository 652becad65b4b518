"""The end of a run: final checklist, verification, summary and next steps.

Section 13 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section).
"""

from __future__ import annotations

# The final checklist: `check`'s database items read again after the run's fixes (flow/checks_database.py).
CHECKLIST_TITLE = "최종 점검"
STEP_READINESS = "백엔드가 쓸 준비"
READINESS_MISSING = "최종 점검에서 아직 없는 것이 있습니다: {names}"
FIX_READINESS = (
    "python -m setup_wizard check 로 무엇이 다른지 확인하세요.\n"
    "그다음 python -m setup_wizard --yes 를 다시 실행하면 지우지 않고 더할 수 있는 것은 모두 더합니다."
)

# Verification: every conversation linked to a session.
STEP_VERIFY = "검증"
VERIFY_OK = "모든 대화가 세션에 연결되어 있습니다."
VERIFY_NOTHING_YET = "chat_sessions 가 아직 없어 검증할 것이 없습니다."
VERIFY_UNLINKED = "세션에 연결되지 않은 대화가 {count}개 있습니다."
FIX_VERIFY_UNLINKED = (
    "이 대화들은 손으로 마이그레이션한 뒤에 생긴 것입니다. 백엔드는 그대로 동작하지만 세션 목록에는 보이지 않습니다.\n"
    "모두 한 세션으로 다시 묶으려면 python -m setup_wizard --recreate 를 실행하세요 (백업 후 진행)."
)
VERIFY_TABLE_TITLE = "검증 결과"
VERIFY_COL_TABLE = "table_name"
VERIFY_COL_TOTAL = "total_rows"
VERIFY_COL_USERS = "unique_users"
VERIFY_CHAT_SESSIONS = "chat_sessions"
VERIFY_WITH_SESSION = "conversation_memories with session"
VERIFY_WITHOUT_SESSION = "conversation_memories without session"

SUMMARY_OK = "데이터베이스가 준비되었습니다."
SUMMARY_FAILED = "준비되지 않았습니다. 위 「{title}」 항목의 해결 방법을 따라 한 뒤 다시 실행하세요."
SUMMARY_NOT_READY = "데이터베이스가 아직 준비되지 않았습니다."
SUMMARY_CHECK_OK = "점검을 마쳤습니다: 문제가 없습니다."
SUMMARY_CHECK_FAILED = "점검을 마쳤습니다: 문제 {fails}개, 경고 {warns}개."
NEXT_FOR_FAILURE = "다음에 할 일 ({title})"
RERUN_AFTER_FIX = "위의 문제를 해결한 뒤 python -m setup_wizard 를 다시 실행하세요."
RERUN_ALL_GOOD = "데이터베이스가 이미 모두 준비되어 있습니다. 바꾼 것은 없습니다."
NEXT_STEPS = "다음 단계: backend 폴더에서 서버를 시작하세요 (예: {cd}uvicorn app.main:app --reload)."
# After the next steps, what the run's checklist found (flow/finish.next_steps chooses one).
NEXT_STEPS_CHECKPOINTS_LATER = (
    "LangGraph 체크포인트 테이블(checkpoints 등)은 서버를 처음 시작할 때 자동으로 만들어집니다."
)
NEXT_STEPS_CHECKPOINTS_READY = "LangGraph 체크포인트 테이블(checkpoints 등)도 이미 준비되어 있습니다."
NEXT_STEPS_TITLE = "다음 단계"
NEXT_STEPS_WIZARD = (
    "1. backend 폴더로 이동합니다: cd {path}\n"
    "2. 서버를 시작합니다: uvicorn app.main:app --reload\n"
    "3. 다시 점검하려면: python -m setup_wizard check"
)
# Already in the backend folder: no `cd`.
NEXT_STEPS_WIZARD_HERE = (
    "1. 지금 있는 backend 폴더에서 서버를 시작합니다: uvicorn app.main:app --reload\n"
    "2. 다시 점검하려면: python -m setup_wizard check"
)
NEXT_STEPS_CD = "cd {path} 후 "
