"""Classification whatever language the server speaks: a real server answering in Korean, and
recorded CP949 replies of a Korean Windows server (served by a wire-protocol look-alike)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest
from support import pgserver
from support.fakepg import fake_server
from support.pgserver import free_port, running_server
from support.program import PASSWORD
from support.recorded import recording

from setup_wizard.config.load import load_settings
from setup_wizard.database.connect import classify_connect_failure, error_text, startup_probe


def _settings(url: str):  # type: ignore[no-untyped-def]
    return load_settings(url, {}, None, None)


def _classify(url: str) -> tuple[str, str, str]:
    settings = _settings(url)
    try:
        psycopg.connect(**settings.conninfo_params(), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        problem = classify_connect_failure(settings, exc)
        return problem.code, problem.detail, error_text(exc)
    raise AssertionError("the connection was expected to fail")


def _has_korean_locale() -> bool:
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    return any(line.lower().replace("-", "") in ("ko_kr.utf8",) for line in out.split())


@pytest.fixture(scope="module")
def korean_server() -> Iterator[pgserver.TestServer]:
    if not _has_korean_locale():
        pytest.skip("ko_KR.UTF-8 locale missing: bash .ci/run generates it (locale-gen)")
    with running_server(PASSWORD, lc_messages="ko_KR.UTF-8") as srv:
        yield srv


def test_korean_server_really_speaks_korean(korean_server: pgserver.TestServer) -> None:
    with (psycopg.connect(**korean_server.conninfo(), autocommit=True) as conn,  # type: ignore[arg-type]
          pytest.raises(psycopg.errors.UndefinedTable) as caught):
        conn.execute("SELECT * FROM no_such_table")
    assert "릴레이션" in str(caught.value)


def test_korean_wrong_password(korean_server: pgserver.TestServer) -> None:
    code, detail, raw = _classify(korean_server.url(password="wrong"))
    assert code == "auth_failed"
    assert "password 인증을 실패했습니다" in raw  # decoded correctly, shown, never parsed
    assert "\ufffd" not in raw and "postgres" in detail


def test_korean_missing_database(korean_server: pgserver.TestServer) -> None:
    code, _detail, raw = _classify(korean_server.url("real_estate_missing"))
    assert code == "database_missing"
    assert "데이터베이스 없음" in raw


def test_korean_missing_role_told_apart_under_trust(korean_server: pgserver.TestServer) -> None:
    # A trust line for one role name: the server then refuses at once, in Korean, with SQLSTATE 28000.
    hba = korean_server.datadir / "pg_hba.conf"
    hba.write_text("host all ghost 127.0.0.1/32 trust\n" + hba.read_text())
    korean_server._run("pg_ctl", "-D", str(korean_server.datadir), "reload")
    time.sleep(0.5)
    reply = startup_probe("127.0.0.1", korean_server.port, "ghost", "postgres")
    assert reply.kind == "error" and reply.sqlstate == "28000"
    assert "롤(role) 없음" in reply.message
    code, _detail, _raw = _classify(f"postgresql://ghost@127.0.0.1:{korean_server.port}/postgres")
    assert code == "role_missing"


def test_nothing_listening_and_unresolvable() -> None:
    assert _classify(f"postgresql://postgres:x@127.0.0.1:{free_port()}/db")[0] == "server_not_running"
    assert _classify("postgresql://postgres:x@no-such-host.invalid/db")[0] == "host_unreachable"


# --- CP949 bytes of a Korean Windows server --------------------------------------------------------
def test_cp949_wrong_password_is_decoded_and_classified() -> None:
    payload = recording("error_28P01_password.cp949")
    with fake_server(payload, ask_password=True) as port:
        code, _detail, raw = _classify(f"postgresql://postgres:wrong@127.0.0.1:{port}/real_estate")
    assert code == "auth_failed"
    assert '사용자 "postgres"의 password 인증을 실패했습니다' in raw
    assert "\ufffd" not in raw


def test_cp949_missing_database_and_role_from_the_first_reply() -> None:
    with fake_server(recording("error_3D000_database.cp949"), ask_password=False) as port:
        reply = startup_probe("127.0.0.1", port, "postgres", "real_estate")
        assert (reply.kind, reply.sqlstate, reply.message) == ("error", "3D000", '"real_estate" 데이터베이스 없음')
        assert _classify(f"postgresql://postgres:pw@127.0.0.1:{port}/real_estate")[0] == "database_missing"
    with fake_server(recording("error_28000_role.cp949"), ask_password=False) as port:
        assert _classify(f"postgresql://ghost:pw@127.0.0.1:{port}/real_estate")[0] == "role_missing"
        # The same refusal for another user name is not read as a missing role: shown raw instead.
        code, detail, _raw = _classify(f"postgresql://other:pw@127.0.0.1:{port}/real_estate")
        assert code == "connection_failed" and "SQLSTATE 28000" in detail and "롤(role) 없음" in detail


def test_korean_full_and_nologin_are_not_wrong_passwords(korean_server: pgserver.TestServer) -> None:
    """Issue 12: after the password only text is left; the server's Korean wording is recognised too."""
    port = korean_server.port
    with psycopg.connect(**korean_server.conninfo(), autocommit=True) as admin:  # type: ignore[arg-type]
        admin.execute("CREATE ROLE ko_nologin NOLOGIN PASSWORD 'pw'")
        admin.execute("CREATE ROLE ko_limited LOGIN CONNECTION LIMIT 1 PASSWORD 'pw'")
        try:
            code, _detail, raw = _classify(f"postgresql://ko_nologin:pw@127.0.0.1:{port}/postgres")
            assert code == "role_cannot_login" and "접속을 허용하지 않음" in raw
            with psycopg.connect(f"postgresql://ko_limited:pw@127.0.0.1:{port}/postgres"):
                code, _detail, raw = _classify(f"postgresql://ko_limited:pw@127.0.0.1:{port}/postgres")
            assert code == "server_full" and "최대 동시 접속수를 초과" in raw
        finally:
            admin.execute("DROP ROLE ko_nologin")
            admin.execute("DROP ROLE ko_limited")
