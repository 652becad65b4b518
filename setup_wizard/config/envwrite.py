"""Writing typed connection settings back into the backend's .env file, touching nothing else.

python-dotenv's `set_key` would do the rewrite, but it re-quotes the value and drops an inline
comment on that line, and it reads and writes in one fixed encoding. So the one line (or the few
lines) we change is rewritten here, in place: its `export`, spacing, quote style and trailing comment
are kept; every other byte of the file stays as it was, in the file's own encoding, BOM and line
endings. python-dotenv remains the judge: the new text is parsed again before anything is written,
and the write is refused unless exactly the intended keys changed, to exactly the intended values.

The write itself is atomic (temporary file in the same folder, then os.replace) and the previous
file is kept as a backup in the per-user data folder (config/backups.py), never beside it.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from setup_wizard import problems
from setup_wizard.config.backups import BackupFailed, Backups
from setup_wizard.config.envfile import EnvFile, decode_env_bytes, read_env_bytes
from setup_wizard.config.load import find_key, parse_dsn
from setup_wizard.config.project import find_backend
from setup_wizard.config.settings import (
    ENV_FILE_KEYS,
    FIELDS,
    Settings,
    SourceKind,
    Value,
    env_file_source,
)
from setup_wizard.errors import UsageError
from setup_wizard.messages import envfiles as msg
from setup_wizard.record import record


@record
class EnvChange:
    key: str
    value: str  # may be secret: never shown
    shown: str  # what the screen may show instead


@record
class SaveResult:
    path: Path
    backup: Path | None  # None when the file was created
    keys: tuple[str, ...]
    written: Path | None = None  # the real file written (a symlink's target), when not `path` itself
    merged: bool = False  # someone else edited other lines since the read: kept, ours applied on top


def environment_overrides(environ: Mapping[str, str], keys: Collection[str] = ("DATABASE_URL",)) -> list[str]:
    """Process-environment names that beat the .env for the backend, so a value saved under `keys` would
    not be the one it uses: python-dotenv never overrides the environment, pydantic-settings prefers it
    (names case-insensitive, an empty value included), and DATABASE_URL alone decides the connection."""
    wanted = {key.upper() for key in keys} | {"DATABASE_URL"}
    return sorted(name for name in environ if name.upper() in wanted)


def target_path(cwd: Path, found: Path | None) -> Path | None:
    """The file to write: the one that was read, else the project's backend/.env; None with no backend
    folder anywhere near (a .env is never created in a folder that is not a backend)."""
    if found is not None:
        return found
    backend = find_backend(cwd)
    return backend.env_path if backend is not None else None


def _url_with_params(settings: Settings, scheme: str, params: Mapping[str, str]) -> str:
    url = settings.url(scheme)
    return url + ("?" + urlencode(dict(params)) if params else "")


def planned_changes(
    settings: Settings, typed: Collection[str], file_values: Mapping[str, str] | None
) -> list[EnvChange]:
    """What to write so the backend connects as the wizard did.

    - No file yet: one DATABASE_URL with every effective value (what was just proved to work).
    - The file has DATABASE_URL: that URL with the typed fields replaced; scheme and parameters kept
      (and a POSTGRES_* key the file also has for a typed field, so that no stale value stays beside it).
    - Otherwise: the POSTGRES_* key of each typed field.
    """
    if file_values is None:
        # Parameters from a URL travel with it; PG* variables stay in the environment they came from.
        params = {key: item.value for key, item in settings.extra.items()
                  if item.source.kind is not SourceKind.ENVIRON}
        url = _url_with_params(settings, settings.url_scheme, params)
        return [EnvChange("DATABASE_URL", url, settings.redacted_url())]
    typed = [name for name in FIELDS if name in typed]
    if not typed:
        return []
    found = find_key(file_values, "DATABASE_URL")  # the backend reads database_url too
    if found and found[1].strip():
        key, file_url = found[0], found[1].strip()
        fields, params, _ = parse_dsn(file_url, env_file_source(key))
        scheme = file_url.split("://", 1)[0]  # exactly as written: postgresql+psycopg, postgres, ...
        origin = env_file_source(key)
        merged = {name: Value(value, origin) for name, value in fields.items()}
        for name in typed:
            value = settings.get(name)
            if value is not None:
                merged[name] = Value(value, origin)
        # What the URL left to libpq (the user's name as database ...) is written as libpq resolved it,
        # never as the backend's POSTGRES_* defaults.
        for name in ("user", "dbname"):
            if name not in merged and settings.get(name) is not None:
                merged[name] = Value(settings.get(name) or "", origin)
        written = Settings(values=merged, url_scheme=scheme)
        # A POSTGRES_* key the file also holds for a typed field gets the same value: no stale password
        # left beside the URL for whoever reads the file next.
        also = [_key_change(name, settings.get(name) or "", found_key[0]) for name in typed
                if (found_key := find_key(file_values, ENV_FILE_KEYS[name])) and settings.get(name) is not None]
        return [EnvChange(key, _url_with_params(written, scheme, params), written.redacted_url()), *also]
    return [_key_change(name, settings.get(name) or "", ENV_FILE_KEYS[name]) for name in typed
            if settings.get(name) is not None]


def _key_change(name: str, value: str, key: str) -> EnvChange:
    return EnvChange(key, value, "********" if name == "password" else value)


# --- the in-place rewrite -----------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(?P<head>\s*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*)")
_NEWLINE = re.compile(r"(\r\n|\n|\r)$")
_NEEDS_QUOTES = re.compile(r"[\s#'\"\\$]")


def _quote(value: str, style: str) -> str:
    if style == '"' and not re.search(r"[\\\"$]", value):
        return f'"{value}"'
    if style or not value or _NEEDS_QUOTES.search(value):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    return value


def _rewrite_line(line: str, value: str) -> str:
    """One `KEY=value  # comment` line with a new value; everything around the value kept."""
    match = _ASSIGNMENT.match(line)
    if match is None:  # python-dotenv parsed it as this key, so this does not happen
        raise ValueError("not an assignment")
    head, rest = match.group("head"), line[match.end():]
    newline_match = _NEWLINE.search(rest)
    newline = newline_match.group(1) if newline_match else ""
    body = rest[: len(rest) - len(newline)]
    style = body[:1] if body[:1] in ("'", '"') else ""
    if style:
        i = 1
        while i < len(body) and body[i] != style:
            i += 2 if body[i] == "\\" else 1
        tail = body[i + 1:]
    else:
        comment = re.search(r"\s+#", body)
        end = comment.start() if comment else len(body.rstrip())
        tail = body[end:]
    return head + _quote(value, style) + tail + newline


def parse_env_text(text: str) -> dict[str, str]:
    """The values python-dotenv reads from this text (interpolated, as the wizard reads a .env)."""
    from dotenv import dotenv_values

    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(normalised), interpolate=True).items()
            if v is not None}


def apply_changes(text: str, changes: list[EnvChange]) -> str:
    """The new file text: the effective line of each key rewritten, missing keys appended."""
    from dotenv.parser import parse_stream

    bindings = list(parse_stream(io.StringIO(text)))
    last_index = {b.key: i for i, b in enumerate(bindings) if b.key is not None and not b.error}
    pieces = [b.original.string for b in bindings]
    appended: list[str] = []
    for change in changes:
        index = last_index.get(change.key)
        if index is None:
            appended.append(f"{change.key}={_quote(change.value, '')}")
        else:
            pieces[index] = _rewrite_line(pieces[index], change.value)
    new_text = "".join(pieces)
    if appended:
        found = re.search(r"\r\n|\n|\r", text)
        newline = found.group(0) if found else "\n"
        if new_text and not new_text.endswith(("\n", "\r")):
            new_text += newline
        new_text += "".join(line + newline for line in appended)
    return new_text


def _encode(text: str, raw: bytes, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding == "utf-16":
        if raw.startswith(codecs.BOM_UTF16_BE):
            return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def owner_only(mode: int) -> int:
    """`mode` with every group and other bit cleared, nothing added: 644 -> 600, 444 -> 400, 755 -> 700."""
    return mode & 0o700


def replace_file(path: Path, data: bytes, now: datetime, mode_from: Path | None = None, *,
                 backups: Backups) -> Path | None:
    """Atomically replace (or create) `path` with `data`: a temporary file in the same folder, flushed,
    then os.replace. An existing file keeps its permissions and is first kept in `backups` (the per-user
    data folder, mode 600: never beside it, where git and other users would see it; returned); a new file
    takes `mode_from`'s permissions when given. OSError on failure (BackupFailed when the backup could not
    be written), nothing half-written.
    """
    existed = path.exists()
    backup: Path | None = None
    temp_name: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if existed:
            shutil.copymode(path, temp_name)
            backup = backups.keep(path, path.read_bytes(), now)
        elif mode_from is not None:
            shutil.copymode(mode_from, temp_name)
        os.replace(temp_name, path)
        temp_name = None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
    return backup


def _real_file(path: Path) -> Path:
    """The file to replace: a symlinked .env is written through to its target, never replaced by a
    regular file (the shared target would keep the old password)."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.exists():
        raise problems.error("env_save_failed", msg.ENV_SAVE_BROKEN_LINK.format(path=path, target=target),
                          msg.FIX_ENV_SAVE_BROKEN_LINK)
    return target


def save_env(path: Path, changes: list[EnvChange], now: datetime | None = None,
             expected: EnvFile | Mapping[str, str] | None = None, *, backups: Backups, utf8: bool = False,
             base: Path | None = None) -> SaveResult:
    """Write the changes into `path` (created when missing), atomically, keeping a backup in `backups`.

    `utf8`: write UTF-8 without BOM (the only form the backend reads) instead of keeping the file's own
    encoding. `base`: when `path` does not exist, start from this file's text and permissions (the
    project root's .env copied into backend/); the base itself is never changed.

    `expected`: the file as the wizard read it (the EnvFile, or just its values; {} when there was no
    file). When it differs now, someone edited it since: their lines are kept (ours are applied on top of
    their version), but if a key we write changed too, nothing is written (env_save_conflict) rather
    than losing their edit. The changes are always applied to the bytes read here, never to old ones.
    """
    moment = now or datetime.now()
    real = _real_file(path)
    try:
        existed = real.exists()
        source = real if existed else base
        raw = read_env_bytes(source) if source is not None else b""
        text, encoding = decode_env_bytes(raw) if raw else ("", "utf-8")
    except (OSError, UnicodeDecodeError, UsageError) as exc:
        raise problems.error("env_save_failed", msg.ENV_SAVE_UNREADABLE.format(path=path), msg.FIX_ENV_SAVE) from exc
    before = parse_env_text(text)
    merged = False
    if isinstance(expected, EnvFile):
        edited = bool(expected.digest) and hashlib.sha256(raw).hexdigest() != expected.digest
        seen: Mapping[str, str] = expected.values
    else:
        edited = expected is not None and dict(expected) != before
        seen = expected or {}
    if edited:
        clashing = [c.key for c in changes if before.get(c.key) != seen.get(c.key)]
        if clashing:
            raise problems.error("env_save_conflict",
                              msg.ENV_SAVE_CHANGED.format(path=path, keys=", ".join(clashing)),
                              msg.FIX_ENV_SAVE_CHANGED)
        merged = True
    new_text = apply_changes(text, changes)

    # python-dotenv must read back exactly what we meant, and nothing else may have moved.
    after = parse_env_text(new_text)
    intended = {**before, **{c.key: c.value for c in changes}}
    if after != intended:
        raise problems.error("env_save_failed", msg.ENV_SAVE_VERIFY_FAILED.format(path=path), msg.FIX_ENV_SAVE)
    try:
        data = new_text.encode("utf-8") if utf8 else _encode(new_text, raw, encoding)
    except UnicodeEncodeError as exc:
        raise problems.error("env_save_failed", msg.ENV_SAVE_ENCODING.format(path=path, encoding=encoding),
                          msg.FIX_ENV_SAVE) from exc

    try:
        backup = replace_file(real, data, moment, mode_from=None if existed else base, backups=backups)
    except BackupFailed as exc:
        raise problems.error("env_save_failed",
                          msg.ENV_BACKUP_FAILED.format(path=path, folder=exc.folder, error=exc.strerror or exc),
                          msg.FIX_ENV_BACKUP_FAILED) from exc
    except OSError as exc:
        raise problems.error("env_save_failed",
            msg.ENV_SAVE_FAILED.format(path=path, error=exc.strerror or type(exc).__name__),
            msg.FIX_ENV_SAVE,
        ) from exc
    return SaveResult(path=path, backup=backup, keys=tuple(c.key for c in changes),
                      written=real if real != path else None, merged=merged)
