"""Connection settings as data: each value remembers its `Source` (a kind such as dsn, environment,
env-file or default, plus the key), the same setting given in two places is a `Conflict`, and
`redacted()` is the only way a setting is ever shown. Korean text is made from a source only when drawn.

How the sources are ranked and merged into one `Settings` (the backend's way) is config/load.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from setup_wizard.messages import settings as msg
from setup_wizard.record import record, replace

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
    """Where a setting came from; Korean text is made from it only when drawn (Source.describe)."""

    DSN = "dsn"  # --dsn
    ENVIRON = "environment"  # a process environment variable (key: its name)
    ENV_FILE = "env-file"  # a key of the .env file (key: its name)
    DEFAULT = "default"  # the backend's own default
    TYPED = "typed"  # typed by the person in the wizard
    LIBPQ_DEFAULT = "libpq-default"  # what libpq uses when the URL and PG* leave it out (key: field)


@record(eq=True)
class Source:
    """Where one setting's value came from (its kind, and the variable or key when there is one)."""

    kind: SourceKind
    key: str | None = None  # the variable or .env key, when there is one

    def describe(self) -> str:
        """This origin as a person reads it."""
        if self.kind == SourceKind.DSN:
            return msg.SOURCE_DSN
        if self.kind == SourceKind.ENVIRON:
            return msg.SOURCE_ENVIRON.format(key=self.key)
        if self.kind == SourceKind.ENV_FILE:
            return msg.SOURCE_ENV_FILE.format(key=self.key)
        if self.kind == SourceKind.TYPED:
            return msg.SOURCE_TYPED
        if self.kind == SourceKind.LIBPQ_DEFAULT:
            return msg.SOURCE_LIBPQ_DEFAULT_DBNAME if self.key == "dbname" else msg.SOURCE_LIBPQ_DEFAULT
        return msg.SOURCE_DEFAULT

    @property
    def outside_env_file(self) -> bool:
        """--dsn or the environment: values that make a missing .env file fine."""
        return self.kind in (SourceKind.DSN, SourceKind.ENVIRON)


DSN = Source(SourceKind.DSN)
DEFAULT = Source(SourceKind.DEFAULT)
TYPED = Source(SourceKind.TYPED)


def libpq_default(name: str) -> Source:
    return Source(SourceKind.LIBPQ_DEFAULT, name)


def environ_source(key: str) -> Source:
    return Source(SourceKind.ENVIRON, key)


def env_file_source(key: str) -> Source:
    return Source(SourceKind.ENV_FILE, key)


@record
class Value:
    value: str
    source: Source


@record
class Conflict:
    """The same setting given in two places: which one wins, and which is ignored."""

    field: str  # one of FIELDS, or a connection parameter such as sslmode
    winner: Source
    loser: Source

    def describe(self) -> str:
        name = msg.FIELD_NAMES.get(self.field, self.field)
        return msg.CONFLICT.format(field=name, winner=self.winner.describe(), loser=self.loser.describe())


@record
class Settings:
    values: Mapping[str, Value]
    # sslmode, connect_timeout and other connection parameters, from the URL or PG* variables
    extra: Mapping[str, Value] = field(default_factory=dict)
    env_file: Path | None = None
    url_scheme: str = "postgresql+psycopg"  # the scheme to keep when DATABASE_URL is written back
    conflicts: tuple[Conflict, ...] = ()
    # The variables libpq itself reads (PG*, HOME, APPDATA) of the environment these settings were loaded
    # from: every connection runs with exactly these (config/libpq_env.py).
    libpq_environ: Mapping[str, str] = field(default_factory=dict)

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
        """The (first) host: a DATABASE_URL may list several (host=a,b,c), which libpq tries in order."""
        return self.hosts[0]

    @property
    def port(self) -> int:
        """The port of the first host (libpq's default for an empty one)."""
        first = (self.get("port") or "").split(",")[0].strip()
        return int(first) if first.isdigit() else int(BACKEND_DEFAULTS["port"])

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple((self.get("host") or BACKEND_DEFAULTS["host"]).split(","))

    @property
    def multi_host(self) -> bool:
        return "," in (self.get("host") or "") or "," in (self.get("port") or "")

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

    def conninfo_params(self, dbname: str | None = None, **fallback: Any) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect (the password never goes on a command line).

        `fallback` (e.g. connect_timeout) applies only where the URL or PG* set nothing: passing it
        beside these parameters would give psycopg the same keyword twice.
        """
        params: dict[str, Any] = dict(fallback)
        params.update({key: item.value for key, item in self.extra.items()})
        # Host and port as the backend hands them to libpq: a list of hosts, a port each, stays a list.
        params.update(port=self.get("port") or self.port, user=self.user, dbname=dbname or self.dbname)
        if self.source("host") != libpq_default("host"):
            # Left out, libpq picks its own default (the local socket), as it does for the backend.
            given = self.get("host")
            params["host"] = given if given is not None else self.host
        if self.password is not None:
            params["password"] = self.password
        # PGCLIENTENCODING in the environment would otherwise change what psycopg decodes (a
        # client_encoding in the URL is the backend's too, and kept).
        params.setdefault("client_encoding", "UTF8")
        return params

    def url(self, scheme: str | None = None) -> str:
        """The DATABASE_URL form the backend expects, with the password percent-encoded."""
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        if self.multi_host:  # SQLAlchemy's multi-host form, which its psycopg dialect hands libpq as a list
            query = "?" + urlencode({"host": self.get("host") or "", "port": self.get("port") or ""}, safe=",/")
            return f"{scheme or self.url_scheme}://{auth}@/{quote(self.dbname, safe='')}{query}"
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
        if self.multi_host:
            return f"{self.url_scheme}://{self.user}:***@/{self.dbname}?host={self.get('host')}&port={self.get('port')}"
        return f"{self.url_scheme}://{self.user}:***@{self.host}:{self.port}/{self.dbname}"

