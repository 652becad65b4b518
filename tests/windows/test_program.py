"""`python.exe -m setup_wizard` itself, a Windows CPython 3.13 under Wine, code page 949 (Korean Windows),
against the Linux test server. Every byte it writes is decoded as CP949 and compared."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from harness import Wine
from support.codepage import cp949
from support.pgserver import TestServer as PgServer

from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import cli as cli_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import server as server_msg
from setup_wizard.messages import terminals as terminals_msg
from setup_wizard.problems import catalogue

NOISE = re.compile(r"Traceback|[Ww]arning|WARNING|unknown PostgreSQL timezone|Exception|Error:")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def utf8_json(raw: bytes) -> dict[str, object]:
    """--json is UTF-8 whatever the code page (render.write_json's contract), one document."""
    document = json.loads(raw.decode("utf-8"))
    assert isinstance(document, dict)
    return document


def clean(*texts: str) -> None:
    for text in texts:
        assert not NOISE.search(text), text


@pytest.fixture
def db(server: PgServer) -> Iterator[str]:
    name = "w_" + uuid.uuid4().hex[:10]
    with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_yes_on_an_empty_database_then_a_rerun(wine: Wine, server: PgServer, db: str, tmp_path: Path) -> None:
    first = wine.wizard("--yes", "--dsn", server.url(db), cwd=tmp_path)
    out, err = cp949(first.stdout), cp949(first.stderr)
    assert first.returncode == 0, out + err
    clean(out, err)
    assert finish_msg.SUMMARY_OK in out and login_msg.CHECKING_SERVER.format(host="127.0.0.1", port=server.port) in err
    assert migrations_msg.MIGRATIONS_APPLIED.split("{")[1].split("}")[1] in out  # "개 적용, "
    assert server.password not in out + err and quote(server.password, safe="") not in out + err
    again = wine.wizard("--yes", "--dsn", server.url(db), cwd=tmp_path)
    out2, err2 = cp949(again.stdout), cp949(again.stderr)
    assert again.returncode == 0, out2 + err2
    clean(out2, err2)
    # Nothing applied the second time (either wording of the migration step), nothing being applied.
    assert (
        out2.count(migrations_msg.MIGRATION_ACTIONS["skipped"]) >= 3
        and migrations_msg.MIGRATION_ACTIONS["applied"] not in out2
    )
    assert "적용 중..." not in err2 and finish_msg.SUMMARY_OK in out2


def test_check_json_is_one_document_and_the_report_file(wine: Wine, server: PgServer, db: str,
                                                         tmp_path: Path) -> None:
    wine.wizard("--yes", "--dsn", server.url(db), cwd=tmp_path)
    checked = wine.wizard("check", "--json", "--dsn", server.url(db), cwd=tmp_path)
    document = utf8_json(checked.stdout)  # one document, nothing before or after it
    clean(json.dumps(document, ensure_ascii=False), cp949(checked.stderr))
    assert checked.returncode == 0, document
    assert any(HANGUL.search(json.dumps(step, ensure_ascii=False)) for step in document["steps"])  # type: ignore[attr-defined]
    report = tmp_path / "점검 결과.md"
    written = wine.wizard("check", "--report", "Z:" + str(report).replace("/", "\\"), "--dsn", server.url(db),
                          cwd=tmp_path)
    clean(cp949(written.stdout), cp949(written.stderr))
    assert written.returncode == 0 and report.is_file()
    body = report.read_bytes()
    assert HANGUL.search(body.decode("utf-8-sig")) and server.password not in body.decode("utf-8-sig")


def test_a_failed_login_in_korean(wine: Wine, server: PgServer, tmp_path: Path) -> None:
    wrong = f"postgresql://postgres:{quote('틀린 비밀번호', safe='')}@127.0.0.1:{server.port}/postgres"
    failed = wine.wizard("--yes", "--dsn", wrong, cwd=tmp_path)
    out, err = cp949(failed.stdout), cp949(failed.stderr)
    assert failed.returncode == 1
    clean(out, err)
    # Whole Korean sentences: the cause, and the advice for this machine (where that password came from).
    cause = catalogue()["auth_failed"].cause.format(user="postgres", host="127.0.0.1", port=server.port)
    assert cause in out and login_msg.LOGIN_HELP_FROM_DSN in out
    assert catalogue_msg.CODE_LINE.format(code="auth_failed") in out
    assert "틀린 비밀번호" not in out + err


def test_a_stopped_server_in_korean(wine: Wine, tmp_path: Path) -> None:
    from support.pgserver import free_port

    stopped = wine.wizard("check", "--dsn", f"postgresql://postgres:x@127.0.0.1:{free_port()}/real_estate",
                          cwd=tmp_path)
    out, err = cp949(stopped.stdout), cp949(stopped.stderr)
    assert stopped.returncode == 1
    clean(out, err)
    # No PostgreSQL under Wine, and the wheel's binaries are installed: nothing to start here, and the fix
    # says so (with the per-user server --yes would make), rather than how to start a service that is not there.
    assert "server_not_running" in out and server_msg.SERVER_NONE_HERE in out
    assert "services.msc" not in out


ENV_TEXT = "# 백엔드 설정 (메모장에서 저장)\nSECRET_KEY=abc\nDATABASE_URL={url}\n"


@pytest.mark.parametrize(("form", "encode"), [
    ("utf16-powershell", lambda t: t.replace("\n", "\r\n").encode("utf-16")),  # 5.1's `>`: BOM + UTF-16LE
    ("cp949-notepad", lambda t: t.replace("\n", "\r\n").encode("cp949")),
    ("utf8-bom", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8")),
    ("crlf", lambda t: t.replace("\n", "\r\n").encode("utf-8")),
])
def test_env_files_as_windows_writes_them(wine: Wine, server: PgServer, db: str, tmp_path: Path,
                                          form: str, encode) -> None:  # type: ignore[no-untyped-def]
    backend = tmp_path / "backend"
    backend.mkdir()
    url = server.url(db).replace("postgresql://", "postgresql+psycopg://")
    (backend / ".env").write_bytes(encode(ENV_TEXT.format(url=url)))
    checked = wine.wizard("check", "--json", cwd=tmp_path)
    document = utf8_json(checked.stdout)
    text = json.dumps(document, ensure_ascii=False)
    clean(text, cp949(checked.stderr))
    steps = {step["id"]: step for step in document["steps"]}  # type: ignore[attr-defined]
    assert steps["login"]["status"] == "ok", (form, steps)
    assert server.password not in text


def test_git_bash_gets_plain_prompts_in_utf8_not_a_refusal(wine: Wine, server: PgServer, db: str,
                                                           tmp_path: Path) -> None:
    # mintty: stdin and stdout are pipes, MSYSTEM is set, the terminal shows UTF-8.
    answered = wine.wizard("--dsn", server.url(db), cwd=tmp_path, stdin=b"\n" * 40,
                           extra_env={"MSYSTEM": "MINGW64", "TERM": "xterm"})
    err = answered.stderr.decode("utf-8")
    out = answered.stdout.decode("utf-8")
    assert cli_msg.NO_TTY not in err and terminals_msg.GIT_BASH_PLAIN_PROMPTS in out + err, out + err
    clean(out, err)
    assert answered.returncode in (0, 1, 130)


def test_tzdata_keeps_psycopg_quiet_about_the_server_time_zone(wine: Wine, server: PgServer, db: str,
                                                              tmp_path: Path) -> None:
    """Windows has no IANA database: without the tzdata package psycopg warns in English and uses UTC."""
    url = server.url(db) + "?options=" + quote("-c TimeZone=Asia/Seoul", safe="")
    query = ("import sys, psycopg\n"
             "if sys.argv[1] == 'without': sys.modules['tzdata'] = None  # as if the dependency were missing\n"
             "with psycopg.connect(sys.argv[2]) as conn:\n"
             "    print(conn.execute('SELECT now()').fetchone()[0].tzinfo)\n")
    without = wine.python_exe("-c", query, "without", url, cwd=tmp_path)
    assert "unknown PostgreSQL timezone" in cp949(without.stderr)  # the defect, shown
    with_tzdata = wine.python_exe("-c", query, "with", url, cwd=tmp_path)
    clean(cp949(with_tzdata.stdout), cp949(with_tzdata.stderr))
    assert with_tzdata.stdout.decode("ascii").strip() == "Asia/Seoul"
