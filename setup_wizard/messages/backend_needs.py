"""What else the backend needs: dev user 1, LangGraph checkpoint tables, the models' other tables.

Section 10 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

# Dev user 1: without login, the backend writes every conversation as user 1.
STEP_DEV_USER = "개발용 사용자"
DEV_USER_OK = "id 1 사용자가 있습니다."
DEV_USER_NO_TABLE = "users 테이블이 아직 없습니다."
ASK_CREATE_DEV_USER = "id 1 개발용 사용자(test@test.com)가 없습니다. 지금 만들까요? (추가만 합니다)"
DEV_USER_CREATED = "id 1 사용자(test@test.com)를 만들고 id 시퀀스를 그 뒤로 옮겼습니다."
DEV_USER_EMAIL_TAKEN = "test@test.com 은 이미 다른 id로 있어 id 1 사용자를 만들지 않았습니다."

PROBLEMS: dict[str, Problem] = {
    "dev_user_missing": Problem(
        title="id 1 사용자가 없습니다",
        cause="로그인이 없는 개발 중에는 백엔드가 모든 대화를 id 1 사용자로 만듭니다. 없으면 첫 대화에서 "
              "외래 키 위반 오류가 납니다.",
        steps=(
            "python -m setup_wizard --yes 로 실행하면 자동으로 만듭니다 (추가만 하고 지우지 않습니다).",
            "직접 만들려면: INSERT INTO users (id, email, type, is_active) VALUES (1, 'test@test.com', 'USER', true);",
            "그다음 시퀀스를 옮기세요: "
            "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));",
        ),
    ),
}

# LangGraph's checkpoint tables (made by the backend on first start, or here with --yes).
STEP_CHECKPOINTS = "LangGraph 체크포인트 테이블"
CHECKPOINTS_ABSENT = "아직 없습니다. 서버를 처음 시작할 때 자동으로 만들어집니다."
CHECKPOINTS_CAN_CREATE = "지금 만들려면: python -m setup_wizard --yes"
CHECKPOINTS_PRESENT = "checkpoints, checkpoint_blobs, checkpoint_writes, checkpoint_migrations 가 있습니다{version}."
CHECKPOINTS_VERSION = " (마이그레이션 버전 {version})"
CHECKPOINTS_INCOMPLETE = "일부만 있습니다. 없는 테이블: {missing}"
FIX_CHECKPOINTS_INCOMPLETE = "백엔드 서버를 다시 시작하면 LangGraph 가 빠진 테이블을 만듭니다."
FIX_CHECKPOINTS_INCOMPLETE_LIB = (
    "python -m setup_wizard --yes 로 빠진 테이블을 만들거나, 백엔드 서버를 다시 "
    "시작하세요."
)
CHECKPOINTS_AHEAD = (
    "데이터베이스의 마이그레이션 버전({version})이 설치된 라이브러리가 아는 버전({expected})보다 높습니다."
)
FIX_CHECKPOINTS_AHEAD = "라이브러리를 올리세요: pip install -U {package} (백엔드와 같은 버전을 쓰세요)."
CHECKPOINTS_BEHIND = (
    "마이그레이션 버전이 {version} 입니다 (설치된 라이브러리: {expected}). "
    "서버를 시작하면 올라가며, python -m setup_wizard --yes 로 지금 올릴 수도 있습니다."
)
CHECKPOINTS_OK = "이미 있습니다 (마이그레이션 버전 {version})."
ASK_CREATE_CHECKPOINTS = "LangGraph 체크포인트 테이블(checkpoints 등)을 지금 만들까요?"
ASK_UPGRADE_CHECKPOINTS = "LangGraph 체크포인트 테이블을 설치된 라이브러리 버전에 맞게 채울까요?"
CHECKPOINTS_CREATING = "LangGraph 체크포인트 테이블을 만드는 중..."
CHECKPOINTS_CREATED = "LangGraph 의 setup() 으로 만들었습니다 (마이그레이션 버전 {version})."
CHECKPOINTS_DECLINED = "만들지 않았습니다. 서버를 처음 시작할 때 자동으로 만들어집니다."
CHECKPOINTS_FAILED = "LangGraph 의 setup() 이 실패했습니다: {error}"
FIX_CHECKPOINTS_FAILED = (
    "다른 단계는 적용되었습니다. 체크포인트 테이블은 서버를 처음 시작할 때 다시 만들어 봅니다.\n"
    "서버에서도 실패하면 python -m setup_wizard check --report report.md 결과를 팀 채팅에 올리세요."
)

# The tables the backend's models declare that the wizard does not make (real-estate data).
STEP_BACKEND_TABLES = "백엔드 모델의 다른 테이블 (부동산 데이터 등)"
BACKEND_TABLES_NO_FOLDER = "backend/app/models 폴더를 찾지 못해 건너뛰었습니다."
BACKEND_TABLES_OK = "백엔드 모델이 선언한 테이블 {count}개가 모두 있습니다."
BACKEND_TABLES_MISSING = (
    "백엔드 모델이 선언했지만 데이터베이스에 없는 테이블 {count}개: {names}\n"
    "마법사가 만드는 테이블이 아닙니다. 채팅은 되지만 매물 검색 같은 기능에 필요합니다."
)
FIX_BACKEND_TABLES = (
    "backend 폴더에서 백엔드 모델로 없는 테이블만 만드세요 (있는 테이블은 건드리지 않습니다):\n"
    "python -c \"import app.models; from app.db.postgre_db import Base, engine; "
    "Base.metadata.create_all(engine)\"\n"
    "그다음 데이터를 넣으세요: python scripts/import_apt_ofst.py 등 (backend/scripts/README_SETUP.md 참고).\n"
    "scripts/init_db.py 와 scripts/init_chat_tables.py 는 기존 테이블을 지우고 다시 만듭니다. 데이터가 있는 "
    "데이터베이스에는 쓰지 마세요."
)

PROBLEMS.update({
    "backend_tables_missing": Problem(
        title="백엔드 모델의 테이블 가운데 없는 것이 있습니다", cause=BACKEND_TABLES_MISSING, hint=FIX_BACKEND_TABLES,
    ),
    "checkpoint_tables_incomplete": Problem(
        title="LangGraph 체크포인트 테이블이 일부만 있습니다", cause=CHECKPOINTS_INCOMPLETE,
        hint=FIX_CHECKPOINTS_INCOMPLETE,
    ),
    "checkpoint_library_outdated": Problem(
        title="LangGraph 체크포인트 라이브러리가 데이터베이스보다 오래되었습니다", cause=CHECKPOINTS_AHEAD,
        hint=FIX_CHECKPOINTS_AHEAD,
    ),
    "checkpoint_setup_failed": Problem(
        title="LangGraph 체크포인트 테이블을 만들지 못했습니다", cause=CHECKPOINTS_FAILED, hint=FIX_CHECKPOINTS_FAILED,
    ),
})
