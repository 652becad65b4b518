"""The backend's own view of its settings: which DATABASE_URL it ends up with, and what stops it.

The backend (app/core/config.py, app/db/postgre_db.py, service_agent/foundation/config.py; pins in
tests/backend-requirements.txt) does, from its `backend/` folder:

1. `load_dotenv(backend/.env)` with python-dotenv 1.0.1: strict UTF-8 (a UTF-16 or CP949 file is a
   UnicodeDecodeError at start-up), a UTF-8 BOM kept as part of the first line's key, never overriding
   a variable the process already has, and `${VAR}` taken from the process first (its parser and its
   interpolation: config/dotenv_backend.py).
2. pydantic-settings 2.4, `DATABASE_URL: str = ""`, `env_file=".env"` in the current folder, names
   case-insensitive, the environment before the file. An empty value in the environment counts.
3. `create_engine(DATABASE_URL)` and `create_async_engine(DATABASE_URL.replace("postgresql+psycopg://",
   "postgresql+psycopg_async://"))`: only `postgresql+psycopg://`, written exactly so, starts both
   (`postgresql://` loads psycopg2, `+asyncpg` asyncpg; neither is installed). `POSTGRES_*` keys only
   feed the checkpointer when DATABASE_URL is empty, and by then `create_engine("")` has failed. How
   SQLAlchemy 2.0.23 and its psycopg dialect turn the URL into libpq's parameters: config/backend_url.py.
4. libpq fills what the URL leaves out from `PG*` variables, then its defaults (the login name as the
   user, the user's name as the database).

This module works that out from the bytes of the files (config/backend_layout.py) and the environment,
as data (config/backend_verdict.py): the URL the backend will use and where it comes from, the problems
(stable codes) that would stop it or send it elsewhere, and the other values the wizard sees. Korean
text is made only in config/steps.py (and the messages package). Nothing here connects or writes: libpq is only
asked what it refuses, against socket folders that do not exist (config/backend_url.libpq_refusal).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from setup_wizard.config.backend_layout import Layout, find_layout
from setup_wizard.config.backend_verdict import (
    DSN_ELSEWHERE,
    ENV_BOM,
    ENV_NOT_UTF8,
    ENV_OUTSIDE,
    PASSWORD_ONLY_IN_KEYS,
    URL_EMPTY_ENVIRON,
    URL_FROM_ENVIRON,
    URL_INVALID,
    URL_MISSING,
    URL_NO_DBNAME,
    URL_REJECTED,
    URL_SCHEME,
    BackendView,
    Other,
    Problem,
)
from setup_wizard.config.load import backend_database_url, find_key, os_login_name
from setup_wizard.config.settings import (
    BACKEND_DEFAULTS,
    ENV_FILE_KEYS,
    FIELDS,
    LIBPQ_ENV_KEYS,
    Source,
    SourceKind,
    env_file_source,
    environ_source,
)
from setup_wizard.config.settings import DSN as DSN_SOURCE
from setup_wizard.machine.system import running_platform
from setup_wizard.record import record


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


def _pairs(text: str, environ: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """(key, value, line) in file order, as the backend's load_dotenv reads them (value-less keys dropped;
    a key given twice: its last value, at its first line)."""
    from setup_wizard.config.dotenv_backend import interpolate, parse_env_text

    bindings = parse_env_text(text)
    values = interpolate(bindings, environ)
    first: dict[str, int] = {}
    for binding in bindings:
        if binding.key is not None and not binding.error:
            first.setdefault(binding.key, binding.line)
    return [(key, value, first[key]) for key, value in values.items() if value is not None]


def _tolerant(raw: bytes | None, environ: Mapping[str, str]) -> dict[str, str] | None:
    """The values of a .env file as the backend will read them once it reads the file at all (a BOM,
    UTF-16 or CP949 decoded)."""
    if raw is None:
        return None
    from setup_wizard.config.dotenv_backend import backend_values  # a file to read
    from setup_wizard.config.envfile import decode_env_bytes

    try:
        text, _ = decode_env_bytes(raw)
    except UnicodeDecodeError:
        return None
    return backend_values(text, environ)


def _url_parts(url: str) -> dict[str, str] | None:
    """host/port/user/password/dbname as the backend's SQLAlchemy hands them to libpq; None when its
    create_engine raises."""
    from setup_wizard.config.backend_url import EngineError, engine_params

    try:
        params = engine_params(url).params
    except EngineError:
        return None
    return {name: params[name] for name in FIELDS if name in params}


def _dsn_parts(dsn: str) -> dict[str, str] | None:
    """--dsn's fields (a libpq URL or key=value string); None when unparsable."""
    from setup_wizard.config.load import parse_dsn
    from setup_wizard.errors import UsageError

    try:
        fields, _params, _ = parse_dsn(dsn, DSN_SOURCE)
    except UsageError:
        return None
    return fields


@record(frozen=False)
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
            f.pairs = _pairs(decode_env_bytes(layout.env_raw)[0], f.environ)
        except UnicodeDecodeError:
            f.pairs = []
        return
    f.pairs = _pairs(text.removeprefix("\ufeff"), f.environ)
    if f.encoding == "utf-8-bom":
        lost = [p for p in f.pairs if p[2] == 1]
        f.pairs = [p for p in f.pairs if p[2] != 1]
        f.bom_hides_url = any(key.lower() == "database_url" for key, _v, _l in lost)


def _pydantic_settings(f: _Found, windows: bool) -> None:
    """2. The environment with load_dotenv's additions (never overriding), read by pydantic-settings:
    names lower-cased (the last one wins), then the file's own, then the default ""."""
    chosen = backend_database_url(f.environ, {key: value for key, value, _line in f.pairs}, windows)
    if chosen is not None:
        f.url, f.source = chosen
    else:
        file_url = find_key({k: v for k, v, _l in f.pairs}, "DATABASE_URL")
        f.url, f.source = (file_url[1], env_file_source(file_url[0])) if file_url else ("", None)
    from_environ = f.source is not None and f.source.kind is SourceKind.ENVIRON
    if f.bom_hides_url and not from_environ:
        # (with DATABASE_URL in the environment the file's is not needed; `others` still names it)
        f.add(ENV_BOM, {"path": f.env_path})
    if from_environ and f.source is not None:
        key = f.source.key or "DATABASE_URL"
        file_url = find_key(f.file_values, "DATABASE_URL")
        if not f.url:
            f.add(URL_EMPTY_ENVIRON, {"key": key})
        elif file_url and file_url[1].strip() != f.url.strip():
            f.add(URL_FROM_ENVIRON, {"key": key, "path": f.env_path})
        if file_url:
            f.others.append(Other("DATABASE_URL", env_file_source(file_url[0]), f.layout.env_path))
    if f.url == "" and not f.has(URL_EMPTY_ENVIRON, ENV_OUTSIDE, ENV_BOM):
        keys = [k for k in ENV_FILE_KEYS.values() if find_key(f.file_values, k)]
        f.add(URL_MISSING, {"path": f.env_path, "keys": ", ".join(keys), **_example_parts(f.file_values)})


def _example_parts(values: Mapping[str, str] | None) -> dict[str, str]:
    """The parts of the DATABASE_URL a person would add by hand: the file's POSTGRES_* values (else the
    backend's defaults), so the example points at the server the file describes; the password is theirs."""
    from urllib.parse import quote

    def value(name: str) -> str:
        found = find_key(values, ENV_FILE_KEYS[name])
        return found[1] if found is not None and found[1] else BACKEND_DEFAULTS[name]

    return {"user": quote(value("user"), safe=""), "host": value("host"), "port": value("port"),
            "dbname": quote(value("dbname"), safe="")}


def _create_engine(f: _Found) -> dict[str, str] | None:
    """3. create_engine(url) as SQLAlchemy 2.0.23 and its psycopg dialect do it (config/backend_url.py),
    then libpq's reading of the parameters: the fields it connects with, None when it cannot."""
    if not f.url:
        return None
    from setup_wizard.config.backend_url import EngineError, engine_params, libpq_refusal  # a URL to read

    try:
        found = engine_params(f.url)
    except EngineError as exc:
        if exc.code != URL_SCHEME:
            f.add(URL_INVALID, source=f.source)
            return None
        f.add(URL_SCHEME, {"scheme": exc.reason}, f.source)
        try:  # judged on as it reads with the right driver name, so that every problem shows at once
            found = engine_params(f.url, check_scheme=False)
        except EngineError:
            f.add(URL_INVALID, source=f.source)
            return None
    if libpq_refusal(found.params, f.environ) is not None:
        f.add(URL_REJECTED, source=f.source)
        return None
    return {name: found.params[name] for name in FIELDS if name in found.params}


def _libpq(f: _Found, parts: Mapping[str, str], login_name: str | None) -> None:
    """4. libpq fills what the URL leaves out: PG* variables, then its defaults. POSTGRES_* never."""
    environ = f.environ
    pg_password = find_key(f.file_values, "POSTGRES_PASSWORD")
    if "password" not in parts and not environ.get("PGPASSWORD") and pg_password and pg_password[1]:
        f.add(PASSWORD_ONLY_IN_KEYS, {"key": pg_password[0]}, f.source)
    if "dbname" not in parts and not environ.get("PGDATABASE"):
        user = parts.get("user") or environ.get("PGUSER") or login_name or os_login_name(environ)
        f.add(URL_NO_DBNAME, {"dbname": user}, f.source)
    for name in FIELDS:
        found = find_key(f.file_values, ENV_FILE_KEYS[name])
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
    windows: bool = running_platform().is_windows,
    login_name: str | None = None,
) -> BackendView:
    """What the backend does with these files and this environment (reads no file, connects nowhere)."""
    f = _Found(layout, environ, _tolerant(layout.env_raw, environ))
    root_values = _tolerant(layout.root_env_raw, environ)
    _load_dotenv(f)
    _pydantic_settings(f, windows)
    parts = _create_engine(f)
    if parts is not None:
        _libpq(f, parts, login_name)
    if root_values is not None and layout.env_raw is not None and layout.root_env_path is not None:
        root_url = find_key(root_values, "DATABASE_URL")
        if root_url and (f.url is None or root_url[1].strip() != f.url.strip()):
            f.others.append(Other(root_url[0], env_file_source(root_url[0]), layout.root_env_path))
    if dsn is not None and dsn.strip():
        wanted = _dsn_parts(dsn)
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

