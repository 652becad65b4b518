"""Reading the backend's .env file the way Windows editors and shells actually write it.

Notepad may add a UTF-8 BOM or save as CP949 ("ANSI" on Korean Windows); Windows PowerShell 5.1's
`>` writes UTF-16 LE with a BOM. python-dotenv does the parsing; this module only finds the text.
"""

from __future__ import annotations

import codecs
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from setup_wizard import messages as msg
from setup_wizard.errors import UsageError


@dataclass(frozen=True)
class EnvFile:
    path: Path
    values: dict[str, str]
    encoding: str
    bad_lines: tuple[int, ...]  # lines python-dotenv could not parse (1-based)


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


def read_env_file(path: Path) -> EnvFile:
    """Read and parse a .env file; raise UsageError(env_file_invalid) when it cannot be read."""
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    # python-dotenv logs unparsable lines in English; we report them ourselves, in Korean.
    logging.getLogger("dotenv").setLevel(logging.ERROR)

    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            "env_file_invalid", msg.ENV_FILE_NOT_FOUND.format(path=path), msg.FIX_ENV_FILE_PATH
        ) from exc
    except IsADirectoryError as exc:
        raise UsageError(
            "env_file_invalid", msg.ENV_FILE_IS_DIR.format(path=path), msg.FIX_ENV_FILE_PATH
        ) from exc
    except OSError as exc:
        raise UsageError(
            "env_file_invalid",
            msg.ENV_FILE_UNREADABLE.format(path=path, error=exc.strerror or exc),
            msg.FIX_ENV_FILE_PERMISSION,
        ) from exc
    try:
        text, encoding = decode_env_bytes(raw)
    except UnicodeDecodeError as exc:
        raise UsageError(
            "env_file_invalid", msg.ENV_FILE_UNDECODABLE.format(path=path), msg.FIX_ENV_FILE_ENCODING
        ) from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad_lines = tuple(
        binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error
    )
    values = dotenv_values(stream=io.StringIO(text), interpolate=True)
    clean = {key: value for key, value in values.items() if value is not None}
    return EnvFile(path=path, values=clean, encoding=encoding, bad_lines=bad_lines)


def default_env_path(cwd: Path) -> Path | None:
    """`backend/.env`, then `.env`, in the current folder; None when neither exists."""
    for candidate in (cwd / "backend" / ".env", cwd / ".env"):
        if candidate.is_file():
            return candidate
    return None
