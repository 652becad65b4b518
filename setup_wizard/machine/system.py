"""The thin seam between the wizard and the operating system: the `System` interface and its answers.

Everything the diagnosis asks the machine (which programs exist, the Windows registry in its 64-bit
view, the state of a Windows service, running a command, raising a UAC prompt, changing the user's
PATH) goes through a `System`. `RealSystem` (machine/real_system.py) asks the real machine, with its
Windows calls in machine/win32.py; tests use a recorded machine (tests/support/recorded_system.py), so the
Windows logic runs in tests on any OS. Both read `sc query` with the same parser, here.

Which operating system a machine runs is a `Platform`, the one vocabulary of the System, the
Environment and the catalogue's platform-tagged steps; `running_platform()` is the only reader of the
interpreter's `sys.platform` (tests/machine/test_platform_vocabulary.py keeps it so).

Windows tools answer in the console's code page (CP949 on Korean Windows): commands return bytes
and the parsers here read only language-independent parts (numeric codes, constant names).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from setup_wizard.record import record

# HKLM keys written by the EDB installer (also used by winget and Chocolatey).
PG_INSTALLATIONS_KEY = r"SOFTWARE\PostgreSQL\Installations"
PG_SERVICES_KEY = r"SOFTWARE\PostgreSQL\Services"

ERROR_ACCESS_DENIED = 5
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_CANCELLED = 1223  # the person answered "no" to the UAC prompt

RegistryValue = str | int


class Platform(Enum):
    """The operating system of a machine. The value is the catalogue's step tag ("windows: ...")."""

    WINDOWS = "windows"
    LINUX = "linux"  # and any other POSIX system but macOS
    MACOS = "darwin"

    @property
    def is_windows(self) -> bool:
        return self is Platform.WINDOWS

    def executable(self, name: str) -> str:
        """A program's file name: `psql.exe` on Windows, `psql` elsewhere."""
        return name + ".exe" if self.is_windows else name


def running_platform() -> Platform:
    """The operating system this process runs on: the one place that reads `sys.platform`."""
    if sys.platform == "win32":
        return Platform.WINDOWS
    if sys.platform == "darwin":
        return Platform.MACOS
    return Platform.LINUX


class ServiceState(str, Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    STARTING = "starting"
    STOPPING = "stopping"
    PAUSED = "paused"
    ABSENT = "absent"
    UNKNOWN = "unknown"


# `sc query` prints e.g. "STATE : 4  RUNNING" (the label may be translated, the number and the
# constant name are not). The numbers are SERVICE_STOPPED=1 ... SERVICE_PAUSED=7.
_SC_STATES = {
    1: ServiceState.STOPPED,
    2: ServiceState.STARTING,
    3: ServiceState.STOPPING,
    4: ServiceState.RUNNING,
    5: ServiceState.STARTING,  # continue pending
    6: ServiceState.STOPPING,  # pause pending
    7: ServiceState.PAUSED,
}
# A pattern, compiled by `re` on first use (its cache): most runs never use it (issue 20, "Speed").
_SC_STATE_LINE = rb":\s*([1-7])\s+(STOPPED|START_PENDING|STOP_PENDING|RUNNING|CONTINUE_PENDING|PAUSE_PENDING|PAUSED)\b"


def parse_sc_query(returncode: int, output: bytes) -> ServiceState:
    """The state from `sc query NAME`, without reading any translated word."""
    if returncode == ERROR_SERVICE_DOES_NOT_EXIST:
        return ServiceState.ABSENT
    match = re.search(_SC_STATE_LINE, output)
    if match:
        return _SC_STATES[int(match.group(1))]
    if re.search(rb"\b1060\b", output):
        return ServiceState.ABSENT
    return ServiceState.UNKNOWN


def decode_console(raw: bytes, encoding: str = "utf-8") -> str:
    """Bytes from a tool, in the encoding it wrote them in; a stray byte never fails the wizard."""
    try:
        return raw.decode(encoding, errors="replace")
    except LookupError:  # an unknown code page
        return raw.decode("utf-8", errors="replace")


@record
class CommandResult:
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""
    error: str | None = None  # the program could not be started, or timed out
    encoding: str = "utf-8"  # what the program wrote in: RealSystem sets the console's code page

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0

    @property
    def text(self) -> str:
        return decode_console(self.stdout + self.stderr, self.encoding).strip()


@record
class Elevation:
    """What came of ShellExecuteEx with the `runas` verb."""

    error: int  # 0: the program ran; 1223: the person declined the UAC prompt; else a Windows error
    exit_code: int | None = None
    # Seconds ShellExecuteEx took: it returns only once the UAC prompt is answered, so this is the
    # person's time, which must not count against a start-up timeout.
    prompt_seconds: float = 0.0

    @property
    def declined(self) -> bool:
        return self.error == ERROR_CANCELLED

    @property
    def ok(self) -> bool:
        return self.error == 0 and self.exit_code == 0


class System(Protocol):
    """The operating-system calls the diagnosis needs. Paths are the machine's own (Windows or POSIX)."""

    platform: Platform
    environ: MutableMapping[str, str]

    def path(self, *parts: str | Path) -> Path: ...

    def which(self, name: str) -> Path | None: ...

    def exists(self, path: Path) -> bool: ...

    def glob(self, pattern: str) -> list[Path]: ...

    def is_root(self) -> bool: ...

    def registry_subkeys(self, key: str) -> list[str]: ...

    def registry_values(self, key: str) -> dict[str, RegistryValue]: ...

    def service_state(self, name: str) -> ServiceState: ...

    def run(self, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None, output: Path | None = None) -> CommandResult: ...

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation: ...

    def user_path(self) -> str:
        """The user's PATH as stored (REG_EXPAND_SZ left unexpanded); "" when there is none.
        Raises OSError when it cannot be read: a failed read must never be written back as empty."""
        ...

    def set_user_path(self, value: str) -> None: ...


def join_path(platform: Platform, *parts: str | Path) -> Path:
    """Join in the given platform's flavour; a Windows path keeps its backslashes on any OS."""
    if platform.is_windows:
        return Path(str(PureWindowsPath(*[str(p) for p in parts])))
    return Path(str(PurePosixPath(*[str(p) for p in parts])))
