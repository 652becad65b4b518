"""The thin seam between the wizard and the operating system.

Everything the diagnosis asks the machine (which programs exist, the Windows registry in its 64-bit
view, the state of a Windows service, running a command, raising a UAC prompt, changing the user's
PATH) goes through a `System`. `RealSystem` asks the real machine (winreg and ctypes are imported
lazily, only on Windows); tests use a recorded machine (tests/recorded_system.py), so the
Windows logic runs in tests on any OS.

Windows tools answer in the console's code page (CP949 on Korean Windows): commands return bytes
and the parsers here read only language-independent parts (numeric codes, constant names).
"""

from __future__ import annotations

import glob as globlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

# HKLM keys written by the EDB installer (also used by winget and Chocolatey).
PG_INSTALLATIONS_KEY = r"SOFTWARE\PostgreSQL\Installations"
PG_SERVICES_KEY = r"SOFTWARE\PostgreSQL\Services"

ERROR_ACCESS_DENIED = 5
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_CANCELLED = 1223  # the person answered "no" to the UAC prompt

RegistryValue = str | int


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
_SC_STATE_LINE = re.compile(
    rb":\s*([1-7])\s+(STOPPED|START_PENDING|STOP_PENDING|RUNNING|CONTINUE_PENDING|PAUSE_PENDING|PAUSED)\b"
)


def parse_sc_query(returncode: int, output: bytes) -> ServiceState:
    """The state from `sc query NAME`, without reading any translated word."""
    if returncode == ERROR_SERVICE_DOES_NOT_EXIST:
        return ServiceState.ABSENT
    match = _SC_STATE_LINE.search(output)
    if match:
        return _SC_STATES[int(match.group(1))]
    if re.search(rb"\b1060\b", output):
        return ServiceState.ABSENT
    return ServiceState.UNKNOWN


def decode_console(raw: bytes) -> str:
    """Text from a Windows tool or a server: UTF-8 if it is valid, else CP949 (Korean Windows)."""
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""
    error: str | None = None  # the program could not be started, or timed out

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0

    @property
    def text(self) -> str:
        return decode_console(self.stdout + self.stderr).strip()


@dataclass(frozen=True)
class Elevation:
    """What came of ShellExecuteEx with the `runas` verb."""

    error: int  # 0: the program ran; 1223: the person declined the UAC prompt; else a Windows error
    exit_code: int | None = None

    @property
    def declined(self) -> bool:
        return self.error == ERROR_CANCELLED

    @property
    def ok(self) -> bool:
        return self.error == 0 and self.exit_code == 0


class System(Protocol):
    """The operating-system calls the diagnosis needs. Paths are the machine's own (Windows or POSIX)."""

    platform: str  # "windows", "linux" or "darwin"
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
            env: Mapping[str, str] | None = None) -> CommandResult: ...

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation: ...

    def user_path(self) -> str: ...

    def set_user_path(self, value: str) -> None: ...


def _platform_name() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def join_path(platform: str, *parts: str | Path) -> Path:
    """Join in the given platform's flavour; a Windows path keeps its backslashes on any OS."""
    if platform == "windows":
        return Path(str(PureWindowsPath(*[str(p) for p in parts])))
    return Path(str(PurePosixPath(*[str(p) for p in parts])))


def _quote_windows_args(args: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(args))


class RealSystem:
    """The machine the wizard runs on."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        self.platform = _platform_name()
        self.environ: MutableMapping[str, str] = os.environ if environ is None else environ

    def path(self, *parts: str | Path) -> Path:
        return Path(*parts)

    def which(self, name: str) -> Path | None:
        found = shutil.which(name, path=self.environ.get("PATH", os.defpath))
        return Path(found) if found else None

    def exists(self, path: Path) -> bool:
        return path.exists()

    def glob(self, pattern: str) -> list[Path]:
        return sorted(Path(p) for p in globlib.glob(pattern))

    def is_root(self) -> bool:
        geteuid = getattr(os, "geteuid", None)
        return bool(geteuid is not None and geteuid() == 0)

    # --- Windows registry (HKLM, 64-bit view) --------------------------------------------------
    def registry_subkeys(self, key: str) -> list[str]:
        if self.platform != "windows":
            return []
        import winreg  # type: ignore[import-not-found,unused-ignore]

        names: list[str] = []
        try:
            handle = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0,  # type: ignore[attr-defined,unused-ignore]
                                    winreg.KEY_READ | winreg.KEY_WOW64_64KEY)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return []
        with handle:
            index = 0
            while True:
                try:
                    names.append(winreg.EnumKey(handle, index))  # type: ignore[attr-defined,unused-ignore]
                except OSError:
                    return names
                index += 1

    def registry_values(self, key: str) -> dict[str, RegistryValue]:
        if self.platform != "windows":
            return {}
        import winreg

        values: dict[str, RegistryValue] = {}
        try:
            handle = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0,  # type: ignore[attr-defined,unused-ignore]
                                    winreg.KEY_READ | winreg.KEY_WOW64_64KEY)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return {}
        with handle:
            index = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(handle, index)  # type: ignore[attr-defined,unused-ignore]
                except OSError:
                    return values
                if isinstance(data, (str, int)):
                    values[str(name)] = data
                index += 1

    # --- services and commands -----------------------------------------------------------------
    def service_state(self, name: str) -> ServiceState:
        if self.platform != "windows":
            return ServiceState.ABSENT
        result = self.run(["sc", "query", name], timeout=15)
        if result.error is not None:
            return ServiceState.UNKNOWN
        return parse_sc_query(result.returncode, result.stdout)

    def run(self, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None) -> CommandResult:
        kwargs: dict[str, object] = {}
        if user is not None and self.platform != "windows":
            kwargs["user"] = user
        try:
            proc = subprocess.run(
                list(argv), capture_output=True, timeout=timeout, check=False,
                stdin=subprocess.DEVNULL, env=dict(env) if env is not None else dict(self.environ),
                **kwargs,  # type: ignore[call-overload]
            )
        except subprocess.TimeoutExpired:
            return CommandResult(-1, error="timeout")
        except OSError as exc:
            return CommandResult(-1, error=f"{type(exc).__name__}: {exc.strerror or exc}")
        return CommandResult(int(proc.returncode), bytes(proc.stdout), bytes(proc.stderr))

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation:
        """ShellExecuteExW with the `runas` verb: Windows asks the person (UAC) first."""
        if self.platform != "windows":
            return Elevation(error=ERROR_ACCESS_DENIED)
        import ctypes
        from ctypes import wintypes

        class SHELLEXECUTEINFOW(ctypes.Structure):
            _fields_ = [
                ("cbSize", wintypes.DWORD), ("fMask", ctypes.c_ulong), ("hwnd", wintypes.HWND),
                ("lpVerb", wintypes.LPCWSTR), ("lpFile", wintypes.LPCWSTR),
                ("lpParameters", wintypes.LPCWSTR), ("lpDirectory", wintypes.LPCWSTR),
                ("nShow", ctypes.c_int), ("hInstApp", wintypes.HINSTANCE), ("lpIDList", ctypes.c_void_p),
                ("lpClass", wintypes.LPCWSTR), ("hkeyClass", wintypes.HKEY), ("dwHotKey", wintypes.DWORD),
                ("hIconOrMonitor", wintypes.HANDLE), ("hProcess", wintypes.HANDLE),
            ]

        see_mask_nocloseprocess = 0x40
        sw_hide = 0
        info = SHELLEXECUTEINFOW()
        info.cbSize = ctypes.sizeof(info)
        info.fMask = see_mask_nocloseprocess
        info.lpVerb = "runas"
        info.lpFile = program
        info.lpParameters = _quote_windows_args(args)
        info.nShow = sw_hide
        windll = ctypes.windll  # type: ignore[attr-defined,unused-ignore]
        if not windll.shell32.ShellExecuteExW(ctypes.byref(info)):
            return Elevation(error=int(windll.kernel32.GetLastError()))
        if not info.hProcess:
            return Elevation(error=0, exit_code=None)
        try:
            windll.kernel32.WaitForSingleObject(info.hProcess, int(timeout * 1000))
            code = wintypes.DWORD()
            windll.kernel32.GetExitCodeProcess(info.hProcess, ctypes.byref(code))
            return Elevation(error=0, exit_code=int(code.value))
        finally:
            windll.kernel32.CloseHandle(info.hProcess)

    # --- the user's PATH (HKCU\Environment) ----------------------------------------------------
    def user_path(self) -> str:
        if self.platform != "windows":
            return ""
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "Environment") as key:  # type: ignore[attr-defined,unused-ignore]
                value, _kind = winreg.QueryValueEx(key, "Path")  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return ""
        return str(value)

    def set_user_path(self, value: str) -> None:
        """Write the user's PATH and tell running programs (Explorer, new shells) it changed."""
        if self.platform != "windows":
            raise OSError("the user PATH in the registry exists only on Windows")
        import ctypes
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "Environment", 0,  # type: ignore[attr-defined,unused-ignore]
                            winreg.KEY_SET_VALUE) as key:  # type: ignore[attr-defined,unused-ignore]
            winreg.SetValueEx(key, "Path", 0, winreg.REG_EXPAND_SZ, value)  # type: ignore[attr-defined,unused-ignore]
        hwnd_broadcast = 0xFFFF
        wm_settingchange = 0x001A
        smto_abortifhung = 0x0002
        result = ctypes.c_ulong()
        ctypes.windll.user32.SendMessageTimeoutW(  # type: ignore[attr-defined,unused-ignore]
            hwnd_broadcast, wm_settingchange, 0, "Environment", smto_abortifhung, 5000, ctypes.byref(result)
        )
