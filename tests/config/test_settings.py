"""Settings: every accepted form, the precedence, and bad input explained (pure functions)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from setup_wizard.config.load import load_settings, parse_dsn
from setup_wizard.config.settings import (
    DEFAULT,
    DSN,
    env_file_source,
    environ_source,
    libpq_default,
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
    # The file's URL fills nothing under --dsn: libpq's default port, and the file's port a conflict.
    assert s.port == 5432 and s.source("port") == libpq_default("port")
    assert any(c.field == "port" and c.loser == env_file_source("DATABASE_URL") for c in s.conflicts)
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


# --- the backend's ranking (issue 9 section 1, issue 12) ---------------------------------------------

def test_environment_url_beats_the_file_and_the_file_url_is_a_conflict() -> None:
    file = {"DATABASE_URL": "postgresql+psycopg://f:filepw@filehost:1/filedb"}
    s = load_settings(None, {"DATABASE_URL": "postgresql+psycopg://e:envpw@envhost:2/envdb"}, file, None)
    assert (s.host, s.port, s.user, s.password, s.dbname) == ("envhost", 2, "e", "envpw", "envdb")
    assert s.source("host") == environ_source("DATABASE_URL")
    assert {c.field for c in s.conflicts if c.loser == env_file_source("DATABASE_URL")} == {
        "host", "port", "user", "password", "dbname"}


def test_lower_case_database_url_is_read_as_the_backend_reads_it() -> None:
    s = load_settings(None, {}, {"database_url": "postgresql+psycopg://u:pw@h:6/d"}, None)
    assert (s.host, s.port, s.dbname) == ("h", 6, "d")
    assert s.source("host") == env_file_source("database_url")


def test_pgport_fills_only_what_the_url_leaves_out() -> None:
    with_port = load_settings(None, {"PGPORT": "6000"}, {"DATABASE_URL": "postgresql+psycopg://u:p@h:5433/d"}, None)
    assert with_port.port == 5433
    assert any(c.field == "port" and c.loser == environ_source("PGPORT") for c in with_port.conflicts)
    without = load_settings(None, {"PGPORT": "6000"}, {"DATABASE_URL": "postgresql+psycopg://u:p@h/d"}, None)
    assert without.port == 6000 and without.source("port") == environ_source("PGPORT")


def test_postgres_password_never_fills_a_url_without_one() -> None:
    file = {"DATABASE_URL": "postgresql+psycopg://u@h:5433/d", "POSTGRES_PASSWORD": "pw"}
    s = load_settings(None, {}, file, None)
    assert s.password is None
    assert any(c.field == "password" and c.loser == env_file_source("POSTGRES_PASSWORD") for c in s.conflicts)
    assert load_settings(None, {"PGPASSWORD": "x"}, file, None).password == "x"


@pytest.mark.parametrize("url", ["postgresql+psycopg://app:pw@h:5433", "postgresql+psycopg://app:pw@h:5433/"])
def test_url_without_a_database_means_the_user_name(url: str) -> None:
    s = load_settings(None, {}, {"DATABASE_URL": url}, None)
    assert s.dbname == "app" and s.source("dbname") == libpq_default("dbname")
    assert load_settings(None, {"PGDATABASE": "pgdb"}, {"DATABASE_URL": url}, None).dbname == "pgdb"
    nobody = load_settings(None, {}, {"DATABASE_URL": "postgresql+psycopg://:pw@h/"}, None, login_name="minsu")
    assert (nobody.user, nobody.dbname) == ("minsu", "minsu")


def test_url_parameters_leave_our_defaults_out() -> None:
    s = load_settings("postgresql://u:p@h:1/d?connect_timeout=10&sslmode=require&options=-c%20x%3Dy", {}, None, None)
    params = s.conninfo_params(connect_timeout=5)
    assert params["connect_timeout"] == "10" and params["sslmode"] == "require" and params["options"] == "-c x=y"
    assert load_settings("postgresql://u:p@h:1/d", {}, None, None).conninfo_params(connect_timeout=5)[
        "connect_timeout"] == 5
