"""Reading the backend's .env file the way Windows editors and shells actually write it.

Notepad may add a UTF-8 BOM or save as CP949 ("ANSI" on Korean Windows); Windows PowerShell 5.1's
`>` writes UTF-16 LE with a BOM. python-dotenv does the parsing; this module only finds the text.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from setup_wizard import problems
from setup_wizard.errors import WizardError
from setup_wizard.messages import envfiles as msg
from setup_wizard.record import record


@record
class EnvFile:
    path: Path
    values: dict[str, str]
    encoding: str
    bad_lines: tuple[int, ...]  # lines python-dotenv could not parse (1-based)
    # sha256 of the bytes as read: envwrite.save_env(expected=...) detects an edit made since.
    digest: str = ""


def decode_env_bytes(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding name) for the bytes of a .env file."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    if len(raw) >= 4 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00":
        return raw.decode("utf-16-le"), "utf-16-le"
    if len(raw) >= 4 and raw[0:1] == b"\x00" and raw[2:3] == b"\x00":
        return raw.decode("utf-16-be"), "utf-16-be"
    if b"\x00" in raw:
        raise UnicodeDecodeError("utf-8", raw, raw.index(b"\x00"), raw.index(b"\x00") + 1, "NUL byte")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Korean Windows' "ANSI" code page.
        return raw.decode("cp949"), "cp949"


# A real .env is a few KB; anything this large is the wrong file, and reading it would take minutes.
MAX_ENV_BYTES = 1024 * 1024


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def read_env_bytes(path: Path, limit: int = MAX_ENV_BYTES) -> bytes:
    """The bytes of a regular file of sane size (symlinks followed). A FIFO, a device (/dev/zero) or
    a huge file is refused with env_file_invalid before anything blocks or fills memory.

    Opened with O_NONBLOCK, so opening a FIFO that nobody writes to returns at once; the type is then
    checked on the open descriptor (no window between a check and the open).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(info.st_mode):
            kind = msg.ENV_FILE_KINDS[_kind(info.st_mode)]
            raise problems.error("env_file_invalid", msg.ENV_FILE_NOT_REGULAR.format(kind=kind, path=path),
                             msg.FIX_ENV_FILE_NOT_REGULAR)
        if info.st_size > limit:
            raise problems.error("env_file_invalid",
                             msg.ENV_FILE_TOO_LARGE.format(path=path, size=info.st_size, limit=limit),
                             msg.FIX_ENV_FILE_TOO_LARGE)
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:  # grew while we read
                raise problems.error("env_file_invalid",
                                 msg.ENV_FILE_TOO_LARGE.format(path=path, size=total, limit=limit),
                                 msg.FIX_ENV_FILE_TOO_LARGE)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def unreadable_error(path: Path, exc: OSError) -> WizardError:
    """What stands at `path` instead of a readable .env, and what to do about it (exit 2)."""
    if exc.errno == errno.ELOOP:
        return problems.error("env_file_invalid", msg.ENV_FILE_LOOP.format(path=path),
                          msg.FIX_ENV_FILE_LOOP.format(path=path))
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        target = os.readlink(path)
        return problems.error("env_file_invalid", msg.ENV_FILE_BROKEN_LINK.format(path=path, target=target),
                          msg.FIX_ENV_FILE_BROKEN_LINK)
    if isinstance(exc, FileNotFoundError):
        return problems.error("env_file_invalid", msg.ENV_FILE_NOT_FOUND.format(path=path), msg.FIX_ENV_FILE_PATH)
    if isinstance(exc, IsADirectoryError):
        return problems.error("env_file_invalid", msg.ENV_FILE_IS_DIR.format(path=path), msg.FIX_ENV_FILE_IS_DIR)
    if isinstance(exc, PermissionError):
        return problems.error("env_file_invalid", msg.ENV_FILE_NO_PERMISSION.format(path=path),
                          msg.FIX_ENV_FILE_NO_PERMISSION.format(path=path))
    return problems.error("env_file_invalid", msg.ENV_FILE_UNREADABLE.format(path=path, error=exc.strerror or exc),
                      msg.FIX_ENV_FILE_PERMISSION)


def present(path: Path) -> bool:
    """Something stands at `path`: a file, a folder, or a link (even a broken or looping one)."""
    return os.path.lexists(path)


def read_env_file(path: Path, environ: Mapping[str, str] | None = None) -> EnvFile:
    """Read and parse a .env file as the backend's python-dotenv 1.0.1 does (config/dotenv_backend.py:
    `${VAR}` takes `environ`'s VAR first, as load_dotenv does; default: this process's environment);
    raise UsageError(env_file_invalid) when it cannot be read."""
    from setup_wizard.config.dotenv_backend import interpolate, parse_env_text

    try:
        raw = read_env_bytes(path)
    except OSError as exc:
        raise unreadable_error(path, exc) from exc
    try:
        text, encoding = decode_env_bytes(raw)
    except UnicodeDecodeError as exc:
        raise problems.error("env_file_invalid", msg.ENV_FILE_UNDECODABLE.format(path=path), msg.FIX_ENV_FILE_ENCODING
        ) from exc
    bindings = parse_env_text(text)
    bad_lines = tuple(binding.line for binding in bindings if binding.error)
    values = interpolate(bindings, os.environ if environ is None else environ)
    clean = {key: value for key, value in values.items() if value is not None}
    return EnvFile(path=path, values=clean, encoding=encoding, bad_lines=bad_lines,
                   digest=hashlib.sha256(raw).hexdigest())


def default_env_path(cwd: Path) -> Path | None:
    """`backend/.env`, then `.env`, in the current folder; None when neither exists.

    Whatever stands at `backend/.env` is returned (a folder, a looping or broken link is then refused by
    name, exit 2, never taken for "no file"); a `.env` folder here is skipped (a virtual environment
    is often named so)."""
    backend_env = cwd / "backend" / ".env"
    if present(backend_env):
        return backend_env
    here = cwd / ".env"
    # A FIFO or device here is returned too, to be refused by name rather than silently skipped.
    if here.is_file() or (here.exists() and not here.is_dir()):
        return here
    return None
