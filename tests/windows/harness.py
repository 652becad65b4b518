"""The handle on one Wine session that the tier's tests receive (fixture `wine` in conftest.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import winpython


@dataclass
class Wine:
    """One private WINEPREFIX with the cached Windows Python; `run` starts python.exe in it."""

    python: winpython.WinPython
    prefix: Path

    def env(self, **extra: str) -> dict[str, str]:
        pythonpath = ";".join([winpython.windows_path(winpython.ROOT), winpython.windows_path(self.python.site)])
        return winpython.wine_env(self.prefix, PYTHONPATH=pythonpath, **extra)

    def python_exe(self, *args: str, cwd: Path, stdin: bytes = b"", extra_env: dict[str, str] | None = None,
                   timeout: float = 180) -> subprocess.CompletedProcess[bytes]:
        # Pipes on every stream: Wine's python cannot open its streams on a redirected file.
        return subprocess.run([self.python.wine, str(self.python.exe), *args], cwd=cwd, input=stdin,
                              capture_output=True, env=self.env(**(extra_env or {})), timeout=timeout,
                              check=False)

    def wizard(self, *args: str, cwd: Path, stdin: bytes = b"", extra_env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess[bytes]:
        return self.python_exe("-m", "setup_wizard", *args, cwd=cwd, stdin=stdin, extra_env=extra_env)

    def tool(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """A Wine program (reg, ...) in this prefix."""
        return subprocess.run([self.python.wine, *args], capture_output=True, env=self.env(), timeout=120,
                              check=False)
