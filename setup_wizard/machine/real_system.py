"""`RealSystem`: the `System` (machine/system.py) of the machine the wizard runs on.

POSIX and Windows alike it finds programs and files and runs commands, decoding their output in the
console's code page (`console_encoding`). The registry, the UAC prompt and the user's PATH exist only
on Windows: there they go through machine/win32.py; elsewhere they answer "nothing" (no keys, no
service, access denied).
"""

from __future__ import annotations

import glob as globlib
import os
import shutil
import subprocess
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from setup_wizard.machine import win32
from setup_wizard.machine.system import (
    ERROR_ACCESS_DENIED,
    CommandResult,
    Elevation,
    Platform,
    RegistryValue,
    ServiceState,
    parse_sc_query,
    running_platform,
)


def console_encoding() -> str:
    """The code page Windows tools write in when this process runs them (CP949 on Korean Windows).

    A console program writes in the console's output code page when it has a console, else in the
    OEM code page. Elsewhere: the locale's encoding. Never guessed from the bytes.
    """
    if running_platform().is_windows:
        code_page = win32.console_output_code_page()
        return f"cp{code_page}" if code_page else "oem"
    import locale

    return locale.getpreferredencoding(False) or "utf-8"


class RealSystem:
    """The machine the wizard runs on."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        self.platform: Platform = running_platform()
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
        if not self.platform.is_windows:
            return []
        return win32.hklm_subkeys(key)

    def registry_values(self, key: str) -> dict[str, RegistryValue]:
        if not self.platform.is_windows:
            return {}
        return win32.hklm_values(key)

    # --- services and commands -----------------------------------------------------------------
    def service_state(self, name: str) -> ServiceState:
        if not self.platform.is_windows:
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
        if user is not None and not self.platform.is_windows:
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
        """ShellExecuteExW with the `runas` verb (machine/win32.py): Windows asks the person (UAC) first."""
        if not self.platform.is_windows:
            return Elevation(error=ERROR_ACCESS_DENIED)
        return win32.run_as_administrator(program, args, timeout)

    # --- the user's PATH (HKCU\Environment) ----------------------------------------------------
    def user_path(self) -> str:
        if not self.platform.is_windows:
            return ""
        return win32.read_user_path()

    def set_user_path(self, value: str) -> None:
        """Write the user's PATH (kept unexpanded) and tell running programs it changed."""
        if not self.platform.is_windows:
            raise OSError("the user PATH in the registry exists only on Windows")
        win32.write_user_path(value)
