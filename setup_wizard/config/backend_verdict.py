"""The backend's verdict on its settings, as data: the problem codes, `Problem`, `Other` and `BackendView`.

Each problem code has a catalogue entry (problems.catalogue()) with its Korean title, cause and fix; the
checklist items are made in config/steps.py, the fixes in config/envfix.py. `redact_url` is how a URL
the backend uses is shown. config/backend.py works the verdict out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from setup_wizard.config.backend_layout import Layout
from setup_wizard.config.settings import Source
from setup_wizard.record import record

BACKEND_SCHEME = "postgresql+psycopg"

# Problem codes; each has a catalogue entry (problems.catalogue()) with its Korean title, cause and fix.
ENV_NOT_UTF8 = "backend_env_encoding"  # UTF-16, CP949 ...: the backend stops with UnicodeDecodeError
ENV_BOM = "backend_env_bom"  # a UTF-8 BOM glued to the first line's key, which was DATABASE_URL
ENV_OUTSIDE = "backend_env_outside"  # a .env at the project root, none in backend/
URL_MISSING = "backend_url_missing"  # no DATABASE_URL for the backend (only POSTGRES_*, or nothing)
URL_EMPTY_ENVIRON = "backend_url_empty_environ"  # DATABASE_URL= in the environment hides the file's
URL_SCHEME = "backend_url_scheme"  # anything but postgresql+psycopg://
URL_INVALID = "backend_url_invalid"  # create_engine raises: unparsable, an empty or non-numeric port ...
URL_REJECTED = "backend_url_rejected"  # the backend starts, libpq refuses the parameters of every connection
PASSWORD_ONLY_IN_KEYS = "backend_password_only_in_keys"  # URL without password, POSTGRES_PASSWORD set
# Not failures: the backend starts, but somewhere the wizard must name.
URL_FROM_ENVIRON = "backend_url_from_environ"  # the environment's DATABASE_URL beats the file's
URL_NO_DBNAME = "backend_url_no_dbname"  # libpq's default database: the user's name
DSN_ELSEWHERE = "backend_dsn_elsewhere"  # --dsn points somewhere the backend does not go

FATAL = frozenset({ENV_NOT_UTF8, ENV_BOM, ENV_OUTSIDE, URL_MISSING, URL_EMPTY_ENVIRON, URL_SCHEME,
                   URL_INVALID, URL_REJECTED, PASSWORD_ONLY_IN_KEYS})

# A pattern, compiled by `re` on first use (its cache): most runs never use it (issue 20, "Speed").
_SCHEME = r"^\s*([A-Za-z][A-Za-z0-9_+.\-]*)://"


def scheme_of(url: str) -> str | None:
    match = re.match(_SCHEME, url)
    return match.group(1) if match else None


@record
class Problem:
    code: str
    # Plain values for the Korean text (paths, keys, schemes); never a password.
    args: Mapping[str, str] = field(default_factory=dict)
    source: Source | None = None  # the setting the problem is about, drawn by Source.describe()

    @property
    def fatal(self) -> bool:
        return self.code in FATAL


@record
class Other:
    """A value the wizard also sees that the backend does not use for this URL."""

    name: str  # DATABASE_URL, a POSTGRES_* key, a PG* variable
    source: Source
    path: Path | None = None  # for values from a file other than backend/.env


@record
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
