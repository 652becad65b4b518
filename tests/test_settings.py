"""Settings: every accepted form, the precedence, and bad input explained (pure functions)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from setup_wizard.config.settings import (
    DEFAULT,
    DSN,
    env_file_source,
    environ_source,
    load_settings,
    parse_dsn,
)
from setup_wizard.errors import UsageError

HARD = "p@ss#:/? 한글"


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("postgresql://u:pw@db.example:6543/real_estate", "postgresql+psycopg"),
        ("postgres://u:pw@db.example:6543/real_estate", "postgresql+psycopg"),
        ("postgresql+psycopg://u:pw@db.example:6543/real_estate", "postgresql+psycopg"),
        ("postgresql+asyncpg://u:pw@db.example:6543/real_estate", "postgresql+asyncpg"),
        ("POSTGRESQL+PSYCOPG://u:pw@db.example:6543/real_estate", "postgresql+psycopg"),
    ],
)
def test_url_forms(url: str, scheme: str) -> None:
    s = load_settings(url, {}, None, None)
    assert (s.host, s.port, s.user, s.password, s.dbname) == ("db.example", 6543, "u", "pw", "real_estate")
    assert s.url_scheme == scheme
    assert s.source("host") == DSN


def test_percent_encoded_password_round_trips() -> None:
    url = f"postgresql+psycopg://postgres:{quote(HARD, safe='')}@localhost:5432/real_estate"
    s = load_settings(url, {}, None, None)
    assert s.password == HARD
    assert s.host == "localhost"
    assert s.url() == url
    assert load_settings(s.url(), {}, None, None).password == HARD


def test_separate_postgres_keys_and_defaults() -> None:
    s = load_settings(None, {}, {"POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "other"}, Path(".env"))
    assert (s.host, s.port, s.user, s.password, s.dbname) == ("localhost", 5432, "postgres", "pw", "other")
    assert s.source("host") == DEFAULT
    assert s.source("password") == env_file_source("POSTGRES_PASSWORD")


def test_backend_defaults_when_nothing_is_set() -> None:
    s = load_settings(None, {}, None, None)
    assert (s.host, s.port, s.user, s.password, s.dbname) == (
        "localhost", 5432, "postgres", "root1234", "real_estate")


def test_database_url_wins_over_postgres_keys_in_the_file() -> None:
    s = load_settings(
        None, {}, {"DATABASE_URL": "postgresql+psycopg://a:b@h:1/d", "POSTGRES_PASSWORD": "other"}, None
    )
    assert s.password == "b"
    assert s.source("password") == env_file_source("DATABASE_URL")
    assert any(c.loser == env_file_source("POSTGRES_PASSWORD") for c in s.conflicts)


def test_precedence_dsn_then_environment_then_file() -> None:
    file = {"DATABASE_URL": "postgresql://f:filepw@filehost:1/filedb"}
    environ = {"PGPASSWORD": "envpw", "PGHOST": "envhost"}
    s = load_settings("postgresql://d@dsnhost/dsndb", environ, file, None)
    assert s.host == "dsnhost" and s.dbname == "dsndb" and s.user == "d"
    assert s.password == "envpw" and s.source("password") == environ_source("PGPASSWORD")
    assert s.port == 1 and s.source("port") == env_file_source("DATABASE_URL")
    assert any(c.winner == environ_source("PGPASSWORD") for c in s.conflicts)


def test_url_without_password_has_no_default_password() -> None:
    s = load_settings(None, {}, {"DATABASE_URL": "postgresql://postgres@localhost/real_estate"}, None)
    assert s.password is None


def test_redacted_never_shows_the_password() -> None:
    s = load_settings(f"postgresql://u:{quote(HARD, safe='')}@h/d", {}, None, None)
    shown = str(s.redacted()) + s.redacted_url()
    assert HARD not in shown and quote(HARD, safe="") not in shown


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://postgres:p@ss@localhost:5432/real_estate",  # unencoded @
        "postgresql://localhost:abc/db",  # non-numeric port
        "postgresql://localhost:99999/db",  # port out of range
        "mysql://u:p@h/d",
        "nonsense",
        "   ",
        "host=a port=x",
    ],
)
def test_bad_dsn_is_a_usage_error_without_the_secret(dsn: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings(dsn, {}, None, None)
    assert caught.value.code == "dsn_invalid"
    assert caught.value.exit_code == 2
    assert "ss@" not in caught.value.detail
    assert caught.value.fix


def test_non_numeric_port_in_the_file_is_explained() -> None:
    with pytest.raises(UsageError) as caught:
        load_settings(None, {}, {"POSTGRES_PORT": "five"}, None)
    assert caught.value.code == "dsn_invalid"
    assert "POSTGRES_PORT" in caught.value.detail


def test_key_value_dsn() -> None:
    fields, extra, _scheme = parse_dsn("host=h port=5 user=u password='a b' dbname=d sslmode=disable", DSN)
    assert fields == {"host": "h", "port": "5", "user": "u", "password": "a b", "dbname": "d"}
    assert extra == {"sslmode": "disable"}


def test_libpq_variables_are_settings_with_their_source() -> None:
    """PGSSLMODE and friends reach libpq through the settings, shown with where they came from."""
    s = load_settings(None, {"PGSSLMODE": "require", "PGAPPNAME": "mine"}, None, None)
    assert s.extra["sslmode"].value == "require"
    assert s.extra["sslmode"].source == environ_source("PGSSLMODE")
    assert s.conninfo_params()["sslmode"] == "require"
    assert s.conninfo_params()["application_name"] == "mine"
    url = load_settings("postgresql://u@h/d?sslmode=disable", {"PGSSLMODE": "require"}, None, None)
    assert url.extra["sslmode"].value == "disable"
    assert [(c.field, c.winner, c.loser) for c in url.conflicts] == [("sslmode", DSN, environ_source("PGSSLMODE"))]
