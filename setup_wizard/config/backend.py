"""The backend's own view of its settings: which DATABASE_URL it ends up with, and what stops it.

The backend (app/core/config.py, app/db/postgre_db.py, service_agent/foundation/config.py; pins in
tests/backend-requirements.txt) does, from its `backend/` folder:

1. `load_dotenv(backend/.env)` with python-dotenv 1.0.1: strict UTF-8 (a UTF-16 or CP949 file is a
   UnicodeDecodeError at start-up), a UTF-8 BOM kept as part of the first line's key, and never
   overriding a variable the process already has.
2. pydantic-settings 2.4, `DATABASE_URL: str = ""`, `env_file=".env"` in the current folder, names
   case-insensitive, the environment before the file. An empty value in the environment counts.
3. `create_engine(DATABASE_URL)` and `create_async_engine(DATABASE_URL.replace("postgresql+psycopg://",
   "postgresql+psycopg_async://"))`: only `postgresql+psycopg://`, written exactly so, starts both
   (`postgresql://` loads psycopg2, `+asyncpg` asyncpg; neither is installed). `POSTGRES_*` keys only
   feed the checkpointer when DATABASE_URL is empty, and by then `create_engine("")` has failed.
4. libpq fills what the URL leaves out from `PG*` variables, then its defaults (the login name as the
   user, the user's name as the database).

This module works that out from the bytes of the files and the environment, as data: the URL the
backend will use and where it comes from, the problems (stable codes) that would stop it or send it
elsewhere, and the other values the wizard sees. Korean text is made only in settings_steps (and
messages.py). Nothing here connects or writes.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from setup_wizard.config.precedence import os_login_name
from setup_wizard.config.settings import (
    ENV_FILE_KEYS,
    FIELDS,
    LIBPQ_ENV_KEYS,
    Source,
    SourceKind,
    env_file_source,
    environ_source,
)

BACKEND_SCHEME = "postgresql+psycopg"
MAX_ENV_BYTES = 1 << 20  # a .env file is a few hundred bytes; anything this large is not one

# Problem codes; each has a catalogue entry (messages.CATALOGUE) with its Korean title, cause and fix.
ENV_NOT_UTF8 = "backend_env_encoding"  # UTF-16, CP949 ...: the backend stops with UnicodeDecodeError
ENV_BOM = "backend_env_bom"  # a UTF-8 BOM glued to the first line's key, which was DATABASE_URL
ENV_OUTSIDE = "backend_env_outside"  # a .env at the project root, none in backend/
URL_MISSING = "backend_url_missing"  # no DATABASE_URL for the backend (only POSTGRES_*, or nothing)
URL_EMPTY_ENVIRON = "backend_url_empty_environ"  # DATABASE_URL= in the environment hides the file's
URL_SCHEME = "backend_url_scheme"  # anything but postgresql+psycopg://
URL_INVALID = "backend_url_invalid"  # the URL cannot be parsed, or an unencoded @ moves the host
PASSWORD_ONLY_IN_KEYS = "backend_password_only_in_keys"  # URL without password, POSTGRES_PASSWORD set
# Not failures: the backend starts, but somewhere the wizard must name.
URL_FROM_ENVIRON = "backend_url_from_environ"  # the environment's DATABASE_URL beats the file's
URL_NO_DBNAME = "backend_url_no_dbname"  # libpq's default database: the user's name
DSN_ELSEWHERE = "backend_dsn_elsewhere"  # --dsn points somewhere the backend does not go

FATAL = frozenset({ENV_NOT_UTF8, ENV_BOM, ENV_OUTSIDE, URL_MISSING, URL_EMPTY_ENVIRON, URL_SCHEME,
                   URL_INVALID, PASSWORD_ONLY_IN_KEYS})

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)://")


@dataclass(frozen=True)
class Layout:
    """Where the backend starts and the .env files around it, with their bytes (None: no such file)."""

    backend_dir: Path
    env_raw: bytes | None
    root_env_path: Path | None = None  # the project root's .env, when the backend folder has a parent
    root_env_raw: bytes | None = None
    assumed: bool = False  # no backend/ folder found: the current folder is taken for it

    @property
    def env_path(self) -> Path:
        return self.backend_dir / ".env"


def _read_small(path: Path) -> bytes | None:
    """A regular file's bytes, or None (missing, a folder, a FIFO, too large, unreadable)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_ENV_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def find_layout(cwd: Path) -> Layout:
    """The backend folder as config/project.find_backend finds it (here, inside, a parent or a sibling),
    with the .env beside it at the project root; without one, the current folder, marked as assumed."""
    from setup_wizard.config.project import find_backend

    found = find_backend(cwd)
    if found is None:
        return Layout(backend_dir=cwd, env_raw=_read_small(cwd / ".env"), assumed=True)
    root_env = found.folder.parent / ".env"
    return Layout(
        backend_dir=found.folder,
        env_raw=_read_small(found.env_path),
        root_env_path=root_env,
        root_env_raw=_read_small(root_env),
    )


@dataclass(frozen=True)
class Problem:
    code: str
    # Plain values for the Korean text (paths, keys, schemes); never a password.
    args: Mapping[str, str] = field(default_factory=dict)
    source: Source | None = None  # the setting the problem is about, drawn by Source.describe()

    @property
    def fatal(self) -> bool:
        return self.code in FATAL


@dataclass(frozen=True)
class Other:
    """A value the wizard also sees that the backend does not use for this URL."""

    name: str  # DATABASE_URL, a POSTGRES_* key, a PG* variable
    source: Source
    path: Path | None = None  # for values from a file other than backend/.env


@dataclass(frozen=True)
class BackendView:
    layout: Layout
    url: str | None  # the DATABASE_URL its engines receive ("" for none); None: it stops before
    source: Source | None  # where that URL came from (None for the default "")
    encoding: str  # how backend/.env reads for the backend: "utf-8", "utf-8-bom", "utf-16", "cp949", "none"
    problems: tuple[Problem, ...]
    others: tuple[Other, ...]
    # What the backend's file holds, read tolerantly (BOM stripped, UTF-16 and CP949 decoded), and the
    # root .env's: what the wizard connects to when the backend cannot read its own yet.
    file_values: dict[str, str] | None = None
    root_values: dict[str, str] | None = None

    @property
    def starts(self) -> bool:
        return not any(p.fatal for p in self.problems)

    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)

    def intended_env_values(self) -> dict[str, str] | None:
        """The .env values the wizard should connect with: backend/.env as the backend will read it once
        its problems are fixed, else the root .env that is to be copied there."""
        if self.file_values is not None:
            return self.file_values
        return self.root_values


def _decode_for_backend(raw: bytes) -> tuple[str | None, str]:
    """(text python-dotenv 1.0.1 reads, encoding name). None: it raises UnicodeDecodeError."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8"), "utf-8-bom"  # the BOM stays, as U+FEFF, in the text
        except UnicodeDecodeError:
            return None, "cp949"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        return None, "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return None, "cp949"


def _pairs(text: str) -> list[tuple[str, str, int]]:
    """(key, value, line) in file order, as python-dotenv parses them (value-less keys dropped)."""
    from dotenv.parser import parse_stream

    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    values = _interpolated(normalised)
    out = []
    for binding in parse_stream(io.StringIO(normalised)):
        if binding.key is None or binding.error or binding.value is None:
            continue
        out.append((binding.key, values.get(binding.key, binding.value), binding.original.line))
    return out


def _interpolated(text: str) -> dict[str, str]:
    from dotenv import dotenv_values

    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(normalised), interpolate=True).items()
            if v is not None}


def _tolerant(raw: bytes | None) -> dict[str, str] | None:
    from setup_wizard.config.envfile import decode_env_bytes

    if raw is None:
        return None
    try:
        text, _ = decode_env_bytes(raw)
    except UnicodeDecodeError:
        return None
    return _interpolated(text)


def _lookup(values: Mapping[str, str] | None, name: str) -> tuple[str, str] | None:
    found = None
    for key, value in (values or {}).items():
        if key.lower() == name.lower():
            found = (key, value)
    return found


def scheme_of(url: str) -> str | None:
    match = _SCHEME.match(url)
    return match.group(1) if match else None


def _url_parts(url: str) -> dict[str, str] | None:
    """host/port/user/password/dbname as SQLAlchemy and then libpq see them; None when unparsable."""
    from setup_wizard.config.precedence import parse_dsn
    from setup_wizard.errors import UsageError

    try:
        fields, _params, _ = parse_dsn(url, environ_source("DATABASE_URL"))
    except UsageError:
        return None
    return fields


@dataclass
class _Found:
    """What the stages of backend_view learn, in order."""

    layout: Layout
    environ: Mapping[str, str]
    file_values: dict[str, str] | None
    problems: list[Problem] = field(default_factory=list)
    others: list[Other] = field(default_factory=list)
    pairs: list[tuple[str, str, int]] = field(default_factory=list)
    encoding: str = "none"
    crashed: bool = False
    bom_hides_url: bool = False
    url: str | None = ""
    source: Source | None = None

    @property
    def env_path(self) -> str:
        return str(self.layout.env_path)

    def add(self, code: str, args: Mapping[str, str] | None = None, source: Source | None = None) -> None:
        self.problems.append(Problem(code, dict(args or {}), source))

    def has(self, *codes: str) -> bool:
        return any(p.code in codes for p in self.problems)


def _load_dotenv(f: _Found) -> None:
    """1. load_dotenv(backend/.env): strict UTF-8, a BOM kept as part of the first line's key."""
    layout = f.layout
    if layout.env_raw is None:
        if layout.root_env_raw is not None and layout.root_env_path is not None:
            f.add(ENV_OUTSIDE, {"path": str(layout.root_env_path), "target": f.env_path})
        return
    text, f.encoding = _decode_for_backend(layout.env_raw)
    if text is None:
        f.crashed = True
        f.add(ENV_NOT_UTF8, {"path": f.env_path, "encoding": f.encoding})
        # The later stages judge the text as it will read once rewritten as UTF-8, so that every
        # problem shows at once (a wrong scheme too), not one per run.
        from setup_wizard.config.envfile import decode_env_bytes

        try:
            f.pairs = _pairs(decode_env_bytes(layout.env_raw)[0])
        except UnicodeDecodeError:
            f.pairs = []
        return
    f.pairs = _pairs(text.removeprefix("\ufeff"))
    if f.encoding == "utf-8-bom":
        lost = [p for p in f.pairs if p[2] == 1]
        f.pairs = [p for p in f.pairs if p[2] != 1]
        f.bom_hides_url = any(key.lower() == "database_url" for key, _v, _l in lost)


def _pydantic_settings(f: _Found, windows: bool) -> None:
    """2. The environment with load_dotenv's additions (never overriding), read by pydantic-settings:
    names lower-cased (the last one wins), then the file's own, then the default ""."""
    merged: dict[str, tuple[str, Source]] = {k: (v, environ_source(k)) for k, v in f.environ.items()}
    present = {k.upper() for k in merged} if windows else set(merged)
    for key, value, _line in f.pairs:
        name = key.upper() if windows else key
        if name not in present:
            merged[name] = (value, env_file_source(key))
            present.add(name)
    lowered = {key.lower(): item for key, item in merged.items()}
    if "database_url" in lowered:
        f.url, f.source = lowered["database_url"]
    else:
        file_url = _lookup({k: v for k, v, _l in f.pairs}, "DATABASE_URL")
        f.url, f.source = (file_url[1], env_file_source(file_url[0])) if file_url else ("", None)
    from_environ = f.source is not None and f.source.kind is SourceKind.ENVIRON
    if f.bom_hides_url and not from_environ:
        # (with DATABASE_URL in the environment the file's is not needed; `others` still names it)
        f.add(ENV_BOM, {"path": f.env_path})
    if from_environ and f.source is not None:
        key = f.source.key or "DATABASE_URL"
        file_url = _lookup(f.file_values, "DATABASE_URL")
        if not f.url:
            f.add(URL_EMPTY_ENVIRON, {"key": key})
        elif file_url and file_url[1].strip() != f.url.strip():
            f.add(URL_FROM_ENVIRON, {"key": key, "path": f.env_path})
        if file_url:
            f.others.append(Other("DATABASE_URL", env_file_source(file_url[0]), f.layout.env_path))
    if f.url == "" and not f.has(URL_EMPTY_ENVIRON, ENV_OUTSIDE, ENV_BOM):
        keys = [k for k in ENV_FILE_KEYS.values() if _lookup(f.file_values, k)]
        f.add(URL_MISSING, {"path": f.env_path, "keys": ", ".join(keys)})


def _create_engine(f: _Found) -> dict[str, str] | None:
    """3. create_engine(url): the scheme exactly as written, and a URL SQLAlchemy and libpq agree on."""
    if not f.url:
        return None
    scheme = scheme_of(f.url)
    parts = _url_parts(f.url)
    if scheme is None:
        f.add(URL_INVALID, source=f.source)
    elif scheme != BACKEND_SCHEME:
        f.add(URL_SCHEME, {"scheme": scheme}, f.source)
    elif parts is None:
        f.add(URL_INVALID, source=f.source)
    return parts


def _libpq(f: _Found, parts: Mapping[str, str], login_name: str | None) -> None:
    """4. libpq fills what the URL leaves out: PG* variables, then its defaults. POSTGRES_* never."""
    environ = f.environ
    pg_password = _lookup(f.file_values, "POSTGRES_PASSWORD")
    if "password" not in parts and not environ.get("PGPASSWORD") and pg_password and pg_password[1]:
        f.add(PASSWORD_ONLY_IN_KEYS, {"key": pg_password[0]}, f.source)
    if "dbname" not in parts and not environ.get("PGDATABASE"):
        user = parts.get("user") or environ.get("PGUSER") or login_name or os_login_name(environ)
        f.add(URL_NO_DBNAME, {"dbname": user}, f.source)
    for name in FIELDS:
        found = _lookup(f.file_values, ENV_FILE_KEYS[name])
        if found and found[1] and parts.get(name) != found[1]:
            f.others.append(Other(found[0], env_file_source(found[0]), f.layout.env_path))
        env_key = LIBPQ_ENV_KEYS[name]
        if name in parts and environ.get(env_key) and environ[env_key] != parts[name]:
            f.others.append(Other(env_key, environ_source(env_key)))


def backend_view(
    layout: Layout,
    environ: Mapping[str, str],
    *,
    dsn: str | None = None,
    windows: bool = os.name == "nt",
    login_name: str | None = None,
) -> BackendView:
    """What the backend does with these files and this environment (pure: no I/O)."""
    f = _Found(layout, environ, _tolerant(layout.env_raw))
    root_values = _tolerant(layout.root_env_raw)
    _load_dotenv(f)
    _pydantic_settings(f, windows)
    parts = _create_engine(f)
    if parts is not None:
        _libpq(f, parts, login_name)
    if root_values is not None and layout.env_raw is not None and layout.root_env_path is not None:
        root_url = _lookup(root_values, "DATABASE_URL")
        if root_url and (f.url is None or root_url[1].strip() != f.url.strip()):
            f.others.append(Other(root_url[0], env_file_source(root_url[0]), layout.root_env_path))
    if dsn is not None and dsn.strip():
        wanted = _url_parts(dsn)
        used = _url_parts(f.url) if f.url else None
        if wanted is not None and (used is None or _differs(wanted, used)):
            f.add(DSN_ELSEWHERE)
    return BackendView(
        layout=layout,
        url=None if f.crashed else f.url,
        source=f.source,
        encoding=f.encoding,
        problems=tuple(f.problems),
        others=tuple(f.others),
        file_values=f.file_values,
        root_values=root_values,
    )


def _differs(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return any(a.get(name) != b.get(name) for name in ("host", "port", "user", "dbname"))


def inspect_backend(cwd: Path, environ: Mapping[str, str], dsn: str | None = None) -> BackendView:
    """backend_view for the folder the wizard runs in (reads the two .env files, nothing else)."""
    return backend_view(find_layout(cwd), environ, dsn=dsn)


def redact_url(url: str) -> str:
    """The URL with its password replaced by *** (the last @ of the authority ends the password)."""
    head, sep, rest = url.partition("://")
    if not sep:
        return "***"
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, hostport = authority.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{head}://{user}{':***' if colon else ''}@{hostport}{slash}{tail}"
