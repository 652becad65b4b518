"""The terminal and process surroundings, passed down instead of read from globals (httpie style)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import TextIO

from setup_wizard.machine.shell import is_git_bash
from setup_wizard.machine.system import Platform, running_platform
from setup_wizard.record import record


@record(frozen=False)
class Environment:
    """What a run is given by its process: the standard streams, the environment, the folder, the platform."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    platform: Platform = field(default_factory=running_platform)

    def __post_init__(self) -> None:
        if self.git_bash and self.stdin is sys.stdin:
            self._speak_utf8_to_mintty()

    @property
    def git_bash(self) -> bool:
        """A Windows Python in Git Bash's mintty: its streams are pipes, not a console, although a
        person types into them (git-for-windows/git#2594)."""
        return self.platform.is_windows and is_git_bash(self.environ) and not self.stdin_isatty

    def _speak_utf8_to_mintty(self) -> None:
        """mintty shows UTF-8; through the pipes Python would speak the ANSI code page (CP949)."""
        for stream in (self.stdin, self.stdout, self.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                try:
                    reconfigure(encoding="utf-8", errors="replace")
                except (ValueError, OSError):
                    continue

    @staticmethod
    def _isatty(stream: TextIO | None) -> bool:
        try:
            return bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_isatty(self) -> bool:
        return self._isatty(self.stdin)

    @property
    def stdout_isatty(self) -> bool:
        return self._isatty(self.stdout)

    @property
    def stderr_isatty(self) -> bool:
        return self._isatty(self.stderr)

    @property
    def interactive(self) -> bool:
        """A person can answer: input and the screen are both a terminal, or Git Bash's mintty
        (pipes there, answered through plain prompts)."""
        return (self.stdin_isatty and (self.stdout_isatty or self.stderr_isatty)) or self.git_bash

    @property
    def no_color(self) -> bool:
        return "NO_COLOR" in self.environ or self.environ.get("TERM") == "dumb"
