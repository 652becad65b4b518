"""The process's surroundings that can end it badly: a reader that went away, a closed stdout, SIGTERM.

- `python -m setup_wizard check | head -1`: once head exits, writing raises BrokenPipeError, and Python
  would print a traceback at exit while flushing. The standard streams are wrapped so that a stream
  whose reader is gone swallows further output (its descriptor now points at the null device); the run
  finishes and exits with the code its result deserves.
- `>&-`: Python sets sys.stdout to None; output goes to the null device instead.
- SIGTERM (`kill`, a service manager, an IDE's stop button) raises Terminated, a KeyboardInterrupt: psycopg
  then cancels the running statement, the open transaction rolls back, and cli maps it to exit 143.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
from types import FrameType
from typing import Any, TextIO, cast

from setup_wizard.errors import Terminated

_GONE_ERRNOS = {errno.EPIPE, errno.EINVAL, getattr(errno, "ESHUTDOWN", errno.EPIPE)}


class QuietWhenGone:
    """A text stream proxy that goes quiet once its reader is gone (nothing else changes)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def _went_away(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def write(self, text: str) -> int:
        if self.gone:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or exc.errno in _GONE_ERRNOS:
                self._went_away()
                return len(text)
            raise

    def flush(self) -> None:
        if self.gone:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or exc.errno in _GONE_ERRNOS:
                self._went_away()
                return
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_standard_streams() -> None:
    """Replace sys.stdout/sys.stderr (closed ones included) with quiet-when-gone proxies."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # started with the descriptor closed
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        if not isinstance(stream, QuietWhenGone):
            setattr(sys, name, cast(TextIO, QuietWhenGone(stream)))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM while cleaning up ends the process at once, as the sender expects.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


def handle_sigterm() -> None:
    """SIGTERM behaves like Ctrl+C (see Terminated). Main thread only, as Python requires."""
    with contextlib.suppress(ValueError, AttributeError, OSError):
        signal.signal(signal.SIGTERM, _on_sigterm)
