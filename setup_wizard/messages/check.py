"""The check command: its other items and the shareable report (--report).

Section 14 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

CHECK_SKIPPED_NO_CONNECTION = "데이터베이스에 접속하지 못해 건너뛰었습니다."
CHECK_CRASHED = "이 항목을 점검하다가 오류가 났습니다: {error}"
FIX_CHECK_CRASHED = (
    "다른 항목은 계속 점검했습니다. 이 오류는 마법사의 버그일 수 있습니다.\n"
    "python -m setup_wizard check --report report.md 로 보고서를 만들어 팀 채팅에 올려 주세요."
)
NOT_FOUND = "(찾지 못함)"
PATH_LINE = "경로: {path}"

# This machine: Python and packages.
STEP_PYTHON = "Python"
PYTHON_TOO_OLD = "Python {version} 입니다. 이 마법사와 백엔드는 Python 3.10 이상이 필요합니다."
FIX_PYTHON_TOO_OLD = "python.org 에서 Python 3.12 를 설치한 뒤, 새 가상 환경에서 pip install . 을 다시 실행하세요."
STEP_PACKAGES = "필요한 패키지"
PACKAGES_MISSING = "설치되지 않은 패키지가 있습니다: {names}"
FIX_PACKAGES_MISSING = "프로젝트 폴더에서 pip install . 을 실행하세요 (가상 환경을 쓴다면 먼저 활성화하세요)."
PACKAGES_LIBPQ = "psycopg 구현: {impl}, libpq {libpq}"
PACKAGES_OPTIONAL = "선택 패키지 {name}: {state}"
PACKAGES_OPTIONAL_ABSENT = (
    "설치되지 않음 (pip install .[checkpoints] 로 설치하면 체크포인트 테이블을 미리 만들 수 "
    "있습니다)"
)

# The database's encoding.
STEP_ENCODING = "데이터베이스 인코딩"
ENCODING_DETAIL = "인코딩 {encoding}, 정렬 {collate}"
ENCODING_NOT_UTF8 = "UTF8 이 아니라서 한글 대화를 저장할 때 오류가 나거나 글자가 깨집니다."
FIX_ENCODING = (
    "데이터가 없다면 다음 명령으로 지운 뒤 python -m setup_wizard --yes 로 UTF8 데이터베이스를 다시 만드세요: "
    "psql -h {host} -p {port} -U {user} -d postgres -c \"DROP DATABASE \\\"{dbname}\\\"\"\n"
    "데이터가 있다면 지우기 전에 팀과 상의하세요 (pg_dump 로 백업 후 UTF8 데이터베이스로 옮깁니다)."
)

# --report: writing the file, its headings, and the environment facts it lists.
STEP_REPORT = "보고서 파일"
REPORT_PATH_INVALID = "보고서를 쓸 수 없는 경로입니다: {path}"
REPORT_WOULD_OVERWRITE = "보고서가 .env 파일을 덮어쓰게 됩니다: {path}"
FIX_REPORT_PATH = "있는 폴더 안의 새 파일 이름을 주세요. 예: --report report.md"
REPORT_WRITE_FAILED = "보고서를 쓰지 못했습니다: {path} ({error})"
REPORT_WRITTEN = "보고서를 저장했습니다: {path} (비밀번호는 들어 있지 않습니다. 팀 채팅에 그대로 붙여 넣어도 됩니다.)"

REPORT_TITLE = "setup_wizard 점검 보고서"
REPORT_CREATED = "만든 시각"
REPORT_TOOL = "도구"
REPORT_RESULT = "결과"
REPORT_NO_SECRETS = "비밀번호와 .env 의 비밀 값은 모두 *** 로 가렸습니다."
REPORT_CHECKLIST = "점검 항목"
REPORT_ENVIRONMENT = "환경"
REPORT_COL_ITEM = "항목"
REPORT_COL_VALUE = "값"
REPORT_LAST_FAILURE = "마지막 실패"
REPORT_NO_FAILURE = "실패한 항목이 없습니다."

FACT_OS = "운영 체제"
FACT_PYTHON = "Python"
FACT_PACKAGES = "패키지"
FACT_PSQL = "psql"
FACT_SERVER = "PostgreSQL 서버"
FACT_INSTALLATIONS = "PostgreSQL 설치"
FACT_SETTING = "설정: {field}"
FACT_SETTING_VALUE = "{value} ({source})"

PROBLEMS: dict[str, Problem] = {
    "python_unsupported": Problem(
        title="Python 버전이 너무 낮습니다", cause=PYTHON_TOO_OLD, hint=FIX_PYTHON_TOO_OLD,
    ),
    "package_missing": Problem(
        title="필요한 패키지가 설치되지 않았습니다", cause=PACKAGES_MISSING, hint=FIX_PACKAGES_MISSING,
    ),
    "database_encoding": Problem(
        title="데이터베이스 인코딩이 UTF8 이 아닙니다", cause=ENCODING_NOT_UTF8, hint=FIX_ENCODING,
    ),
    "check_crashed": Problem(title="이 항목을 점검하지 못했습니다", cause=CHECK_CRASHED, hint=FIX_CHECK_CRASHED),
    "report_write_failed": Problem(
        title="보고서를 쓰지 못했습니다", cause=REPORT_WRITE_FAILED, hint=FIX_REPORT_PATH,
    ),
}
