""".env files: reading, saving, keeping the password private.

Section 4 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.exitcodes import ExitCode
from setup_wizard.messages.catalogue import Problem

# Reading: a file the wizard cannot or will not read.
ENV_FILE_NOT_FOUND = ".env 파일이 없습니다: {path}"
ENV_FILE_IS_DIR = ".env 경로가 파일이 아니라 폴더입니다: {path}"
FIX_ENV_FILE_IS_DIR = (
    "백엔드는 이 자리의 파일에서 접속 정보를 읽습니다. 폴더 안을 확인하세요. 가상 환경처럼 필요한 폴더라면 "
    "다른 이름(예: .venv)으로 옮기고, 빈 폴더라면 지우세요. 그다음 그 자리에 다음 한 줄로 .env 파일을 만드세요:\n"
    "DATABASE_URL=postgresql+psycopg://postgres:비밀번호@localhost:5432/real_estate"
)
ENV_FILE_LOOP = ".env 경로가 자기 자신을 거쳐 끝없이 이어지는 심볼릭 링크(링크 고리)라서 읽을 수 없습니다: {path}"
FIX_ENV_FILE_LOOP = (
    "다음 명령으로 링크가 가리키는 곳을 확인하세요: ls -l {path}\n"
    "링크를 지우고 그 자리에 진짜 .env 파일을 만들거나, 실제 파일을 가리키도록 링크를 다시 만드세요."
)
ENV_FILE_BROKEN_LINK = ".env 경로는 심볼릭 링크인데, 링크가 가리키는 파일이 없습니다: {path} → {target}"
FIX_ENV_FILE_BROKEN_LINK = (
    "링크가 가리키는 파일을 되살리거나, 링크를 지우고 그 자리에 .env 파일을 만드세요. "
    "다른 파일을 쓰려면 --env-file 로 지정하세요."
)
ENV_FILE_NO_PERMISSION = "이 사용자에게 .env 파일을 읽을 권한이 없습니다: {path}"
FIX_ENV_FILE_NO_PERMISSION = (
    "다음 명령으로 파일의 주인과 권한을 확인하세요: ls -l {path}\n"
    "내 파일이라면 chmod u+r 로 읽기 권한을 주고, 다른 사용자의 파일이라면 그 사용자로 실행하거나 "
    "sudo chown 으로 주인을 나로 바꾸세요. Windows 에서는 파일 속성 → 보안 탭에서 내 계정에 읽기 권한을 주세요."
)
ENV_FILE_UNREADABLE = ".env 파일을 읽을 수 없습니다: {path} ({error})"
ENV_FILE_UNDECODABLE = ".env 파일의 인코딩을 알 수 없습니다: {path}"
FIX_ENV_FILE_PATH = "--env-file 로 올바른 파일을 지정하거나, 프로젝트 폴더(backend 폴더가 있는 곳)에서 실행하세요."
FIX_ENV_FILE_PERMISSION = "파일 권한을 확인하세요. 다른 프로그램이 파일을 잠그고 있다면 닫고 다시 실행하세요."
FIX_ENV_FILE_ENCODING = "메모장에서 파일을 열어 '다른 이름으로 저장' → 인코딩 'UTF-8'로 저장한 뒤 다시 실행하세요."
ENV_FILE_KINDS = {
    "fifo": "이름 있는 파이프(FIFO)",
    "char": "문자 장치",
    "block": "블록 장치",
    "socket": "소켓",
    "other": "특수 파일",
}
ENV_FILE_NOT_REGULAR = ".env 경로가 일반 텍스트 파일이 아니라 {kind}입니다: {path}"
FIX_ENV_FILE_NOT_REGULAR = "--env-file 에 텍스트 파일(.env)을 지정하세요. 파이프나 장치 파일은 읽지 않습니다."
ENV_FILE_TOO_LARGE = ".env 파일이 너무 큽니다: {path} (크기 {size}바이트, 최대 {limit}바이트)"
FIX_ENV_FILE_TOO_LARGE = (
    ".env 파일은 보통 몇 KB입니다. 경로가 올바른 파일을 가리키는지 확인하고, 아니라면 --env-file 로 "
    "backend/.env 를 지정하세요."
)

PROBLEMS: dict[str, Problem] = {
    "env_file_invalid": Problem(
        title=".env 파일을 읽을 수 없습니다",
        cause=".env 경로가 읽을 수 있는 일반 텍스트 파일이 아니라서 아무것도 바꾸지 않았습니다.",
        hint=FIX_ENV_FILE_PATH,
        exit_code=ExitCode.USAGE,
    ),
}

# What was read (the settings item).
ENV_FILE_TITLE = ".env 파일"
ENV_FILE_READ = "읽은 파일: {path} (인코딩 {encoding})"
# The encoding names decode_env_bytes returns, as a person reads them.
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8, BOM 포함",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp949": "CP949, 한국어 Windows",
}
ENV_FILE_BAD_LINES = "{path} 의 {lines}번째 줄은 해석할 수 없어 무시했습니다."
FIX_ENV_FILE_BAD_LINES = "해당 줄이 KEY=값 형식인지 확인하세요. 값에 공백이나 #가 있으면 따옴표로 감싸세요."
ENV_FILE_NONE = ".env 파일이 없어 환경 변수와 기본값을 사용합니다."
FIX_ENV_FILE_NONE = (
    "백엔드는 backend/.env 에서 접속 정보를 읽습니다. 다음 한 줄로 파일을 만드세요:\n"
    "DATABASE_URL=postgresql+psycopg://postgres:비밀번호@localhost:5432/real_estate"
)
ENV_FILE_CREATED = "{path} 파일이 없어 로그인에 성공한 값으로 새로 만들었습니다."
ENV_FILE_SKIPPED = "--dsn 으로 접속 정보를 받았습니다."
ENV_FILE_SKIPPED_ENVIRON = "환경 변수로 접속 정보를 받았습니다."
ENV_CHECK_SKIPPED = ".env 파일이 없어 건너뛰었습니다."

# Saving typed values (the wizard's save screen is under the interactive screens).
STEP_ENV_SAVE = ".env 저장"
ASK_SAVE = "이 값을 .env 파일에 저장할까요?"
SAVE_DONE = "{path} 에 저장했습니다."
SAVE_BACKUP = "이전 파일을 보관한 곳:\n{backup}"
BACKUP_KEPT = (
    "이전 .env 파일은 git 이 보지 않는 사용자 데이터 폴더에 나만 읽을 수 있게(권한 600) 보관했습니다:\n{path}"
)
ENV_BACKUP_FAILED = (
    "저장하기 전에 이전 파일을 백업할 폴더를 만들거나 쓸 수 없어 저장하지 않았습니다 ({error}). "
    "파일은 그대로입니다: {path}\n백업 폴더: {folder}"
)
FIX_ENV_BACKUP_FAILED = (
    "백업 폴더의 권한과 디스크 공간을 확인하세요. 다른 곳에 두려면 XDG_DATA_HOME 환경 변수(Windows: "
    "LOCALAPPDATA)로 쓸 수 있는 폴더를 지정한 뒤 다시 실행하세요."
)
SAVE_SKIPPED = "저장하지 않았습니다. 다음에 실행할 때 다시 묻습니다."
SAVE_WOULD_WRITE = "{path} 파일에 쓰지 않은 내용: {what}"
SAVE_NOT_PROVEN = "로그인에 성공하지 못해 {path} 파일에는 아무것도 쓰지 않았습니다(로그인이 되었다면 쓸 내용: {what})."
FIX_SAVE_NOT_PROVEN = (
    "위 문제를 해결한 뒤 python -m setup_wizard 를 다시 실행하면 이 값으로 먼저 접속해 보고, 로그인에 성공하면 "
    "저장할지 묻습니다(--yes 는 묻지 않고 저장합니다)."
)
ENV_PLAN_PENDING = (
    "{path} 파일에 고칠 점이 있습니다: {problems}. 고친 뒤의 값으로 먼저 접속해 보고, 로그인에 성공하면 "
    "무엇을 왜 고치는지 보여 드린 뒤 한 번에 저장할지 묻습니다."
)
ENV_CREATE_PENDING = (
    "백엔드는 {path} 파일의 DATABASE_URL로만 접속합니다. 이 값으로 먼저 접속해 보고, 로그인에 성공하면 "
    "이 파일을 DATABASE_URL 한 줄로 만들지 묻습니다."
)
ENV_FIX_CREATE = "백엔드는 backend/.env 의 DATABASE_URL로만 접속합니다. 다른 파일은 건드리지 않습니다."
SAVE_NO_BACKEND = "이 폴더({cwd})와 그 위 폴더에서 backend 폴더를 찾지 못해 .env 파일을 만들지 않았습니다."
FIX_SAVE_NO_BACKEND = "프로젝트 폴더(backend 폴더가 있는 곳)로 이동해 python -m setup_wizard 를 다시 실행하세요."
ENV_SAVE_UNREADABLE = "파일을 다시 읽을 수 없어 저장하지 않았습니다: {path}"
ENV_SAVE_VERIFY_FAILED = "{path} 에 안전하게 쓸 수 없는 형식이 있어 저장하지 않았습니다. 파일은 그대로입니다."
ENV_SAVE_ENCODING = "입력한 값을 {path} 의 인코딩({encoding})으로 쓸 수 없어 저장하지 않았습니다."
ENV_SAVE_FAILED = "{path} 에 저장하지 못했습니다 ({error}). 파일은 그대로입니다."
FIX_ENV_SAVE = (
    "편집기에서 .env 파일을 열어 값을 직접 고치세요. 다른 프로그램이 파일을 열고 있다면 닫고 다시 실행하세요."
)
ENV_SAVE_CHANGED = (
    "마법사가 읽은 뒤에 다른 프로그램이 파일을 고쳤고, 저장하려던 키({keys})의 값도 바뀌었습니다. "
    "그 수정을 지우지 않도록 저장하지 않았습니다: {path}"
)
FIX_ENV_SAVE_CHANGED = "파일을 열어 바뀐 내용을 확인한 뒤 python -m setup_wizard 를 다시 실행하세요."
ENV_SAVE_BROKEN_LINK = "가리키는 대상이 없는 심볼릭 링크라서 저장하지 않았습니다: {path} → {target}"
FIX_ENV_SAVE_BROKEN_LINK = "링크가 가리킬 파일을 먼저 만들거나, 링크를 지우고 다시 실행하세요."
ENV_SAVE_MERGED = "마법사가 읽은 뒤에 다른 프로그램이 고친 내용은 그대로 두고 저장했습니다."
ENV_SAVE_OVERRIDDEN = (
    "다만 환경 변수 {names} 값이 .env 보다 우선하므로, 백엔드는 방금 저장한 값이 아니라 환경 변수의 값을 씁니다."
)
FIX_ENV_SAVE_OVERRIDDEN = (
    "저장한 값을 쓰게 하려면 백엔드를 실행하는 터미널에서 환경 변수 {names} 설정을 지우세요 "
    "(bash: unset DATABASE_URL, PowerShell: Remove-Item Env:DATABASE_URL). 시스템 환경 변수라면 "
    "설정 → 시스템 → 정보 → 고급 시스템 설정 → 환경 변수에서 지우고 터미널을 다시 여세요."
)

# Who can read it: file permissions, and git.
ENV_READABLE_AFTER_SAVE = "비밀번호를 저장한 파일을 이 컴퓨터의 다른 사용자도 읽을 수 있습니다 (권한 {mode}): {path}"
ASK_RESTRICT_ENV = "다른 사용자의 권한을 없애 나만 읽을 수 있게(권한 {mode}) 바꿀까요?"
ENV_RESTRICTED = "다른 사용자의 권한을 없앴습니다. 이제 나만 읽을 수 있습니다 (권한 {mode}): {path}"
STEP_ENV_PERMISSIONS = ".env 파일: 권한"
ENV_PERMISSIONS_WINDOWS = (
    "Windows 에서는 파일 권한을 확인하지 않습니다 (사용자 폴더의 파일은 다른 사용자가 읽을 수 "
    "없습니다)."
)
ENV_READABLE_BY_OTHERS = "다른 사용자도 읽을 수 있습니다 (권한 {mode})."
FIX_ENV_READABLE = "chmod {mode} {path}"
ENV_PRIVATE = "나만 읽을 수 있습니다 (권한 {mode})."

STEP_ENV_GITIGNORE = ".env 파일: git 제외"
GIT_NOT_FOUND = "git 이 설치되어 있지 않아 건너뛰었습니다."
ENV_NOT_IN_REPO = ".env 파일이 git 저장소 안에 있지 않습니다."
ENV_IGNORED = ".env 파일은 .gitignore 로 git 에서 제외되어 있습니다."
ENV_NOT_IGNORED = ".gitignore 에 이 파일이 없어, 커밋하면 비밀번호가 저장소에 올라갑니다: {path}"
FIX_ENV_NOT_IGNORED = "저장소의 .gitignore 에 {name} 줄을 추가하세요."
ENV_TRACKED = "이 파일은 이미 git 에 커밋되어 있어 비밀번호가 저장소 기록에 남습니다: {path}"
FIX_ENV_TRACKED = (
    "git rm --cached {name} 명령으로 추적을 멈추고, .gitignore 파일에 {name} 한 줄을 추가하세요.\n"
    "이미 올라간 비밀번호는 바꾸는 것이 안전합니다 (PostgreSQL: ALTER USER postgres PASSWORD '새 비밀번호';)."
)

# Other files in the backend folder that hold the same secrets (check's env_copies item).
STEP_ENV_COPIES = "비밀값이 든 다른 파일"
ENV_COPIES_NO_FOLDER = "백엔드 폴더를 찾지 못해 건너뛰었습니다."
ENV_COPIES_NONE = "백엔드 폴더에 .env 말고 비밀값이 든 파일이 없습니다: {folder}"
ENV_COPIES_SAFE = "비밀값이 든 다른 파일이 있지만 git 에서 제외되어 있고 나만 읽을 수 있습니다: {names}"
ENV_COPIES_FOUND = "백엔드 폴더에 .env 의 비밀값(비밀번호, SECRET_KEY 등)이 든 다른 파일이 있습니다."
ENV_COPY_TRACKED = "{name}: git 에 커밋되어 있어 비밀값이 저장소 기록에 남습니다."
ENV_COPY_NOT_IGNORED = "{name}: .gitignore 에 해당하지 않아 git status 에 보이고, git add . 로 커밋됩니다."
ENV_COPY_READABLE = "{name}: 이 컴퓨터의 다른 사용자도 읽을 수 있습니다 (권한 {mode})."
FIX_ENV_COPY_TRACKED = (
    "다음 명령으로 git 의 추적을 멈추세요: git -C {folder} rm --cached -- {name}\n"
    "이미 올라간 비밀번호와 키는 바꾸는 것이 안전합니다."
)
FIX_ENV_COPY_MOVE = "필요 없는 사본이면 지우고(rm {path}), 남겨야 하면 저장소 밖으로 옮기세요(mv {path} ~/)."
ENV_COPIES_BACKUPS_NOTE = "이 마법사는 이제 .env 백업을 git 이 보지 않는 사용자 데이터 폴더에 둡니다."
FIX_ENV_COPY_READABLE = "chmod {mode} {path}"

# The .env items' known problems: the situation's own text and advice come with the call, as above.
PROBLEMS.update({
    "env_file_missing": Problem(title=".env 파일이 없습니다", cause=ENV_FILE_NONE, hint=FIX_ENV_FILE_NONE),
    "env_overridden": Problem(
        title="환경 변수가 저장한 .env 값보다 우선합니다", cause=ENV_SAVE_OVERRIDDEN, hint=FIX_ENV_SAVE_OVERRIDDEN,
    ),
    "env_save_failed": Problem(
        title=".env 파일에 저장하지 못했습니다", cause=ENV_SAVE_FAILED, hint=FIX_ENV_SAVE,
    ),
    "env_save_conflict": Problem(
        title="다른 프로그램이 .env 파일의 같은 값을 고쳤습니다", cause=ENV_SAVE_CHANGED, hint=FIX_ENV_SAVE_CHANGED,
    ),
    "env_file_readable": Problem(
        title=".env 파일을 다른 사용자도 읽을 수 있습니다", cause=ENV_READABLE_BY_OTHERS, hint=FIX_ENV_READABLE,
    ),
    "env_file_not_ignored": Problem(
        title=".env 파일이 git 에서 제외되어 있지 않습니다", cause=ENV_NOT_IGNORED, hint=FIX_ENV_NOT_IGNORED,
    ),
    "env_file_tracked": Problem(
        title=".env 파일이 git 에 커밋되어 있습니다", cause=ENV_TRACKED, hint=FIX_ENV_TRACKED,
    ),
    "env_copy_exposed": Problem(
        title="비밀값이 든 다른 파일을 git 이 볼 수 있습니다", cause=ENV_COPIES_FOUND, hint=FIX_ENV_COPY_TRACKED,
    ),
    "env_copy_readable": Problem(
        title="비밀값이 든 다른 파일을 다른 사용자도 읽을 수 있습니다", cause=ENV_COPIES_FOUND,
        hint=FIX_ENV_COPY_READABLE,
    ),
})
