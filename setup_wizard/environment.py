"""The terminal and process surroundings, passed down instead of read from globals (httpie style)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class Environment:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)

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
        """A person can answer: input and the screen are both a terminal."""
        return self.stdin_isatty and (self.stdout_isatty or self.stderr_isatty)

    @property
    def no_color(self) -> bool:
        return "NO_COLOR" in self.environ or self.environ.get("TERM") == "dumb"
