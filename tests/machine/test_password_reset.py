"""The guided password reset against a real throwaway server (initdb, scram-sha-256 everywhere).

Each test checks what the person relies on: the new password logs in, and pg_hba.conf (and every other
configuration file) is byte-for-byte what it was, on success and on every failure path.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from support.pgserver import TestServer, running_server
from support.recorded_system import RecordedSystem

from setup_wizard.config.load import load_settings
from setup_wizard.machine import password_reset as pr
from setup_wizard.machine import reset_login, trust_rules
from setup_wizard.machine.discovery import Discovery, Installation, Origin
from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.system import ERROR_CANCELLED, Elevation, Platform
from setup_wizard.record import replace
from setup_wizard.results import Status

OLD = "old-pw"
NEW = "새 비밀번호 s3cr'et\"@#"


@pytest.fixture(scope="module")
def one_server() -> Iterator[TestServer]:
    with running_server(OLD) as srv:
        # Every statement into the server's log: the new password must not be in it.
        with psycopg.connect(**srv.conninfo(), autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("ALTER SYSTEM SET log_statement = 'all'")
            conn.execute("SELECT pg_reload_conf()")
        # The reload is asynchronous: wait for it, or it could read the temporary rules later.
        for _ in range(50):
            with psycopg.connect(**srv.conninfo()) as conn:  # type: ignore[arg-type]
                row = conn.execute("SHOW log_statement").fetchone()
            if row and row[0] == "all":
                break
            time.sleep(0.1)
        yield srv


@pytest.fixture
def cluster(one_server: TestServer) -> Iterator[TestServer]:
    """The module's server with the old password, whatever the previous test changed."""
    yield one_server
    for password in (OLD, NEW):
        try:
            with psycopg.connect(**{**one_server.conninfo(), "password": password}, autocommit=True) as conn:  # type: ignore[arg-type]
                conn.execute(f"ALTER ROLE postgres PASSWORD '{OLD}'")
            break
        except psycopg.OperationalError:
            continue


def settings_for(srv: TestServer, password: str = "wrong", user: str = "postgres"):  # type: ignore[no-untyped-def]
    return load_settings(f"postgresql://{user}:{password}@127.0.0.1:{srv.port}/postgres", {}, None, None)


def config_files(srv: TestServer) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(srv.datadir.glob("*.conf"))}


def target_for(srv: TestServer, pg_ctl: Path | None = None, elevated: bool = False) -> trust_rules.ResetTarget:
    target = pr.local_target(RealSystem(), srv.datadir, pg_ctl or srv.bindir / "pg_ctl", port=srv.port)
    assert target is not None
    return replace(target, pg_ctl=pg_ctl or target.pg_ctl, elevated=elevated or target.elevated)


def logs_in(srv: TestServer, password: str) -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", port=srv.port, user="postgres", dbname="postgres",
                             password=password, passfile=reset_login.NO_PASSFILE):
            return True
    except psycopg.OperationalError:
        return False


def test_reset_sets_the_new_password_and_leaves_every_file_as_it_was(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster)
    assert not logs_in(cluster, NEW)
    pr.reset_password(RealSystem(), target, settings_for(cluster), NEW)
    assert logs_in(cluster, NEW)
    assert not logs_in(cluster, OLD)
    assert config_files(cluster) == before  # pg_hba.conf byte-identical, and nothing else touched
    assert not target.backup.exists()
    # The server asks for passwords again: the temporary rules are gone from the running server too.
    assert not logs_in(cluster, "")
    log = (cluster.root / "log").read_text(encoding="utf-8", errors="replace")
    assert "ALTER ROLE" in log and NEW not in log and "SCRAM-SHA-256$" in log


def test_unreachable_reload_restores_the_file(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster, pg_ctl=cluster.root / "no-such-pg_ctl")
    with pytest.raises(trust_rules.ResetFailed):
        pr.reset_password(RealSystem(), target, settings_for(cluster), NEW)
    assert config_files(cluster) == before
    assert not target.backup.exists()
    assert logs_in(cluster, OLD) and not logs_in(cluster, NEW)


def test_missing_role_restores_the_file_and_says_so(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster)
    with pytest.raises(trust_rules.ResetFailed) as failure:
        pr.reset_password(RealSystem(), target, settings_for(cluster, user="nobody_here"), NEW)
    assert "nobody_here" in failure.value.reason
    assert config_files(cluster) == before
    assert logs_in(cluster, OLD)


def test_a_killed_run_is_recovered_from_its_backup(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster)
    original = target.hba_file.read_bytes()
    target.backup.write_bytes(original)
    target.hba_file.write_bytes(trust_rules.trust_lines("postgres", original, True) + original)
    pr.reset_password(RealSystem(), target, settings_for(cluster), NEW)
    assert config_files(cluster) == before
    assert logs_in(cluster, NEW)


class ElevatedHere(RealSystem):
    """Windows' elevated helper, run as a plain child process (no UAC here): the same coordination."""

    def __init__(self, decline: bool = False) -> None:
        super().__init__()
        self.decline = decline

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation:
        if self.decline:
            return Elevation(error=ERROR_CANCELLED)
        done = subprocess.run([program, *args], timeout=timeout, check=False, capture_output=True)
        return Elevation(error=0, exit_code=done.returncode)


def test_elevated_helper_holds_the_rules_and_restores_them(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster, elevated=True)
    pr.reset_password(ElevatedHere(), target, settings_for(cluster), NEW)
    assert logs_in(cluster, NEW)
    assert config_files(cluster) == before


def test_elevated_failure_and_declined_uac_change_nothing(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster, pg_ctl=cluster.root / "no-such-pg_ctl", elevated=True)
    with pytest.raises(trust_rules.ResetFailed):
        pr.reset_password(ElevatedHere(), target, settings_for(cluster), NEW)
    with pytest.raises(trust_rules.ResetFailed) as declined:
        pr.reset_password(ElevatedHere(decline=True), target, settings_for(cluster), NEW)
    assert "UAC" in declined.value.reason
    assert config_files(cluster) == before
    assert logs_in(cluster, OLD)


def test_guided_reset_asks_consent_and_the_password_twice(cluster: TestServer) -> None:
    before = config_files(cluster)
    target = target_for(cluster)
    said: list[str] = []
    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    declined = pr.guided_reset(RealSystem(), target, settings_for(cluster), no, lambda _q: NEW, said.append)
    assert not declined.done and declined.step is None and str(target.hba_file) in asked[0]
    answers = iter(["a", "b", NEW, NEW])
    outcome = pr.guided_reset(RealSystem(), target, settings_for(cluster), lambda _q: True,
                              lambda _q: next(answers), said.append)
    assert outcome.done and outcome.password == NEW
    assert outcome.step is not None and outcome.step.status is Status.OK
    assert any("다릅니다" in line for line in said)
    assert all(NEW not in line for line in said) and NEW not in outcome.step.detail
    assert config_files(cluster) == before and logs_in(cluster, NEW)


# --- finding a server the wizard may administer (recorded machines) ----------------------------------------
def test_windows_edb_install_is_a_target_that_needs_uac() -> None:
    from support.recorded import windows_two_versions

    from setup_wizard.machine.discovery import discover

    system = windows_two_versions()
    found = discover(system)
    target = pr.find_target(system, found, load_settings("postgresql://postgres:x@localhost:5433/db", {}, None, None))
    assert target is not None and target.elevated
    assert str(target.hba_file) == r"C:\Program Files\PostgreSQL\17\data\pg_hba.conf"
    assert str(target.pg_ctl) == r"C:\Program Files\PostgreSQL\17\bin\pg_ctl.exe"
    remote = load_settings("postgresql://postgres:x@db.example.com:5433/db", {}, None, None)
    assert pr.find_target(system, found, remote) is None


def test_debian_cluster_needs_root() -> None:
    from setup_wizard.machine.system import CommandResult

    listing = b"15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/x.log\n"
    system = RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin"}, files={"/usr/bin/pg_lsclusters"},
                            commands={"pg_lsclusters --no-header": CommandResult(0, listing)})
    bindir = Path("/usr/lib/postgresql/15/bin")
    found = Discovery((Installation("15", bindir, Origin.DEBIAN),), None, None)
    settings = load_settings("postgresql://postgres:x@localhost:5432/db", {}, None, None)
    assert pr.find_target(system, found, settings) is None  # not root, not the owner: advice only


def test_helper_module_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "setup_wizard.machine.password_reset"], check=False)
    assert done.returncode == 2


# --- through the wizard's door and --yes (the hook in flow/connect_phase.py) -----------------------------------------
def _project(root: Path, srv: TestServer, password: str) -> Path:
    (root / "backend").mkdir(parents=True)
    url = f"postgresql+psycopg://postgres:{password}@127.0.0.1:{srv.port}/postgres"
    (root / "backend" / ".env").write_text(f"DATABASE_URL={url}\n", encoding="utf-8")
    return root


def test_wizard_offers_the_reset_and_logs_in_with_the_new_password(
        cluster: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console
    from support.program import clean_environ
    from support.scripted import ScriptedPrompter

    from setup_wizard.environment import Environment
    from setup_wizard.flow.options import Options
    from setup_wizard.messages import envfiles as envfiles_msg
    from setup_wizard.messages import login as login_msg
    from setup_wizard.messages import screens as screens_msg
    from setup_wizard.ui import wizard
    from setup_wizard.ui.render import ASCII_SYMBOLS
    from setup_wizard.ui.screen import Screen

    before = config_files(cluster)
    monkeypatch.setattr(pr, "find_target", lambda *_a: target_for(cluster))
    root = _project(tmp_path, cluster, "wrong")
    out = io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=out, environ=clean_environ(), cwd=root)
    prompter = ScriptedPrompter(["reset", True, NEW, NEW, False, False])
    # A real machine: pg_ctl really runs (find_target is pointed at the throwaway cluster).
    report = wizard.run(Options(), env, prompter, Screen(Console(file=out, width=100), ASCII_SYMBOLS),
                        system=RealSystem(environ=clean_environ()))
    text = out.getvalue()
    assert prompter.questions[:4] == [
        screens_msg.ASK_NEXT, login_msg.ASK_RESET_PASSWORD.format(user="postgres", hba=cluster.datadir / "pg_hba.conf"),
        login_msg.ASK_NEW_PASSWORD.format(user="postgres"), login_msg.ASK_NEW_PASSWORD_AGAIN]
    assert prompter.questions[4] == envfiles_msg.ASK_SAVE
    steps = {s.id: s for s in report.steps}
    assert steps["password_reset"].status is Status.OK and steps["login"].status is Status.OK
    assert "-U postgres -h 127.0.0.1" in text  # the advice was on screen before the choice
    assert NEW not in text
    assert config_files(cluster) == before and logs_in(cluster, NEW)


def test_yes_never_resets_and_its_fix_is_the_advice(
        cluster: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json

    from support.program import clean_environ

    from setup_wizard import cli
    from setup_wizard.environment import Environment
    from setup_wizard.messages import login as login_msg

    before = config_files(cluster)
    monkeypatch.setattr(pr, "find_target", lambda *_a: target_for(cluster))
    root = _project(tmp_path, cluster, "wrong")
    for args in (["--yes", "--json"], ["check", "--json"]):
        out = io.StringIO()
        env = Environment(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), environ=clean_environ(), cwd=root)
        assert cli.main(args, env) == 1
        login = next(s for s in json.loads(out.getvalue())["steps"] if s["id"] == "login")
        assert login["code"] == "auth_failed"
        assert str(root / "backend" / ".env") in login["fix"] and login_msg.LOGIN_HELP_RESET in login["fix"]
    assert config_files(cluster) == before and logs_in(cluster, OLD)
