"""Reading .env files as Windows writes them (pure functions on real files)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from setup_wizard.config.envfile import default_env_path, read_env_file
from setup_wizard.errors import UsageError

CONTENT = (
    "# backend settings\n"
    "SECRET_KEY=abc\n"
    "DATABASE_URL=postgresql+psycopg://postgres:pw%40x@localhost:5433/real_estate\n"
    "MONGODB_URL=mongodb://localhost:27017\n"
    "TITLE=\"부동산 챗봇\"\n"
)


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (CONTENT.encode("utf-8"), "utf-8"),
        (CONTENT.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CONTENT.replace("\n", "\r\n").encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + CONTENT.replace("\n", "\r\n").encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + CONTENT.encode("utf-16-be"), "utf-16"),
        (CONTENT.encode("utf-16-le"), "utf-16-le"),
        (CONTENT.replace("\n", "\r\n").encode("cp949"), "cp949"),
    ],
    ids=["utf8", "crlf", "bom-crlf", "utf16le-powershell", "utf16be", "utf16-no-bom", "cp949"],
)
def test_every_windows_encoding_is_read(tmp_path: Path, raw: bytes, encoding: str) -> None:
    path = tmp_path / ".env"
    path.write_bytes(raw)
    env = read_env_file(path)
    assert env.encoding == encoding
    assert env.values["DATABASE_URL"] == "postgresql+psycopg://postgres:pw%40x@localhost:5433/real_estate"
    assert env.values["TITLE"] == "부동산 챗봇"
    assert env.values["SECRET_KEY"] == "abc"
    assert env.bad_lines == ()


def test_unparsable_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("GOOD=1\nthis line is \"broken\n'also\nPOSTGRES_DB=x\n", encoding="utf-8")
    env = read_env_file(path)
    assert env.values["GOOD"] == "1"
    assert env.bad_lines


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_env_file(tmp_path / "nope.env")
    assert caught.value.code == "env_file_invalid"


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_env_file(tmp_path)
    assert caught.value.code == "env_file_invalid"


def test_binary_garbage_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\x00\x01\xff\xfe\x00garbage\x00\x80\x81")
    with pytest.raises(UsageError) as caught:
        read_env_file(path)
    assert caught.value.code == "env_file_invalid"


def test_default_path_prefers_backend_env(tmp_path: Path) -> None:
    assert default_env_path(tmp_path) is None
    (tmp_path / ".env").write_text("A=1\n")
    assert default_env_path(tmp_path) == tmp_path / ".env"
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / ".env").write_text("A=2\n")
    assert default_env_path(tmp_path) == tmp_path / "backend" / ".env"
