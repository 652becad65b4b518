"""Windows terminals and shells: Git Bash (mintty).

Section 16 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section). PROBLEMS: this topic's known failures (code -> Problem); setup_wizard/problems.py assembles every
section's into the catalogue.
"""

from __future__ import annotations

from setup_wizard.messages.catalogue import Problem

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

PROBLEMS: dict[str, Problem] = {
    "password_needs_console": Problem(
        title="이 창에서는 비밀번호를 가릴 수 없습니다", cause=PASSWORD_NOT_HIDDEN_GIT_BASH, hint=FIX_PASSWORD_GIT_BASH,
    ),
}
