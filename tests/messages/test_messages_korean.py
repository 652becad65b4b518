"""Every sentence a person reads is Korean: no English word outside commands, SQL, file names and names.

Scans every user-facing text in the messages package (plain strings, dict values, tuples, catalogue entries) and the
plan and notice sentences each sql/ file declares in its header.
Placeholders, quoted originals ("relation already exists") and tokens that are code by their shape
(paths, flags, identifiers, URLs: anything with / \\ . _ = @ - : or a digit) are left out; every other
English word must be one of the allowed names below.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType

from setup_wizard import messages
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.record import is_record, values

# argparse's own English messages, matched to translate them; never shown.
NOT_SHOWN = frozenset({"ARGPARSE_TRANSLATIONS"})
ALLOWED_NAMES = """
    PostgreSQL postgres postgresql psql libpq psycopg asyncpg SQLAlchemy LangGraph FastAPI Python python pip
    uvicorn app backend check run setup checkpoints sessions session users relevance email id type true max
    pid usename state public role root zip enum engine import from Base localhost start services install
    Windows windows linux darwin macOS Debian Ubuntu Homebrew brew Chocolatey Scoop EDB PGDG winget winpty
    mintty Git git Bash bash PowerShell cmd VS Code DBeaver pgAdmin Markdown JSON URL pull password
    UTF BOM ANSI BE LE UAC VPN FIFO SIGTERM PATH Path Env Program Files Password Generated Enter
    hot standby primary promote on
    options with without log copy cp rm mv ls chmod chown findstr netstat sudo systemctl apt cd set unset bin
    initdb add status icacls LOCALAPPDATA APPDATA USERPROFILE HOME
    server autostart off systemd grep ss lsof source update EnterpriseDB
    SQL SQLSTATE ALTER CASCADE CONNECTION CREATE CREATEDB DATABASE DELETE DISABLE DROP ENCODING FROM GRANT
    IN INSERT INTO LIMIT LOGIN NOT NULL ON OWNER PASSWORD RESET ROLE ROLLBACK SCHEMA SELECT SET TABLE TO
    TRIGGER UNIQUE USAGE USER VALID VALUES PG PGOPTIONS PGPASSWORD PGPORT setval UnicodeDecodeError
"""
ALLOWED = frozenset(ALLOWED_NAMES.split())
CODE_SHAPED = re.compile(r"[/\\._=@0-9*$%+<>:-]")


def message_sections() -> Iterator[ModuleType]:
    """Every module of the setup_wizard.messages package (one per section), imported."""
    for found in pkgutil.iter_modules(messages.__path__):
        yield importlib.import_module(f"{messages.__name__}.{found.name}")


def user_texts() -> Iterator[tuple[str, str]]:
    def walk(name: str, value: object) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(f"{name}[{key}]", item)
        elif isinstance(value, (tuple, list)):
            for number, item in enumerate(value):
                yield from walk(f"{name}[{number}]", item)
        elif is_record(value) and not isinstance(value, type):
            for field, item in values(value).items():
                yield from walk(f"{name}.{field}", item)

    for section in message_sections():
        for name in dir(section):
            if name.isupper() and name not in NOT_SHOWN:
                yield from walk(name, getattr(section, name))
    yield from declared_texts()


def declared_texts() -> Iterator[tuple[str, str]]:
    """What each migration declares in its header: its plan sentences and what its notices mean."""
    for migration in load_migrations():
        for number, case in enumerate(migration.plan):
            yield f"{migration.name} plan {number}", case.text
        for tag, text in migration.notices:
            yield f"{migration.name} notice {tag}", text


def english_words(text: str) -> list[str]:
    text = re.sub(r"\{[^}]*\}", " ", text)  # placeholders
    text = re.sub(r'"[^"]*"', " ", text)  # quoted originals and SQL identifiers
    words = []
    for token in re.split(r"[\s,;()\[\]'`「」→·]+", text):
        if not re.search(r"[A-Za-z]", token) or CODE_SHAPED.search(token):
            continue
        words += [word for word in re.findall(r"[A-Za-z]+", token) if len(word) >= 2]
    return words


def test_the_scan_finds_english_chrome() -> None:
    assert english_words("연결할 수 없습니다 (connection refused).") == ["connection", "refused"]
    assert english_words("찾은 곳: debian, Foreign Key 위반") == ["debian", "Foreign", "Key"]
    assert english_words('실행하세요: psql -h {host} -c "CREATE DATABASE x" (backend/.env)') == ["psql"]
    assert "psql" in ALLOWED and "refused" not in ALLOWED


def test_every_message_is_korean_outside_commands_sql_and_names() -> None:
    found = {(name, word) for name, text in user_texts() for word in english_words(text) if word not in ALLOWED}
    assert not found, sorted(found)
