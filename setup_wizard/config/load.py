"""Settings precedence in one place: every source merged by rank, each value remembering its origin.

The ranking is the backend's (config/backend.py explains what the backend itself does with the same
files): the backend's engines use one `DATABASE_URL`, from the environment or else from the .env file
(names case-insensitive), and libpq fills what that URL leaves out from the `PG*` variables and then its
own defaults (port 5432, the login name as user, the user's name as database). `POSTGRES_*` keys and
other URLs never beat it: they are kept as conflicts, each with its source. `--dsn` is the explicit
override (the checks then say that the backend uses something else). Only when no URL exists at all
do `PG*`, `POSTGRES_*` and the backend's defaults make the settings, which is what the wizard then
offers to write as `DATABASE_URL`. Parsing goes through psycopg's `conninfo`; the only way a setting
is ever shown is `redacted()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from setup_wizard import problems
from setup_wizard.config.libpq_env import libpq_variables
from setup_wizard.config.settings import (
    BACKEND_DEFAULTS,
    DEFAULT,
    DSN,
    ENV_FILE_KEYS,
    FIELDS,
    LIBPQ_ENV_KEYS,
    LIBPQ_ENV_PARAMS,
    Conflict,
    Settings,
    Source,
    SourceKind,
    Value,
    env_file_source,
    environ_source,
    libpq_default,
)
from setup_wizard.errors import UsageError
from setup_wizard.machine.system import running_platform
from setup_wizard.messages import settings as msg
from setup_wizard.record import record

# SQLAlchemy driver suffixes the backend may carry: postgresql+psycopg://, +asyncpg, +psycopg2 ...
_SCHEME = re.compile(r"^(postgres(?:ql)?)(\+[A-Za-z0-9_]+)?://", re.IGNORECASE)


def parse_dsn(text: str, origin: Source) -> tuple[dict[str, str], dict[str, str], str]:
    """Parse a URL or key=value DSN into (fields, extra parameters, scheme).

    Raises UsageError(dsn_invalid) with a Korean explanation; the message never contains the DSN
    itself, which may hold a password.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    source = origin.describe()
    raw = text.strip()
    scheme = "postgresql+psycopg"
    match = _SCHEME.match(raw)
    if match:
        if match.group(2):
            scheme = match.group(1).lower() + match.group(2).lower()
        raw = "postgresql://" + raw[match.end() :]
        if "@" in raw[len("postgresql://") :].split("/", 1)[0].rsplit("@", 1)[0]:
            raise problems.error("dsn_invalid", msg.DSN_UNENCODED_AT.format(source=source), msg.FIX_DSN_ENCODE)
    elif "://" in raw:
        raise problems.error("dsn_invalid", msg.DSN_BAD_SCHEME.format(source=source), msg.FIX_DSN_FORM)
    elif "=" not in raw:
        raise problems.error("dsn_invalid", msg.DSN_UNPARSABLE.format(source=source), msg.FIX_DSN_FORM)
    try:
        parsed = {k: str(v) for k, v in conninfo_to_dict(raw).items() if v is not None}
    except ProgrammingError as exc:
        raise problems.error("dsn_invalid", msg.DSN_UNPARSABLE.format(source=source), msg.FIX_DSN_FORM) from exc
    port = parsed.get("port")
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise problems.error("dsn_invalid", msg.DSN_BAD_PORT.format(source=source), msg.FIX_DSN_FORM)
    if "," in parsed.get("host", ""):
        raise problems.error("dsn_invalid", msg.DSN_MULTI_HOST.format(source=source), msg.FIX_DSN_FORM)
    fields = {name: parsed.pop(name) for name in FIELDS if name in parsed}
    parsed.pop("client_encoding", None)
    return fields, parsed, scheme


def parse_backend_url(text: str, origin: Source, environ: Mapping[str, str] | None = None,
                      ) -> tuple[dict[str, str], dict[str, str], str]:
    """DATABASE_URL as the backend's SQLAlchemy reads it (config/backend_url.py), split like parse_dsn:
    (fields, extra parameters, scheme). Raises UsageError(dsn_invalid) where the backend's create_engine
    raises or libpq refuses every connection; the message never contains the URL."""
    from setup_wizard.config.backend_url import EngineError, engine_params, libpq_refusal

    source = origin.describe()
    try:
        found = engine_params(text, check_scheme=False)
    except EngineError as exc:
        reason = msg.DSN_BAD_PORT if exc.reason == "port" else msg.DSN_UNPARSABLE
        raise problems.error("dsn_invalid", reason.format(source=source), msg.FIX_DSN_FORM) from exc
    if libpq_refusal(found.params, environ or {}) is not None:
        raise problems.error("dsn_invalid", msg.DSN_LIBPQ_REFUSES.format(source=source), msg.FIX_DSN_FORM)
    if not found.scheme.lower().startswith("postgres"):
        raise problems.error("dsn_invalid", msg.DSN_BAD_SCHEME.format(source=source), msg.FIX_DSN_FORM)
    params = dict(found.params)
    fields = {name: params.pop(name) for name in FIELDS if name in params}
    return fields, params, found.scheme


def _parse_url(text: str, origin: Source, environ: Mapping[str, str],
               ) -> tuple[dict[str, str], dict[str, str], str]:
    """--dsn is the wizard's own (a libpq URL or key=value string); DATABASE_URL is the backend's."""
    if origin.kind is SourceKind.DSN:
        return parse_dsn(text, origin)
    return parse_backend_url(text, origin, environ)


def _check_port(value: str, source: Source) -> None:
    if not (value.isdigit() and 0 < int(value) < 65536):
        raise problems.error("dsn_invalid", msg.PORT_NOT_NUMBER.format(source=source.describe()), msg.FIX_PORT)


def find_key(values: Mapping[str, str] | None, name: str) -> tuple[str, str] | None:
    """(key as written, value) of `name` in any letter case, the last one winning, as pydantic-settings
    reads both the environment and the .env file (case_sensitive=False)."""
    found = None
    for key, value in (values or {}).items():
        if key.lower() == name.lower():
            found = (key, value)
    return found


def os_login_name(environ: Mapping[str, str]) -> str:
    """The user name libpq uses when neither the URL nor PGUSER gives one: the operating-system login."""
    import getpass
    import os

    try:
        if running_platform().is_windows:
            return getpass.getuser()
        import pwd

        # libpq asks the password database for the effective uid, not $USER.
        return str(pwd.getpwuid(os.geteuid()).pw_name)  # type: ignore[attr-defined,unused-ignore]
    except (KeyError, OSError, ImportError):  # no passwd entry (containers)
        return environ.get("USER") or environ.get("USERNAME") or "postgres"


@record(frozen=False)
class _Merge:
    """Values offered in rank order: the first one for a field wins, a later different one is a conflict."""

    values: dict[str, Value] = field(default_factory=dict)
    extra: dict[str, Value] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    def offer(self, name: str, value: str | None, source: Source, check: bool = True, empty: bool = False) -> None:
        """`empty`: an empty value counts, as libpq counts a parameter given empty (no PG* variable then)."""
        if value is None or (value == "" and not empty):
            return
        if name == "port" and check and name not in self.values:
            _check_port(value, source)
        if name in self.values:
            if source.kind not in (SourceKind.DEFAULT, SourceKind.LIBPQ_DEFAULT) and self.values[name].value != value:
                self.conflicts.append(Conflict(name, self.values[name].source, source))
            return
        self.values[name] = Value(value, source)

    def offer_extra(self, key: str, value: str, source: Source) -> None:
        if key in self.extra:
            if self.extra[key].value != value:
                self.conflicts.append(Conflict(key, self.extra[key].source, source))
            return
        self.extra[key] = Value(value, source)

    def lose(self, name: str, value: str, loser: Source, fallback_winner: Source, extra: bool = False) -> None:
        """A value that fills nothing: a conflict when it differs from what won."""
        table = self.extra if extra else self.values
        if name in table and table[name].value == value:
            return
        self.conflicts.append(Conflict(name, table[name].source if name in table else fallback_winner, loser))

    def libpq_environment(self, environ: Mapping[str, str], check: bool = True) -> None:
        """PG* variables; check=False: their ports are libpq's to judge (PGHOST=a,b with PGPORT=1,2)."""
        for name, key in LIBPQ_ENV_KEYS.items():
            self.offer(name, environ.get(key), environ_source(key), check=check)
        for key, param in LIBPQ_ENV_PARAMS.items():
            if environ.get(key):
                self.offer_extra(param, environ[key], environ_source(key))


def backend_database_url(environ: Mapping[str, str], env_values: Mapping[str, str] | None,
                         windows: bool = running_platform().is_windows) -> tuple[str, Source] | None:
    """The DATABASE_URL the backend's Settings get, and where it comes from: load_dotenv adds the file's
    keys the environment does not have (by exact name; on Windows in any case), then pydantic-settings
    lower-cases every name and the last one wins. So `database_url` in the file beats `DATABASE_URL` in a
    POSIX environment (it is added after it), while the same name in the environment beats the file."""
    merged: dict[str, tuple[str, Source]] = {key: (value, environ_source(key)) for key, value in environ.items()}
    present = {key.upper() for key in merged} if windows else set(merged)
    for key, value in (env_values or {}).items():
        name = key.upper() if windows else key
        if name not in present:
            merged[name] = (value, env_file_source(key))
            present.add(name)
    return {key.lower(): item for key, item in merged.items()}.get("database_url")


def _urls(dsn: str | None, environ: Mapping[str, str],
          env_values: Mapping[str, str] | None) -> list[tuple[str, Source]]:
    """Every URL, highest rank first: --dsn, the backend's DATABASE_URL (backend_database_url), then
    the other of the environment's and the file's."""
    if dsn is not None and not dsn.strip():
        raise problems.error("dsn_invalid", msg.DSN_EMPTY, msg.FIX_DSN_FORM)
    urls: list[tuple[str, Source]] = []
    if dsn is not None:
        urls.append((dsn, DSN))
    candidates = []
    chosen = backend_database_url(environ, env_values)
    if chosen is not None:
        candidates.append(chosen)
    env_url = find_key(environ, "DATABASE_URL")
    if env_url:
        candidates.append((env_url[1], environ_source(env_url[0])))
    file_url = find_key(env_values, "DATABASE_URL")
    if file_url:
        candidates.append((file_url[1], env_file_source(file_url[0])))
    for text, source in candidates:
        if text.strip() and all(source != seen for _t, seen in urls):
            urls.append((text, source))
    return urls


def _merge_url(merge: _Merge, urls: list[tuple[str, Source]], environ: Mapping[str, str],
               env_values: Mapping[str, str] | None, login_name: str | None) -> str:
    """The backend's way: one URL, libpq's PG* and defaults for what it leaves out; the rest conflicts."""
    text, origin = urls[0]
    fields, params, scheme = _parse_url(text, origin, environ)
    for name in FIELDS:
        # A DATABASE_URL's ports are libpq's to judge (a list for several hosts), as parse_backend_url did.
        # An empty host (`?host=:5432`) is given to libpq as such: the default socket, not PGHOST.
        merge.offer(name, fields.get(name), origin, check=origin.kind is SourceKind.DSN,
                    empty=origin.kind is not SourceKind.DSN)
    for key, val in params.items():
        merge.offer_extra(key, val, origin)
    merge.libpq_environment(environ, check=origin.kind is SourceKind.DSN)
    # POSTGRES_* keys: the backend's engines never read them (the checkpointer only without a URL).
    for name, key in ENV_FILE_KEYS.items():
        found = find_key(env_values, key)
        if found and found[1]:
            merge.lose(name, found[1], env_file_source(found[0]), origin)
    # libpq's own defaults. The host stays libpq's choice (the local socket on Linux and macOS).
    merge.offer("host", BACKEND_DEFAULTS["host"], libpq_default("host"))
    merge.offer("port", BACKEND_DEFAULTS["port"], libpq_default("port"))
    if "user" not in merge.values:  # libpq's default, asked of the system only when nothing gave one
        merge.offer("user", login_name or os_login_name(environ), libpq_default("user"))
    merge.offer("dbname", merge.values["user"].value, libpq_default("dbname"))
    # Other URLs (the file's under the environment's, either under --dsn) fill nothing.
    for other_text, other in urls[1:]:
        try:
            other_fields, other_params, _ = _parse_url(other_text, other, environ)
        except UsageError:
            continue  # a URL the backend does not use; config/backend.py names it if it matters
        for name, val in other_fields.items():
            merge.lose(name, val, other, origin)
        for key, val in other_params.items():
            merge.lose(key, val, other, origin, extra=True)
    return scheme


def load_settings(
    dsn: str | None,
    environ: Mapping[str, str],
    env_values: Mapping[str, str] | None,
    env_path: Path | None,
    *,
    login_name: str | None = None,
) -> Settings:
    """Merge every source into one Settings by the backend's rules (see the module's docstring).

    `login_name` stands in for libpq's default user (the OS login) in tests.
    """
    merge = _Merge()
    scheme = "postgresql+psycopg"
    urls = _urls(dsn, environ, env_values)
    if urls:
        scheme = _merge_url(merge, urls, environ, env_values, login_name)
    else:
        # No URL anywhere: what the wizard would write as DATABASE_URL (see envwrite.planned_changes).
        merge.libpq_environment(environ)
        for name, key in ENV_FILE_KEYS.items():
            found = find_key(env_values, key)
            merge.offer(name, found[1] if found else None, env_file_source(found[0] if found else key))
        for name, default in BACKEND_DEFAULTS.items():
            merge.offer(name, default, DEFAULT)
    return Settings(
        values=merge.values,
        extra=merge.extra,
        env_file=env_path,
        url_scheme=scheme,
        conflicts=tuple(merge.conflicts),
        libpq_environ=libpq_variables(environ),
    )
