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


def console_encoding() -> str:
    """The code page Windows tools write in when this process runs them (CP949 on Korean Windows).

    A console program writes in the console's output code page when it has a console, else in the
    OEM code page. Elsewhere: the locale's encoding. Never guessed from the bytes.
    """
    if sys.platform == "win32":
        import ctypes

        try:
            code_page = int(ctypes.WinDLL("kernel32").GetConsoleOutputCP())
        except (AttributeError, OSError):
            code_page = 0
        return f"cp{code_page}" if code_page else "oem"
    import locale

    return locale.getpreferredencoding(False) or "utf-8"


def decode_console(raw: bytes, encoding: str = "utf-8") -> str:
    """Bytes from a tool, in the encoding it wrote them in; a stray byte never fails the wizard."""
    try:
        return raw.decode(encoding, errors="replace")
    except LookupError:  # an unknown code page
        return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
            env: Mapping[str, str] | None = None, output: Path | None = None) -> CommandResult: ...

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation: ...

    def user_path(self) -> str:
        """The user's PATH as stored (REG_EXPAND_SZ left unexpanded); "" when there is none.
        Raises OSError when it cannot be read: a failed read must never be written back as empty."""
        ...

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
            env: Mapping[str, str] | None = None, output: Path | None = None) -> CommandResult:
        """Run a program and return what it wrote.

        `output`: send stdout and stderr to this file instead of pipes, and read it back afterwards.
        Needed for `pg_ctl start`: on Windows pg_ctl starts the server with inheritable handles, so a
        server holding our pipes would keep `communicate()` waiting for ever.
        """
        kwargs: dict[str, object] = {}
        if user is not None and self.platform != "windows":
            kwargs["user"] = user
        encoding = console_encoding()
        environment = dict(env) if env is not None else dict(self.environ)
        try:
            if output is not None:
                with output.open("ab") as sink:
                    start = sink.tell()
                    proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                                          timeout=timeout, check=False, env=environment,
                                          **kwargs)  # type: ignore[call-overload]
                with output.open("rb") as written:
                    written.seek(start)
                    return CommandResult(int(proc.returncode), written.read(), b"", encoding=encoding)
            proc = subprocess.run(
                list(argv), capture_output=True, timeout=timeout, check=False,
                stdin=subprocess.DEVNULL, env=environment,
                **kwargs,  # type: ignore[call-overload]
            )
        except subprocess.TimeoutExpired:
            return CommandResult(-1, error="timeout", encoding=encoding)
        except OSError as exc:
            return CommandResult(-1, error=f"{type(exc).__name__}: {exc.strerror or exc}", encoding=encoding)
        return CommandResult(int(proc.returncode), bytes(proc.stdout), bytes(proc.stderr), encoding=encoding)

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation:
        """ShellExecuteExW with the `runas` verb: Windows asks the person (UAC) first.

        ShellExecuteExW returns only once the prompt is answered; `timeout` counts from then.
        """
        if self.platform != "windows":
            return Elevation(error=ERROR_ACCESS_DENIED)
        import ctypes
        import time

        api = _windows_api()
        info = api.SHELLEXECUTEINFOW()
        info.cbSize = ctypes.sizeof(info)
        # FLAG_NO_UI: no Windows error dialog for a missing program; the wizard explains in Korean.
        info.fMask = SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI
        info.lpVerb = "runas"
        info.lpFile = program
        info.lpParameters = _quote_windows_args(args)
        info.nShow = 0  # SW_HIDE
        asked = time.monotonic()
        # The error is read through use_last_error: ctypes saves it right after the call, before
        # anything else (Python itself, Wine, a GC pass) can overwrite the thread's last error.
        if not api.shell32.ShellExecuteExW(ctypes.byref(info)):
            error = api.last_error() or ERROR_ACCESS_DENIED
            return Elevation(error=error, prompt_seconds=time.monotonic() - asked)
        prompt_seconds = time.monotonic() - asked
        if not info.hProcess:
            return Elevation(error=0, exit_code=None, prompt_seconds=prompt_seconds)
        try:
            api.kernel32.WaitForSingleObject(info.hProcess, int(timeout * 1000))
            from ctypes import wintypes

            code = wintypes.DWORD()
            if not api.kernel32.GetExitCodeProcess(info.hProcess, ctypes.byref(code)):
                return Elevation(error=api.last_error(), prompt_seconds=prompt_seconds)
            return Elevation(error=0, exit_code=int(code.value), prompt_seconds=prompt_seconds)
        finally:
            api.kernel32.CloseHandle(info.hProcess)

    # --- the user's PATH (HKCU\Environment) ----------------------------------------------------
    def user_path(self) -> str:
        if self.platform != "windows":
            return ""
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "Environment") as key:  # type: ignore[attr-defined,unused-ignore]
                value, _kind = winreg.QueryValueEx(key, "Path")  # type: ignore[attr-defined,unused-ignore]
        except FileNotFoundError:
            return ""  # no user PATH yet: a new one is created
        # Any other OSError (access denied, ...) propagates: the caller must not write PATH then.
        if not isinstance(value, str):
            raise OSError(f"HKCU\\Environment\\Path is not a string ({type(value).__name__})")
        return value

    def set_user_path(self, value: str) -> None:
        """Write the user's PATH and tell running programs (Explorer, new shells) it changed.

        Kept as REG_EXPAND_SZ (or REG_SZ when it was one with no %VARIABLE% in it), written unexpanded,
        so entries such as %USERPROFILE%\\AppData\\Local\\Microsoft\\WindowsApps stay as they were.
        """
        if self.platform != "windows":
            raise OSError("the user PATH in the registry exists only on Windows")
        import ctypes
        import winreg

        kind = winreg.REG_EXPAND_SZ  # type: ignore[attr-defined,unused-ignore]
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, "Environment", 0,  # type: ignore[attr-defined,unused-ignore]
                                winreg.KEY_SET_VALUE | winreg.KEY_QUERY_VALUE) as key:  # type: ignore[attr-defined,unused-ignore]
            try:
                _old, old_kind = winreg.QueryValueEx(key, "Path")  # type: ignore[attr-defined,unused-ignore]
                if old_kind == winreg.REG_SZ and "%" not in value:  # type: ignore[attr-defined,unused-ignore]
                    kind = old_kind
            except FileNotFoundError:
                pass
            winreg.SetValueEx(key, "Path", 0, kind, value)  # type: ignore[attr-defined,unused-ignore]
        api = _windows_api()
        result = ctypes.c_size_t()  # DWORD_PTR: pointer-sized
        api.user32.SendMessageTimeoutW(HWND_BROADCAST, WM_SETTINGCHANGE, 0, "Environment",
                                       SMTO_ABORTIFHUNG, 5000, ctypes.byref(result))


SEE_MASK_NOCLOSEPROCESS = 0x00000040
SEE_MASK_NOASYNC = 0x00000100
SEE_MASK_FLAG_NO_UI = 0x00000400
HWND_BROADCAST = 0xFFFF
WM_SETTINGCHANGE = 0x001A
SMTO_ABORTIFHUNG = 0x0002


class _WindowsApi:
    """The few Win32 functions the wizard calls, with argument and result types declared.

    Loaded through WinDLL(use_last_error=True), so ctypes.get_last_error() is the error of that
    call. Without argtypes, ctypes would pass Python ints as 32-bit C ints and truncate handles and
    the pointer-sized WPARAM/LPARAM/LRESULT on 64-bit Windows.
    """

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        class SHELLEXECUTEINFOW(ctypes.Structure):
            _fields_ = [
                ("cbSize", wintypes.DWORD), ("fMask", wintypes.ULONG), ("hwnd", wintypes.HWND),
                ("lpVerb", wintypes.LPCWSTR), ("lpFile", wintypes.LPCWSTR),
                ("lpParameters", wintypes.LPCWSTR), ("lpDirectory", wintypes.LPCWSTR),
                ("nShow", ctypes.c_int), ("hInstApp", wintypes.HINSTANCE), ("lpIDList", ctypes.c_void_p),
                ("lpClass", wintypes.LPCWSTR), ("hkeyClass", wintypes.HKEY), ("dwHotKey", wintypes.DWORD),
                ("hIconOrMonitor", wintypes.HANDLE), ("hProcess", wintypes.HANDLE),
            ]

        self.SHELLEXECUTEINFOW = SHELLEXECUTEINFOW
        win_dll = ctypes.WinDLL  # type: ignore[attr-defined,unused-ignore]
        self.shell32 = win_dll("shell32", use_last_error=True)
        self.kernel32 = win_dll("kernel32", use_last_error=True)
        self.user32 = win_dll("user32", use_last_error=True)
        self.shell32.ShellExecuteExW.argtypes = [ctypes.POINTER(SHELLEXECUTEINFOW)]
        self.shell32.ShellExecuteExW.restype = wintypes.BOOL
        self.kernel32.WaitForSingleObject.argtypes = [wintypes.HANDLE, wintypes.DWORD]
        self.kernel32.WaitForSingleObject.restype = wintypes.DWORD
        self.kernel32.GetExitCodeProcess.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
        self.kernel32.GetExitCodeProcess.restype = wintypes.BOOL
        self.kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
        self.kernel32.CloseHandle.restype = wintypes.BOOL
        self.user32.SendMessageTimeoutW.argtypes = [
            wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPCWSTR, wintypes.UINT, wintypes.UINT,
            ctypes.POINTER(ctypes.c_size_t),
        ]
        self.user32.SendMessageTimeoutW.restype = wintypes.LPARAM  # LRESULT: pointer-sized

    @staticmethod
    def last_error() -> int:
        """The error of the last call made through these WinDLLs (saved by ctypes, use_last_error)."""
        import ctypes

        return int(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]


_API: _WindowsApi | None = None


def _windows_api() -> _WindowsApi:
    global _API
    if _API is None:
        _API = _WindowsApi()
    return _API
