"""The backend's view of settings (backend/.env, DATABASE_URL) and the fixes that lose nothing.

Section 11 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

STEP_BACKEND_ENV = "백엔드가 읽는 .env"
STEP_BACKEND_URL = "백엔드가 쓰는 DATABASE_URL"
BACKEND_ENV_OK = "{path} 파일을 백엔드도 그대로 읽습니다 (UTF-8)."
BACKEND_ENV_ABSENT_ENVIRON = "{path} 파일은 없지만, 백엔드는 환경 변수 {key} 값을 씁니다."
BACKEND_FOLDER_ASSUMED = (
    "backend 폴더를 찾지 못해, 현재 폴더에서 백엔드를 시작한다고 보고 판단했습니다."
)
ASK_CONTINUE_WITHOUT_BACKEND = "backend 폴더 없이 계속할까요?"
PROJECT_FOLDER_PLACEHOLDER = "프로젝트-폴더"
BACKEND_NOT_FOUND = "backend 폴더도 .env 파일도 없어, 백엔드가 읽을 설정은 점검하지 않았습니다."
BACKEND_URL_OK = "백엔드는 {source} 값으로 접속합니다: {url}"
BACKEND_OTHER_VALUE = "백엔드가 쓰지 않는 값: {source}"
BACKEND_OTHER_VALUE_IN = "백엔드가 쓰지 않는 값: {source} ({path})"
BACKEND_ENCODING_NAMES = {
    "utf-16": "UTF-16, Windows PowerShell 5.1에서 > 로 저장하면 이렇게 됩니다",
    "cp949": "CP949(ANSI) 또는 다른 인코딩, 한글이 들어 있습니다",
}
BACKEND_SCHEME_REASONS = {
    "postgresql": "postgresql:// 는 psycopg2 드라이버를 불러오는데, 백엔드에는 psycopg2가 없습니다.",
    "postgres": "postgres:// 는 SQLAlchemy가 알지 못하는 이름이라 엔진을 만들지 못합니다.",
    "postgresql+asyncpg": "postgresql+asyncpg:// 는 asyncpg 드라이버를 불러오는데, 백엔드에는 asyncpg가 없습니다.",
    "postgresql+psycopg2": "postgresql+psycopg2:// 는 psycopg2 드라이버를 불러오는데, 백엔드에는 psycopg2가 없습니다.",
    "postgresql+psycopg_async": (
        "postgresql+psycopg_async:// 는 비동기 전용 드라이버라서, 백엔드는 시작하지만 동기 엔진(create_engine)의 "
        "모든 접속이 실패합니다."
    ),
}
BACKEND_SCHEME_OTHER = (
    "백엔드는 소문자로 정확히 postgresql+psycopg:// 라고 쓴 URL만 씁니다 "
    "(비동기 엔진을 만들 때 이 글자 그대로를 postgresql+psycopg_async:// 로 바꿉니다)."
)
BACKEND_URL_DIFFERS_FROM_DSN = "마법사가 점검한 곳(--dsn): {dsn_target}\n백엔드가 쓰는 곳: {backend_target}"
BACKEND_TARGET_NONE = "(없음: 백엔드가 시작하지 못합니다)"

# Fixes that lose nothing: each one's reason, shown with the one save question after the login worked.
ENV_FIX_REWRITE_UTF8 = "UTF-8(BOM 없음)로 다시 저장합니다. 백엔드는 이 형식만 읽습니다. 모든 줄과 주석은 그대로 둡니다."
ENV_FIX_ADD_URL = (
    "POSTGRES_* 값(없는 값은 백엔드 기본값)으로 DATABASE_URL을 만들어 추가합니다. "
    "백엔드의 엔진은 DATABASE_URL만 읽습니다."
)
ENV_FIX_SCHEME = "DATABASE_URL 앞부분 {scheme}:// 를 postgresql+psycopg:// 로 바꿉니다."
ENV_FIX_PASSWORD = "{key} 값을 DATABASE_URL의 비밀번호로 넣습니다 (화면에는 보이지 않습니다)."
ENV_FIX_COPY_ROOT = "{source} 파일을 복사해 만듭니다. 원래 파일은 그대로 둡니다."

BACKEND_SETTINGS_PROBLEMS = {
    "backend_env_encoding": Problem(
        title="백엔드가 .env 파일을 읽지 못합니다 (인코딩)",
        cause=(
            "{path} 파일이 UTF-8이 아닙니다 ({encoding_name}). 백엔드는 이 파일을 UTF-8로만 읽기 때문에 "
            "시작하자마자 UnicodeDecodeError로 멈춥니다."
        ),
        steps=(
            "python -m setup_wizard 를 실행하면 그 값으로 로그인에 성공한 뒤, 백업을 남기고 같은 내용을 "
            "UTF-8(BOM 없음)로 다시 저장할지 묻습니다(--yes 는 묻지 않고 저장합니다).",
            "직접 고치려면 VS Code에서 파일을 열고 오른쪽 아래 인코딩 → '인코딩하여 저장' → UTF-8 을 고르세요.",
        ),
    ),
    "backend_env_bom": Problem(
        title="백엔드가 DATABASE_URL을 보지 못합니다 (BOM)",
        cause=(
            "{path} 파일이 UTF-8 BOM으로 시작하고 첫 줄에 DATABASE_URL이 있습니다. 백엔드가 쓰는 python-dotenv "
            "1.0.1은 BOM을 첫 키 이름의 일부로 읽으므로, 백엔드에는 DATABASE_URL이 없는 것과 같습니다."
        ),
        steps=(
            "python -m setup_wizard 를 실행하면 그 값으로 로그인에 성공한 뒤, 백업을 남기고 BOM 없는 "
            "UTF-8로 다시 저장할지 묻습니다(--yes 는 묻지 않고 저장합니다).",
            "직접 고치려면 편집기에서 인코딩을 'UTF-8'(BOM 없음)로 바꿔 저장하세요.",
        ),
    ),
    "backend_not_found": Problem(
        title="backend 폴더를 찾지 못했습니다",
        cause=(
            "이 폴더({cwd})와 그 위 폴더에 backend 폴더도 .env 파일도 없습니다. 이대로 계속하면 백엔드 "
            "기본값으로 접속하고, 백엔드가 읽을 .env 파일은 만들지 않습니다."
        ),
        steps=(
            "프로젝트 폴더(backend 폴더가 있는 곳)로 이동해 다시 실행하세요: cd {project} → python -m setup_wizard",
            "다른 곳의 .env 파일을 쓰려면: python -m setup_wizard --env-file {project}/backend/.env",
        ),
    ),
    "backend_env_outside": Problem(
        title=".env 파일이 backend 폴더 밖에 있습니다",
        cause=(
            "{path} 파일은 있지만 {target} 파일이 없습니다. 백엔드는 backend 폴더에서 시작해 그 폴더의 "
            ".env만 읽으므로 DATABASE_URL 없이 시작하다 멈춥니다."
        ),
        steps=(
            "python -m setup_wizard --yes 로 실행하면 그 값으로 로그인에 성공한 뒤 "
            "이 파일을 {target} 위치로 복사합니다. 원래 파일은 그대로 둡니다.",
            "windows: 직접 하려면 파일을 backend 폴더로 복사하세요: copy \"{path}\" \"{target}\"",
            "linux: 직접 하려면 파일을 backend 폴더로 복사하세요: cp \"{path}\" \"{target}\"",
            "darwin: 직접 하려면 파일을 backend 폴더로 복사하세요: cp \"{path}\" \"{target}\"",
        ),
    ),
    # (the DATABASE_URL line to add by hand: the file's POSTGRES_* values, else the backend's defaults)
    "backend_url_missing": Problem(
        title="백엔드가 쓸 DATABASE_URL이 없습니다",
        cause=(
            "{path} 파일에 DATABASE_URL이 없습니다. 백엔드의 엔진은 DATABASE_URL만 쓰므로 "
            "create_engine(\"\")에서 멈춥니다. POSTGRES_* 키는 그 뒤에 체크포인트 저장소만 읽습니다.\n"
            "이 파일의 접속 키: {keys}"
        ),
        steps=(
            "python -m setup_wizard 를 실행하면 로그인에 성공한 뒤, 접속한 값(파일에 POSTGRES_* 키가 "
            "있으면 그 값)으로 DATABASE_URL을 만들어 저장할지 묻습니다(--yes 는 묻지 않고 저장합니다).",
            "직접 추가하려면: DATABASE_URL=postgresql+psycopg://{user}:비밀번호@{host}:{port}/{dbname}",
        ),
    ),
    "backend_url_empty_environ": Problem(
        title="환경 변수 DATABASE_URL이 비어 있습니다",
        cause=(
            "환경 변수 {key} 값이 빈 문자열로 설정되어 있습니다. 백엔드는 환경 변수를 .env 파일보다 먼저 "
            "읽으므로, 파일에 URL이 있어도 빈 URL로 시작하다 멈춥니다."
        ),
        steps=(
            "windows: 이 터미널에서 변수를 지우세요: Remove-Item Env:{key}  (명령 프롬프트: set {key}=)",
            "linux: 이 터미널에서 변수를 지우세요: unset {key}",
            "darwin: 이 터미널에서 변수를 지우세요: unset {key}",
            "시스템 환경 변수에 들어 있다면 거기서 지운 뒤 터미널을 새로 여세요.",
        ),
    ),
    "backend_url_scheme": Problem(
        title="DATABASE_URL의 드라이버가 백엔드와 맞지 않습니다",
        cause="{source} 값이 {scheme}:// 로 시작합니다. {reason}",
        steps=(
            "python -m setup_wizard --yes 로 실행하면 그 값으로 로그인에 성공한 뒤 "
            "나머지는 그대로 두고 앞부분만 postgresql+psycopg:// 로 바꿉니다.",
            "직접 고치려면 {scheme}:// 를 postgresql+psycopg:// 로 바꾸세요.",
        ),
    ),
    "backend_url_invalid": Problem(
        title="백엔드가 DATABASE_URL을 해석하지 못합니다",
        cause=(
            "{source} 값의 형식이 올바르지 않습니다. 비밀번호에 @ 같은 특수문자가 그대로 있으면 "
            "백엔드는 다른 호스트로 접속합니다."
        ),
        steps=(
            "형식: postgresql+psycopg://사용자:비밀번호@호스트:포트/데이터베이스",
            "비밀번호의 특수문자는 퍼센트 인코딩하세요: @ → %40, # → %23, : → %3A, / → %2F",
        ),
    ),
    "backend_url_rejected": Problem(
        title="백엔드는 시작하지만 DATABASE_URL로는 접속할 수 없습니다",
        cause=(
            "{source} 값을 백엔드(SQLAlchemy)는 받아들이지만, 접속할 때 PostgreSQL 클라이언트(libpq)가 "
            "거부합니다: 포트가 1~65535 사이의 숫자가 아니거나, 호스트와 포트의 개수가 맞지 않거나, 알 수 없는 "
            "접속 옵션이 있습니다. 백엔드의 모든 접속이 실패합니다."
        ),
        steps=(
            "형식: postgresql+psycopg://사용자:비밀번호@호스트:포트/데이터베이스",
            "호스트가 여러 개라면 포트도 같은 개수로 적으세요: ?host=db1,db2&port=5432,5433",
        ),
    ),
    "backend_password_only_in_keys": Problem(
        title="비밀번호가 POSTGRES_PASSWORD에만 있습니다",
        cause=(
            "{source} 값에는 비밀번호가 없고 {key}에만 있습니다. 백엔드의 엔진은 POSTGRES_PASSWORD를 "
            "읽지 않으므로 비밀번호 없이 접속하다 실패합니다."
        ),
        steps=(
            "python -m setup_wizard --yes 로 실행하면 그 값으로 로그인에 성공한 뒤 "
            "이 비밀번호를 퍼센트 인코딩해 DATABASE_URL에 넣습니다.",
            "직접 고치려면 URL의 사용자 이름 뒤에 :비밀번호 를 넣으세요: postgresql+psycopg://postgres:비밀번호@...",
        ),
    ),
    "backend_url_from_environ": Problem(
        title="백엔드는 환경 변수의 DATABASE_URL을 씁니다",
        cause=(
            "환경 변수 {key} 값이 {path} 파일의 DATABASE_URL과 다릅니다. 백엔드는 환경 변수를 먼저 읽으므로, "
            "이 터미널에서 시작하면 파일의 값은 쓰이지 않습니다. 마법사도 환경 변수의 값으로 접속했습니다."
        ),
        steps=(
            "windows: 의도한 것이 아니라면 변수를 지우세요: Remove-Item Env:{key}",
            "linux: 의도한 것이 아니라면 변수를 지우세요: unset {key}",
            "darwin: 의도한 것이 아니라면 변수를 지우세요: unset {key}",
        ),
    ),
    "backend_url_no_dbname": Problem(
        title="DATABASE_URL에 데이터베이스 이름이 없습니다",
        cause=(
            "{source} 값에 데이터베이스 이름이 없어서, libpq와 백엔드는 사용자 이름과 같은 이름의 "
            "데이터베이스({dbname})를 씁니다. real_estate 데이터베이스가 아닙니다."
        ),
        steps=(
            "의도한 것이 아니라면 URL 끝에 데이터베이스 이름을 붙이세요: .../real_estate",
        ),
    ),
    "backend_dsn_elsewhere": Problem(
        title="--dsn 으로 점검한 곳은 백엔드가 쓰는 데이터베이스가 아닙니다",
        cause=BACKEND_URL_DIFFERS_FROM_DSN,
        steps=(
            "백엔드가 이 데이터베이스를 쓰게 하려면 backend/.env 의 DATABASE_URL을 바꾸세요.",
            "--dsn 없이 실행하면 백엔드가 쓰는 곳을 점검합니다.",
        ),
    ),
}
PROBLEMS: dict[str, Problem] = dict(BACKEND_SETTINGS_PROBLEMS)

# The database the wizard prepared against the one the backend will use (flow/agree.py).
AGREE_TARGET = "{host}:{port}/{dbname} (사용자 {user})"
AGREE_LAST_LINE = (
    "백엔드가 쓸 데이터베이스가 준비한 곳과 다릅니다(다른 값: {fields}). 백엔드: {backend} · 준비한 곳: {prepared}."
)
AGREE_FIX_FILE = (
    "해결: python -m setup_wizard 를 다시 실행해 값을 저장하거나, {path} 파일의 DATABASE_URL 값을 {url} 형태로 "
    "바꾸세요(*** 자리에 비밀번호)."
)
AGREE_FIX_ENVIRON = (
    "해결: 백엔드를 실행하는 터미널에서 환경 변수 {key} 값을 {url} 형태로 바꾸거나(*** 자리에 비밀번호), "
    "필요 없다면 지우세요."
)
_ELSEWHERE_CAUSE = (
    "백엔드가 쓰는 값({source}): {backend}\n마법사가 준비한 데이터베이스: {prepared}\n다른 값: {fields}"
)
PROBLEMS.update({
    "backend_elsewhere": Problem(
        title="백엔드는 마법사가 준비한 데이터베이스에 접속하지 않습니다",
        cause=_ELSEWHERE_CAUSE,
        steps=(
            "python -m setup_wizard 를 다시 실행해 같은 값을 입력하고, 저장할지 묻는 질문에 '예'라고 답하세요.",
            "직접 고치려면 {path} 파일의 DATABASE_URL 값을 다음으로 바꾸세요(*** 자리에 비밀번호): {url}",
        ),
    ),
    "backend_elsewhere_environ": Problem(
        title="백엔드는 마법사가 준비한 데이터베이스에 접속하지 않습니다",
        cause=_ELSEWHERE_CAUSE,
        steps=(
            "백엔드는 환경 변수 {key} 값을 .env 파일보다 먼저 읽습니다. 백엔드를 실행하는 터미널에서 그 값을 "
            "다음으로 바꾸세요(*** 자리에 비밀번호): {url}",
            "windows: 변수가 필요 없다면 지우세요: Remove-Item Env:{key}",
            "linux: 변수가 필요 없다면 지우세요: unset {key}",
            "darwin: 변수가 필요 없다면 지우세요: unset {key}",
        ),
    ),
})
