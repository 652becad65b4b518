"""The process's surroundings that can end it badly: a reader that went away, closed streams, signals.

- `python -m setup_wizard check --json | head -c 10`: once head exits, writing raises BrokenPipeError,
  wherever the write comes from (print, rich, the JSON written as UTF-8 bytes to `stream.buffer`, the
  flush at exit). So the guard sits below all of them: stdout and stderr are rebuilt as ordinary text
  streams over a raw layer that, when its reader is gone, points the descriptor at the null device and
  swallows the rest. The run finishes and exits with the code its result deserves (0 or 1), quietly.
- `>&-`, `2>&-`, `<&-`: Python sets the stream to None; it becomes the null device instead (stdin then
  reads as end of input: `--yes` and `check` never read it, and without a terminal nothing is asked).
- SIGTERM (`kill`, a service manager, an IDE's stop button) raises Terminated, a KeyboardInterrupt: psycopg
  then cancels the running statement, the open transaction rolls back, and cli maps it to exit 143.
- The end: once the result is written, the process leaves without tearing the interpreter down (see
  `QuickExit`).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import io
import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from setup_wizard.errors import Terminated
from setup_wizard.machine.system import running_platform

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# EPIPE: the reader closed the pipe. EINVAL: the same on Windows pipes. ESHUTDOWN: a socket's reader.
_GONE_ERRNOS = {errno.EPIPE, errno.EINVAL, getattr(errno, "ESHUTDOWN", errno.EPIPE)}


class QuietWhenGone(io.RawIOBase):
    """A raw output layer over the process's own one that goes quiet once its reader is gone.

    It wraps the original raw object (a FileIO, or Windows' console writer, which needs its own
    write), never closes it (the descriptor belongs to the process), and on EPIPE points the
    descriptor at the null device, so that anything else still holding it writes there too.
    """

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self._gone = False

    def _went_away(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._raw.fileno())
            os.close(devnull)

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int | None:
        size = memoryview(data).nbytes
        if self._gone:
            return size
        try:
            written: int | None = self._raw.write(data)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or exc.errno in _GONE_ERRNOS:
                self._went_away()
                return size
            raise
        return written

    def fileno(self) -> int:
        return int(self._raw.fileno())

    @property
    def name(self) -> Any:  # sys.stdout.name stays "<stdout>"
        return self._raw.name

    def isatty(self) -> bool:
        try:
            return bool(self._raw.isatty())
        except (OSError, ValueError):
            return False


def _raw_of(stream: TextIO) -> Any:
    """The raw layer under a text stream: buffer.raw, or the buffer itself when unbuffered (python -u)."""
    buffer = getattr(stream, "buffer", None)
    return buffer if isinstance(buffer, io.RawIOBase) else getattr(buffer, "raw", None)


def _guarded(stream: TextIO) -> TextIO:
    """The same text stream (encoding, errors, buffering), rebuilt over a QuietWhenGone raw layer."""
    raw = _raw_of(stream)
    if raw is None or isinstance(raw, QuietWhenGone) or not isinstance(stream, io.TextIOWrapper):
        return stream  # already guarded, or not the process's own stream (a host replaced it)
    stream.flush()
    quiet = QuietWhenGone(raw)
    # Unbuffered (python -u, PYTHONUNBUFFERED) stays unbuffered: the text layer writes straight through.
    binary: Any = quiet if raw is stream.buffer else io.BufferedWriter(quiet)
    return io.TextIOWrapper(
        binary,
        encoding=stream.encoding,
        errors=stream.errors,
        # As Python builds its own standard streams: "\n" becomes "\r\n" on Windows only.
        newline=None if running_platform().is_windows else "\n",
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )


def guard_standard_streams() -> None:
    """stdout and stderr quiet once their reader is gone; closed standard streams become the null device."""
    if sys.stdin is None:  # started with `<&-`
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # started with the descriptor closed
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process
        else:
            setattr(sys, name, _guarded(stream))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM while cleaning up ends the process at once, as the sender expects.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


def handle_sigterm() -> None:
    """SIGTERM behaves like Ctrl+C (see Terminated). Main thread only, as Python requires."""
    with contextlib.suppress(ValueError, AttributeError, OSError):
        signal.signal(signal.SIGTERM, _on_sigterm)


class QuickExit:
    """The process's last step: after everything Python runs at exit, leave without the interpreter's teardown.

    A normal exit, after the atexit functions, tears the interpreter down: it clears every module and
    frees every object one by one, which nothing here needs (the connection is closed, every file written
    and closed, the output flushed below). That took 27 ms of a `check` on the reference machine, 20 ms
    even for a bare psycopg process (issue 20, "Speed"). Created first thing, so that its atexit function
    runs last (Python runs them in reverse order): the other threads have been waited for and every other
    atexit function (logging, temporary folders) has run; then the standard streams are flushed and the
    process ends with the run's exit code. An exception nobody caught leaves through Python's own exit.
    """

    def __init__(self) -> None:
        self.code: int | None = None
        atexit.register(self._last)

    def exit(self, code: int) -> NoReturn:
        self.code = code
        sys.exit(code)

    def _last(self) -> None:
        if self.code is None:
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a reader gone or a full disk: the exit code stays
                stream.flush()
        os._exit(self.code)
