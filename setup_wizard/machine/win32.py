"""The Win32 calls RealSystem makes on Windows, and only there.

The registry through winreg (HKLM in its 64-bit view; the user's PATH under HKCU\\Environment), the UAC
prompt through ShellExecuteExW, and the "environment changed" broadcast through SendMessageTimeoutW.
winreg and ctypes' WinDLL are imported inside the functions, so this module imports on any OS (and
mypy checks it for every platform); RealSystem checks the platform before calling any of them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from setup_wizard.machine.system import ERROR_ACCESS_DENIED, Elevation, RegistryValue

SEE_MASK_NOCLOSEPROCESS = 0x00000040
SEE_MASK_NOASYNC = 0x00000100
SEE_MASK_FLAG_NO_UI = 0x00000400
HWND_BROADCAST = 0xFFFF
WM_SETTINGCHANGE = 0x001A
SMTO_ABORTIFHUNG = 0x0002


# --- the registry (HKLM, 64-bit view) --------------------------------------------------------------
def hklm_subkeys(key: str) -> list[str]:
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


def hklm_values(key: str) -> dict[str, RegistryValue]:
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


# --- the console ---------------------------------------------------------------------------------------
def console_output_code_page() -> int:
    """The console's output code page (949 on Korean Windows); 0 when this process has no console."""
    import ctypes

    try:
        return int(ctypes.WinDLL("kernel32").GetConsoleOutputCP())  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return 0


# --- the UAC prompt ----------------------------------------------------------------------------------
def _quote_windows_args(args: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(args))


def run_as_administrator(program: str, args: Sequence[str], timeout: float) -> Elevation:
    """ShellExecuteExW with the `runas` verb: Windows asks the person (UAC) first.

    ShellExecuteExW returns only once the prompt is answered; `timeout` counts from then.
    """
    import ctypes
    import time

    api = windows_api()
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


# --- the user's PATH (HKCU\Environment) ------------------------------------------------------------
def read_user_path() -> str:
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


def write_user_path(value: str) -> None:
    """Write the user's PATH and tell running programs (Explorer, new shells) it changed.

    Kept as REG_EXPAND_SZ (or REG_SZ when it was one with no %VARIABLE% in it), written unexpanded,
    so entries such as %USERPROFILE%\\AppData\\Local\\Microsoft\\WindowsApps stay as they were.
    """
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
    api = windows_api()
    result = ctypes.c_size_t()  # DWORD_PTR: pointer-sized
    api.user32.SendMessageTimeoutW(HWND_BROADCAST, WM_SETTINGCHANGE, 0, "Environment",
                                   SMTO_ABORTIFHUNG, 5000, ctypes.byref(result))


# --- the Win32 functions, declared -------------------------------------------------------------------
class WindowsApi:
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


_API: WindowsApi | None = None


def windows_api() -> WindowsApi:
    """The declared functions, loaded once (the Windows tier's probe also checks their declarations)."""
    global _API
    if _API is None:
        _API = WindowsApi()
    return _API
