"""Connection settings: every source merged in one ranked place, each value remembering its origin.

Precedence (highest first): `--dsn`, then the environment (`DATABASE_URL`, then `PG*`), then the .env
file (`DATABASE_URL`, then `POSTGRES_*`), then the backend's own defaults. Parsing goes through
psycopg's `conninfo`; the only way a setting is ever shown is `redacted()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from setup_wizard import messages as msg
from setup_wizard.errors import UsageError

FIELDS = ("host", "port", "user", "password", "dbname")

# The backend's defaults for its POSTGRES_* settings.
BACKEND_DEFAULTS = {
    "host": "localhost",
    "port": "5432",
    "user": "postgres",
    "password": "root1234",
    "dbname": "real_estate",
}

ENV_FILE_KEYS = {
    "host": "POSTGRES_HOST",
    "port": "POSTGRES_PORT",
    "user": "POSTGRES_USER",
    "password": "POSTGRES_PASSWORD",
    "dbname": "POSTGRES_DB",
}

LIBPQ_ENV_KEYS = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
}

# SQLAlchemy driver suffixes the backend may carry: postgresql+psycopg://, +asyncpg, +psycopg2 ...
_SCHEME = re.compile(r"^(postgres(?:ql)?)(\+[A-Za-z0-9_]+)?://", re.IGNORECASE)


# Every libpq environment variable that changes where or how the connection goes, and the
# connection parameter it stands for. libpq would read them from the process environment behind our
# back; instead they are settings like the others, with their source, passed explicitly.
LIBPQ_ENV_PARAMS = {
    "PGHOSTADDR": "hostaddr",
    "PGSERVICE": "service",
    "PGOPTIONS": "options",
    "PGAPPNAME": "application_name",
    "PGSSLMODE": "sslmode",
    "PGSSLCERT": "sslcert",
    "PGSSLKEY": "sslkey",
    "PGSSLROOTCERT": "sslrootcert",
    "PGSSLCRL": "sslcrl",
    "PGREQUIREPEER": "requirepeer",
    "PGGSSENCMODE": "gssencmode",
    "PGKRBSRVNAME": "krbsrvname",
    "PGCONNECT_TIMEOUT": "connect_timeout",
    "PGTARGETSESSIONATTRS": "target_session_attrs",
    "PGPASSFILE": "passfile",
    "PGCHANNELBINDING": "channel_binding",
    "PGSSLNEGOTIATION": "sslnegotiation",
}


class SourceKind(str, Enum):
    """Where a setting came from; Korean text is made from it only when drawn (messages.describe_source)."""

    DSN = "dsn"  # --dsn
    ENVIRON = "environment"  # a process environment variable (key: its name)
    ENV_FILE = "env-file"  # a key of the .env file (key: its name)
    DEFAULT = "default"  # the backend's own default
    TYPED = "typed"  # typed by the person in the wizard


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    key: str | None = None  # the variable or .env key, when there is one

    def describe(self) -> str:
        return msg.describe_source(self.kind.value, self.key)

    @property
    def outside_env_file(self) -> bool:
        """--dsn or the environment: values that make a missing .env file fine."""
        return self.kind in (SourceKind.DSN, SourceKind.ENVIRON)


DSN = Source(SourceKind.DSN)
DEFAULT = Source(SourceKind.DEFAULT)
TYPED = Source(SourceKind.TYPED)


def environ_source(key: str) -> Source:
    return Source(SourceKind.ENVIRON, key)


def env_file_source(key: str) -> Source:
    return Source(SourceKind.ENV_FILE, key)


@dataclass(frozen=True)
class Value:
    value: str
    source: Source


@dataclass(frozen=True)
class Conflict:
    """The same setting given in two places: which one wins, and which is ignored."""

    field: str  # one of FIELDS, or a connection parameter such as sslmode
    winner: Source
    loser: Source

    def describe(self) -> str:
        name = msg.FIELD_NAMES.get(self.field, self.field)
        return msg.CONFLICT.format(field=name, winner=self.winner.describe(), loser=self.loser.describe())


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Value]
    # sslmode, connect_timeout and other connection parameters, from the URL or PG* variables
    extra: Mapping[str, Value] = field(default_factory=dict)
    env_file: Path | None = None
    url_scheme: str = "postgresql+psycopg"  # the scheme to keep when DATABASE_URL is written back
    conflicts: tuple[Conflict, ...] = ()

    def get(self, name: str) -> str | None:
        item = self.values.get(name)
        return item.value if item else None

    def source(self, name: str) -> Source | None:
        item = self.values.get(name)
        return item.source if item else None

    def source_text(self, name: str) -> str:
        """Where a field came from, in Korean, for drawing."""
        item = self.values.get(name)
        return item.source.describe() if item else msg.NOT_SET

    def from_outside_env_file(self) -> bool:
        """Did any connection setting come from --dsn or the environment (so a missing .env is fine)?"""
        return any(item.source.outside_env_file for item in self.values.values())

    def all_defaults(self, names: tuple[str, ...] = ("host", "port", "user", "dbname")) -> bool:
        return all(self.source(name) in (None, DEFAULT) for name in names)

    @property
    def host(self) -> str:
        return self.get("host") or BACKEND_DEFAULTS["host"]

    @property
    def port(self) -> int:
        return int(self.get("port") or BACKEND_DEFAULTS["port"])

    @property
    def user(self) -> str:
        return self.get("user") or BACKEND_DEFAULTS["user"]

    @property
    def dbname(self) -> str:
        return self.get("dbname") or BACKEND_DEFAULTS["dbname"]

    @property
    def password(self) -> str | None:
        return self.get("password")

    def with_value(self, name: str, value: str, source: Source = TYPED) -> Settings:
        values = dict(self.values)
        values[name] = Value(value, source)
        return replace(self, values=values)

    def conninfo_params(self, dbname: str | None = None) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect (the password never goes on a command line)."""
        params: dict[str, Any] = {key: item.value for key, item in self.extra.items()}
        params.update(host=self.host, port=self.port, user=self.user, dbname=dbname or self.dbname)
        if self.password is not None:
            params["password"] = self.password
        # PGCLIENTENCODING in the environment would otherwise change what psycopg decodes.
        params["client_encoding"] = "UTF8"
        return params

    def url(self, scheme: str | None = None) -> str:
        """The DATABASE_URL form the backend expects, with the password percent-encoded."""
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme or self.url_scheme}://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}"

    def redacted(self) -> dict[str, str]:
        """What may be shown: every value, the password replaced by a mask."""
        shown: dict[str, str] = {}
        for name in FIELDS:
            value = self.get(name)
            if name == "password":
                shown[name] = "********" if value else msg.NOT_SET
            else:
                shown[name] = value if value is not None else BACKEND_DEFAULTS[name]
        return shown

    def redacted_url(self) -> str:
        return f"{self.url_scheme}://{self.user}:***@{self.host}:{self.port}/{self.dbname}"


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
            raise UsageError("dsn_invalid", msg.DSN_UNENCODED_AT.format(source=source), msg.FIX_DSN_ENCODE)
    elif "://" in raw:
        raise UsageError("dsn_invalid", msg.DSN_BAD_SCHEME.format(source=source), msg.FIX_DSN_FORM)
    elif "=" not in raw:
        raise UsageError("dsn_invalid", msg.DSN_UNPARSABLE.format(source=source), msg.FIX_DSN_FORM)
    try:
        parsed = {k: str(v) for k, v in conninfo_to_dict(raw).items() if v is not None}
    except ProgrammingError as exc:
        raise UsageError("dsn_invalid", msg.DSN_UNPARSABLE.format(source=source), msg.FIX_DSN_FORM) from exc
    port = parsed.get("port")
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise UsageError("dsn_invalid", msg.DSN_BAD_PORT.format(source=source), msg.FIX_DSN_FORM)
    if "," in parsed.get("host", ""):
        raise UsageError("dsn_invalid", msg.DSN_MULTI_HOST.format(source=source), msg.FIX_DSN_FORM)
    fields = {name: parsed.pop(name) for name in FIELDS if name in parsed}
    parsed.pop("client_encoding", None)
    return fields, parsed, scheme


def _check_port(value: str, source: Source) -> None:
    if not (value.isdigit() and 0 < int(value) < 65536):
        raise UsageError("dsn_invalid", msg.PORT_NOT_NUMBER.format(source=source.describe()), msg.FIX_PORT)


def load_settings(
    dsn: str | None,
    environ: Mapping[str, str],
    env_values: Mapping[str, str] | None,
    env_path: Path | None,
) -> Settings:
    """Merge every source into one Settings, highest precedence first."""
    values: dict[str, Value] = {}
    extra: dict[str, Value] = {}
    scheme = "postgresql+psycopg"
    seen_url = False
    conflicts: list[Conflict] = []

    def offer(name: str, value: str | None, source: Source) -> None:
        if value is None or value == "":
            return
        if name == "port":
            _check_port(value, source)
        if name in values:
            if source != DEFAULT and values[name].value != value:
                conflicts.append(Conflict(name, values[name].source, source))
            return
        values[name] = Value(value, source)

    def offer_extra(key: str, value: str, source: Source) -> None:
        if key in extra:
            if extra[key].value != value:
                conflicts.append(Conflict(key, extra[key].source, source))
            return
        extra[key] = Value(value, source)

    def offer_url(text: str, source: Source) -> None:
        nonlocal scheme, seen_url
        fields, params, url_scheme = parse_dsn(text, source)
        if not seen_url:
            scheme = url_scheme
            for key, val in params.items():
                offer_extra(key, val, source)
        seen_url = True
        for name in FIELDS:
            offer(name, fields.get(name), source)

    if dsn is not None:
        if not dsn.strip():
            raise UsageError("dsn_invalid", msg.DSN_EMPTY, msg.FIX_DSN_FORM)
        offer_url(dsn, DSN)
    if environ.get("DATABASE_URL"):
        offer_url(environ["DATABASE_URL"], environ_source("DATABASE_URL"))
    for name, key in LIBPQ_ENV_KEYS.items():
        offer(name, environ.get(key), environ_source(key))
    for key, param in LIBPQ_ENV_PARAMS.items():
        if environ.get(key):
            offer_extra(param, environ[key], environ_source(key))
    if env_values is not None:
        if env_values.get("DATABASE_URL"):
            offer_url(env_values["DATABASE_URL"], env_file_source("DATABASE_URL"))
        for name, key in ENV_FILE_KEYS.items():
            offer(name, env_values.get(key), env_file_source(key))
    for name, default in BACKEND_DEFAULTS.items():
        # A DATABASE_URL without a password means "no password", as it does for the backend.
        if name == "password" and seen_url:
            continue
        offer(name, default, DEFAULT)
    return Settings(
        values=values,
        extra=extra,
        env_file=env_path,
        url_scheme=scheme,
        conflicts=tuple(conflicts),
    )
