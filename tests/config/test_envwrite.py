"""Saving typed settings into .env: every other byte kept, in the file's own encoding (real files)."""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from setup_wizard.config.backups import Backups
from setup_wizard.config.envfile import read_env_file
from setup_wizard.config.envwrite import EnvChange, apply_changes, planned_changes, save_env, target_path
from setup_wizard.config.load import load_settings

HARD = "p@ss#:/? 한글 '\"$x\\"
URL_NO_PASSWORD = "postgresql+psycopg://postgres@localhost:5433/real_estate?sslmode=prefer"

ORIGINAL = (
    "# backend settings\n"
    "SECRET_KEY=abc  # keep me\n"
    "\n"
    f"export DATABASE_URL={URL_NO_PASSWORD}   # the database\n"
    "MONGODB_URL='mongodb://localhost:27017'\n"
    "TITLE=\"부동산 챗봇\"\n"
)


def typed_password(file_values: dict[str, str]) -> list[EnvChange]:
    settings = load_settings(None, {}, file_values, None).with_value("password", HARD)
    return planned_changes(settings, {"password"}, file_values)


def test_password_goes_into_database_url_and_nothing_else_moves(tmp_path: Path, backups: Backups) -> None:
    path = tmp_path / ".env"
    path.write_text(ORIGINAL, encoding="utf-8")
    changes = typed_password(read_env_file(path).values)
    assert [c.key for c in changes] == ["DATABASE_URL"]
    assert HARD not in changes[0].shown and quote(HARD, safe="") not in changes[0].shown
    result = save_env(path, changes, backups=backups)
    new_lines = path.read_text(encoding="utf-8").splitlines()
    old_lines = ORIGINAL.splitlines()
    assert len(new_lines) == len(old_lines)
    for index, (old, new) in enumerate(zip(old_lines, new_lines, strict=True)):
        if index == 3:
            assert new == (f"export DATABASE_URL=postgresql+psycopg://postgres:{quote(HARD, safe='')}"
                           "@localhost:5433/real_estate?sslmode=prefer   # the database")
        else:
            assert new == old
    assert read_env_file(path).values["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert load_settings(None, {}, read_env_file(path).values, None).password == HARD
    assert result.backup is not None and result.backup.parent.parent == backups.folder
    assert result.backup.read_text(encoding="utf-8") == ORIGINAL
    assert result.backup.stat().st_mode & 0o777 == 0o600
    # Nothing beside the file: no backup, no temporary file left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_second_save_keeps_the_first_backup(tmp_path: Path, backups: Backups) -> None:
    path = tmp_path / ".env"
    path.write_text(ORIGINAL, encoding="utf-8")
    first = save_env(path, typed_password(read_env_file(path).values), now=datetime(2025, 1, 2, 3, 4, 5),
                     backups=backups)
    second = save_env(path, [EnvChange("POSTGRES_DB", "other", "other")], now=datetime(2025, 1, 2, 3, 4, 5),
                      backups=backups)
    assert first.backup is not None and first.backup.name == "env-20250102-030405.bak"
    assert second.backup is not None and second.backup.name == "env-20250102-030405-1.bak"
    assert first.backup.read_text(encoding="utf-8") == ORIGINAL
    assert backups.kept == [first.backup, second.backup]


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [("utf-8", b"", "\r\n"), ("utf-8", codecs.BOM_UTF8, "\r\n"), ("utf-16-le", codecs.BOM_UTF16_LE, "\r\n"),
     ("utf-16-be", codecs.BOM_UTF16_BE, "\n"), ("cp949", b"", "\r\n")],
    ids=["utf8-crlf", "bom-crlf", "utf16le", "utf16be", "cp949"],
)
def test_encoding_bom_and_line_endings_are_kept(tmp_path: Path, encoding: str, bom: bytes, newline: str,
                                                backups: Backups) -> None:
    path = tmp_path / ".env"
    original = bom + ORIGINAL.replace("\n", newline).encode(encoding)
    path.write_bytes(original)
    save_env(path, typed_password(read_env_file(path).values), backups=backups)
    raw = path.read_bytes()
    assert raw.startswith(bom)
    text = raw[len(bom):].decode(encoding)
    assert text.count(newline) == ORIGINAL.count("\n")
    if newline == "\r\n":
        assert "\n" not in text.replace("\r\n", "")
    assert text.replace(newline, "\n").splitlines()[5] == "TITLE=\"부동산 챗봇\""
    assert load_settings(None, {}, read_env_file(path).values, None).password == HARD


def test_separate_keys_get_a_quoted_password_and_missing_keys_are_appended(tmp_path: Path, backups: Backups) -> None:
    path = tmp_path / ".env"
    path.write_text("POSTGRES_HOST=localhost\nPOSTGRES_PASSWORD=old # old one\nOTHER=1", encoding="utf-8")
    values = read_env_file(path).values
    settings = (load_settings(None, {}, values, None).with_value("password", HARD)
                .with_value("port", "5433"))
    changes = planned_changes(settings, {"password", "port"}, values)
    assert [c.key for c in changes] == ["POSTGRES_PORT", "POSTGRES_PASSWORD"]
    save_env(path, changes, backups=backups)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "POSTGRES_HOST=localhost"
    assert lines[1].startswith("POSTGRES_PASSWORD='") and lines[1].endswith("' # old one")
    assert lines[2:] == ["OTHER=1", "POSTGRES_PORT=5433", ""]
    reread = read_env_file(path).values
    assert reread["POSTGRES_PASSWORD"] == HARD and reread["POSTGRES_PORT"] == "5433" and reread["OTHER"] == "1"


def test_quote_styles_are_kept() -> None:
    text = "A=\"old\" # c\nB='x'\n"
    new = apply_changes(text, [EnvChange("A", "new", ""), EnvChange("B", "it's", "")])
    assert new == "A=\"new\" # c\nB='it\\'s'\n"


def test_missing_file_is_created_with_a_full_database_url(tmp_path: Path, backups: Backups) -> None:
    (tmp_path / "backend").mkdir()
    path = target_path(tmp_path, None)
    assert path == tmp_path / "backend" / ".env"
    settings = load_settings(None, {"PGPORT": "5433"}, None, None).with_value("password", HARD)
    result = save_env(path, planned_changes(settings, {"password"}, None), backups=backups)
    assert result.backup is None
    values = read_env_file(path).values
    assert list(values) == ["DATABASE_URL"]
    written = load_settings(None, {}, values, None)
    assert (written.password, written.port, written.url_scheme) == (HARD, 5433, "postgresql+psycopg")


def test_scheme_is_kept_as_written(tmp_path: Path) -> None:
    values = {"DATABASE_URL": "postgresql://postgres@localhost/real_estate"}
    changes = typed_password(values)
    assert changes[0].value.startswith("postgresql://postgres:")


def test_lower_case_database_url_is_the_line_rewritten(tmp_path: Path, backups: Backups) -> None:
    path = tmp_path / ".env"
    path.write_text("database_url=postgresql+psycopg://app@localhost:5433  # main\n", encoding="utf-8")
    values = read_env_file(path).values
    settings = load_settings(None, {}, values, None).with_value("password", HARD)
    changes = planned_changes(settings, {"password"}, values)
    assert [c.key for c in changes] == ["database_url"]
    save_env(path, changes, backups=backups)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("database_url=") and text.rstrip().endswith("# main") and "DATABASE_URL" not in text
    saved = load_settings(None, {}, read_env_file(path).values, None)
    # The database libpq used (the user's name) is kept, not replaced by real_estate.
    assert (saved.password, saved.port, saved.user, saved.dbname) == (HARD, 5433, "app", "app")
