"""Command line: help, usage errors, interruptions.

Section 2 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.exitcodes import ExitCode
from setup_wizard.messages.catalogue import Problem

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

PROBLEMS: dict[str, Problem] = {
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
}
