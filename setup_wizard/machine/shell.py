"""Which shell the person typed our command into, and how a command is written for it.

A fix shows a command to copy. On Windows the same line does not work everywhere: PowerShell needs
`& "C:\\...\\psql.exe"` to run a quoted path, cmd takes `"C:\\...\\psql.exe"` and rejects `&`, Git Bash
wants `/c/...` and `winpty` in front of an interactive console program such as psql.

The shell is read from the environment only (no process-tree walk), cheapest signal first:
- Git Bash / MSYS2: `MSYSTEM` (MINGW64, UCRT64, MSYS ...) or `TERM_PROGRAM=mintty`;
- PowerShell: `PSModulePath` holds a folder in the person's own profile (`Documents\\WindowsPowerShell`
  or `Documents\\PowerShell`), which PowerShell adds when it starts; the machine-wide value that every
  process inherits (cmd included) names only Program Files and System32 folders;
- cmd: `PSModulePath` is there but names only machine-wide folders;
- no `PSModulePath` at all says nothing (a trimmed environment): PowerShell, the default profile of
  Windows Terminal on Windows 10 and 11, where most newcomers type.
A cmd started from inside PowerShell inherits PowerShell's value and is taken for PowerShell; the
command shown then fails with a clear cmd error rather than doing something else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum

from setup_wizard.machine.system import Platform


class Shell(str, Enum):
    CMD = "cmd"
    POWERSHELL = "powershell"
    GIT_BASH = "git-bash"
    POSIX = "posix"


def env_get(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """A variable by name, ignoring case (Windows keeps `os.environ` keys upper-case: PROGRAMFILES)."""
    if name in environ:
        return environ[name]
    wanted = name.upper()
    for key, value in environ.items():
        if key.upper() == wanted:
            return value
    return default


def is_git_bash(environ: Mapping[str, str]) -> bool:
    """Git for Windows' bash in mintty (or another MSYS2 shell)."""
    return bool(env_get(environ, "MSYSTEM")) or (env_get(environ, "TERM_PROGRAM") or "").lower() == "mintty"


def _powershell_started(environ: Mapping[str, str]) -> bool:
    module_path = env_get(environ, "PSModulePath") or ""
    profile = (env_get(environ, "USERPROFILE") or "").rstrip("\\").lower()
    for entry in module_path.split(";"):
        lowered = entry.lower()
        if re.search(r"\\documents\\(windows)?powershell\\modules", lowered):
            return True
        if profile and lowered.startswith(profile + "\\"):
            return True
    return False


def detect_shell(platform: Platform, environ: Mapping[str, str]) -> Shell:
    if not platform.is_windows:
        return Shell.POSIX
    if is_git_bash(environ):
        return Shell.GIT_BASH
    if _powershell_started(environ) or env_get(environ, "PSModulePath") is None:
        return Shell.POWERSHELL
    return Shell.CMD


def _posix_quote(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _windows_quote(text: str) -> str:
    return f'"{text}"' if re.search(r'[\s&()^|<>"]', text) or not text else text


def git_bash_path(windows_path: str) -> str:
    """C:\\Program Files\\x -> /c/Program Files/x (what Git Bash understands without quoting tricks)."""
    match = re.match(r"^([A-Za-z]):[\\/]?(.*)$", windows_path)
    if not match:
        return windows_path.replace("\\", "/")
    rest = match.group(2).replace("\\", "/")
    return f"/{match.group(1).lower()}/{rest}"


def command_line(shell: Shell, program: str, args: Sequence[str], interactive: bool = False) -> str:
    """`program args...` written so that pasting it into `shell` runs it.

    `interactive`: the program reads the keyboard (psql): Git Bash then needs `winpty` in front.
    """
    if shell is Shell.POWERSHELL:
        return " ".join([f'& "{program}"', *(_powershell_arg(a) for a in args)])
    if shell is Shell.CMD:
        return " ".join([f'"{program}"', *(_windows_quote(a) for a in args)])
    if shell is Shell.GIT_BASH:
        line = " ".join([_posix_quote(git_bash_path(program)), *(_posix_quote(a) for a in args)])
        return ("winpty " + line) if interactive else line
    return " ".join([_posix_quote(program), *(_posix_quote(a) for a in args)])


def _powershell_arg(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:=\\-]+", text):
        return text
    return "'" + text.replace("'", "''") + "'"
