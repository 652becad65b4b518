"""Diagnosis beyond the connection itself, and the fixes that go with it.

Each check returns a `Step` (stable id and code, Korean text, numbered fix). Each automatic fix is a
function that receives `confirm: Callable[[str], bool]`: `--yes` answers yes, the interactive run
asks the person, `check` answers no. The caller decides which confirm a fix gets: fixes that only
add (a database, the dev user) get the mode's own; fixes that need a person (a UAC prompt, changing
PATH, creating a server in a folder) get `Mode.confirm` only when someone can be asked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard import messages as msg
from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import (
    PREFERRED_VERSION,
    Discovery,
    Installation,
    has_server_binaries,
    psql_path,
    tool_path,
)
from setup_wizard.machine.shell import Shell, command_line, detect_shell, env_get, git_bash_path
from setup_wizard.machine.system import CommandResult, ServiceState, System
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    pass

Confirm = Callable[[str], bool]
Say = Callable[[str], None]

SERVICE_WAIT_SECONDS = 30.0
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def never(_question: str) -> bool:
    return False


def is_local(host: str) -> bool:
    return host in LOCAL_HOSTS or host.startswith("/")


def _problem_step(step_id: str, title: str, status: Status, code: str, detail: str | None = None,
                  **values: object) -> Step:
    problem = msg.CATALOGUE[code]
    return Step(step_id, status, title, detail if detail is not None else problem.cause.format(**values),
                code, problem.fix_text(**values))


# --- installations and psql -----------------------------------------------------------------------
def describe(installation: Installation) -> str:
    line = msg.INSTALLATION_LINE.format(version=installation.version, bindir=installation.bindir,
                                        origin=msg.ORIGINS.get(installation.origin, installation.origin))
    if installation.service:
        line += msg.INSTALLATION_SERVICE.format(service=installation.service)
    if installation.port is not None:
        line += msg.INSTALLATION_PORT.format(port=installation.port)
    return line


def postgres_step(discovery: Discovery, settings: Settings) -> Step:
    """Every version found and the one used; nothing found on a local setup is a warning."""
    if discovery.chosen is None:
        if not is_local(settings.host):
            return Step("postgres", Status.SKIP, msg.STEP_POSTGRES, msg.POSTGRES_REMOTE.format(host=settings.host))
        return problems.step("postgres_not_found", "postgres", Status.WARN, msg.STEP_POSTGRES,
                             platform=discovery.platform)
    lines = [msg.POSTGRES_FOUND.format(count=len(discovery.installations), version=discovery.chosen.version)]
    lines += ["- " + describe(i) for i in discovery.installations]
    return Step("postgres", Status.OK, msg.STEP_POSTGRES, "\n".join(lines))


def psql_command(system: System, installation: Installation, settings: Settings) -> str:
    """The seed's psql command with the full path, written for the shell the person uses
    (PowerShell `& "..."`, cmd `"..."`, Git Bash `winpty /c/...`, POSIX)."""
    args = ["-U", settings.user, "-h", settings.host, "-p", str(settings.port), "-d", settings.dbname]
    return command_line(detect_shell(system.platform, system.environ), str(psql_path(system, installation)),
                        args, interactive=True)


def psql_step(system: System, discovery: Discovery, settings: Settings) -> Step:
    if discovery.psql_on_path is not None:
        return Step("psql", Status.OK, msg.STEP_PSQL, msg.PSQL_FOUND.format(path=discovery.psql_on_path))
    if discovery.chosen is None:
        return Step("psql", Status.SKIP, msg.STEP_PSQL, msg.POSTGRES_NOT_FOUND)
    bindir = discovery.chosen.bindir
    shell = detect_shell(system.platform, system.environ)
    if shell is Shell.GIT_BASH:
        path_hint = msg.PATH_HINT_GIT_BASH.format(line=f'export PATH="{git_bash_path(str(bindir))}:$PATH"')
    elif system.platform == "windows":
        path_hint = msg.PATH_HINT_WINDOWS.format(bindir=bindir)
    else:
        path_hint = msg.PATH_HINT_POSIX.format(line=f'export PATH="{bindir}:$PATH"')
    return _problem_step("psql", msg.STEP_PSQL, Status.WARN, "psql_not_found",
                         command=psql_command(system, discovery.chosen, settings), path_hint=path_hint)


def add_bin_to_path(system: System, bindir: Path, confirm: Confirm, say: Say | None = None) -> bool:
    """Windows: add bindir to the user's PATH (registry, change broadcast) and to this process.

    The other entries are kept exactly as stored (%USERPROFILE%\\... unexpanded). When the current
    value cannot be read, nothing is written: writing "" + bindir would wipe the person's PATH.
    """
    if system.platform != "windows" or not confirm(msg.ASK_ADD_TO_PATH.format(bindir=bindir)):
        return False
    try:
        current = system.user_path()
        entries = [e for e in current.split(";") if e]
        if not any(e.rstrip("\\").lower() == str(bindir).rstrip("\\").lower() for e in entries):
            system.set_user_path(";".join([*entries, str(bindir)]))
    except OSError as error:
        if say is not None:
            say(msg.PATH_READ_FAILED.format(error=error, bindir=bindir))
        return False
    process_path = system.environ.get("PATH", "")
    system.environ["PATH"] = f"{bindir};{process_path}" if process_path else str(bindir)
    return True


def port_step(discovery: Discovery, settings: Settings) -> Step | None:
    """The registry says where each local server listens: a different port is said before the password."""
    if not is_local(settings.host):
        return None
    ports = sorted({i.port for i in discovery.installations if i.port is not None})
    if not ports or settings.port in ports:
        return None
    listed = ", ".join(str(p) for p in ports)
    detail = msg.PORT_MISMATCH.format(port=settings.port, ports=listed)
    return _problem_step("port", msg.STEP_PORT, Status.WARN, "port_mismatch", detail=detail, ports=listed)


# --- services -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    """A server this machine can start: a Windows service, a systemd unit, a Debian cluster, brew."""

    kind: str  # "windows", "systemd", "pg_ctlcluster", "brew"
    name: str
    state: ServiceState
    start: tuple[str, ...]  # the command that starts it
    needs_elevation: bool
    installation: Installation | None = None

    @property
    def command_text(self) -> str:
        prefix = "sudo " if self.needs_elevation and self.kind != "windows" else ""
        return prefix + " ".join(self.start)


def _for_port(discovery: Discovery, port: int) -> Installation | None:
    with_service = [i for i in discovery.installations if i.service]
    for installation in with_service:
        if installation.port == port:
            return installation
    if discovery.chosen is not None and discovery.chosen.service:
        return discovery.chosen
    return with_service[0] if with_service else None


def _linux_service(system: System, discovery: Discovery, port: int) -> Service | None:
    root = system.is_root()
    if system.which("pg_lsclusters") is not None:
        listing = system.run(["pg_lsclusters", "--no-header"], timeout=15)
        for line in listing.text.splitlines():
            parts = line.split()
            # Ver Cluster Port Status Owner Datadir Logfile: the status word is not translated.
            if len(parts) >= 4 and parts[2] == str(port):
                state = ServiceState.RUNNING if parts[3].startswith("online") else ServiceState.STOPPED
                return Service("pg_ctlcluster", f"{parts[0]}/{parts[1]}", state,
                               ("pg_ctlcluster", parts[0], parts[1], "start"), not root)
    if system.which("systemctl") is None:
        return None
    units = ["postgresql"] + ([f"postgresql-{discovery.chosen.version}"] if discovery.chosen else [])
    for unit in units:
        shown = system.run(["systemctl", "show", "-p", "LoadState", "-p", "ActiveState", unit], timeout=15)
        values = dict(line.split("=", 1) for line in shown.text.splitlines() if "=" in line)
        if not shown.ok or values.get("LoadState") != "loaded":
            continue
        active = values.get("ActiveState", "")
        state = {"active": ServiceState.RUNNING, "activating": ServiceState.STARTING,
                 "deactivating": ServiceState.STOPPING}.get(active, ServiceState.STOPPED)
        return Service("systemd", unit, state, ("systemctl", "start", unit), not root)
    return None


def _brew_service(system: System, discovery: Discovery) -> Service | None:
    if system.which("brew") is None:
        return None
    listing = system.run(["brew", "services", "list"], timeout=30)
    fallback: Service | None = None
    for line in listing.text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith("postgresql"):
            continue
        state = ServiceState.RUNNING if parts[1] == "started" else ServiceState.STOPPED
        service = Service("brew", parts[0], state, ("brew", "services", "start", parts[0]), False)
        if parts[0] == f"postgresql@{PREFERRED_VERSION}":
            return service
        fallback = fallback or service
    return fallback


def find_service(system: System, discovery: Discovery, settings: Settings) -> Service | None:
    """The local server's service and its state; None for a remote host or when there is none."""
    if not is_local(settings.host):
        return None
    if system.platform == "windows":
        installation = _for_port(discovery, settings.port)
        if installation is None or installation.service is None:
            return None
        state = system.service_state(installation.service)
        return Service("windows", installation.service, state, ("sc.exe", "start", installation.service), True,
                       installation)
    if system.platform == "darwin":
        return _brew_service(system, discovery)
    return _linux_service(system, discovery, settings.port)


def service_step(service: Service | None, settings: Settings, connected: bool) -> Step | None:
    if not is_local(settings.host):
        return Step("service", Status.SKIP, msg.STEP_SERVICE, msg.SERVICE_REMOTE)
    if service is None:
        return None
    if service.state is ServiceState.RUNNING:
        return Step("service", Status.OK, msg.STEP_SERVICE, msg.SERVICE_RUNNING.format(name=service.name))
    # Stopped while the connection works: another server answers on this port. Only a warning then.
    status = Status.WARN if connected else Status.FAIL
    if service.state is ServiceState.ABSENT:
        return Step("service", status, msg.STEP_SERVICE, msg.SERVICE_ABSENT.format(name=service.name))
    if service.state is ServiceState.UNKNOWN:
        return Step("service", Status.WARN, msg.STEP_SERVICE, msg.SERVICE_UNKNOWN.format(name=service.name))
    if service.kind == "windows":
        command = msg.SERVICE_START_WINDOWS_HOW.format(name=service.name, command=service.command_text)
    else:
        command = service.command_text
    return _problem_step("service", msg.STEP_SERVICE, status, "service_stopped", name=service.name,
                         command=command)


@dataclass(frozen=True)
class FixOutcome:
    done: bool
    step: Step | None = None  # what to show when it was not done (declined, failed)


def wait_until_accepting(settings: Settings, timeout: float = SERVICE_WAIT_SECONDS) -> bool:
    """libpq's ping (no credentials) until the server accepts connections, at most `timeout` seconds."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(host=settings.host, port=str(settings.port), user=settings.user,
                             dbname=settings.dbname, connect_timeout="3")
    deadline = time.monotonic() + timeout
    while True:
        if pq.PGconn.ping(conninfo.encode()) == pq.Ping.OK:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def start_service(system: System, service: Service, settings: Settings, confirm: Confirm, say: Say,
                  wait: float = SERVICE_WAIT_SECONDS) -> FixOutcome:
    """Explain, ask, start (elevated on Windows: the UAC prompt), then wait until it accepts connections."""
    if service.kind == "windows":
        question = msg.ASK_START_SERVICE_WINDOWS.format(name=service.name)
    else:
        question = msg.ASK_START_SERVICE.format(command=service.command_text)
    if service.needs_elevation and service.kind != "windows" and not system.is_root():
        return FixOutcome(False)  # sudo would ask for a password: the command is shown instead
    if not confirm(question):
        return FixOutcome(False)
    say(msg.STARTING_SERVICE.format(name=service.name, seconds=int(wait)))
    started = time.monotonic()
    if service.kind == "windows":
        elevation = system.run_elevated(service.start[0], list(service.start[1:]), timeout=wait)
        # ShellExecuteEx returned only once the person answered the UAC prompt: that time is theirs,
        # the server's start-up clock starts after it.
        started += elevation.prompt_seconds
        if elevation.error != 0:
            return FixOutcome(False, _problem_step(
                "service", msg.STEP_SERVICE, Status.FAIL, "service_start_declined", name=service.name,
                error="UAC 거절" if elevation.declined else f"Windows 오류 {elevation.error}"))
        # sc start exits 1056 when the service already runs: not a failure.
        failed = elevation.exit_code not in (0, 1056, None)
        output = f"sc.exe start {service.name} → 종료 코드 {elevation.exit_code}"
    else:
        result: CommandResult = system.run(list(service.start), timeout=wait)
        failed = not result.ok
        output = result.error or result.text
    if failed or not wait_until_accepting(settings, max(1.0, wait - (time.monotonic() - started))):
        log_hint = (str(service.installation.datadir) + "\\log" if service.installation and
                    service.installation.datadir else "journalctl -u postgresql / brew services info")
        return FixOutcome(False, _problem_step(
            "service", msg.STEP_SERVICE, Status.FAIL, "service_start_failed", detail=output or service.name,
            log_hint=log_hint, port=settings.port))
    return FixOutcome(True, Step("service", Status.OK, msg.STEP_SERVICE, msg.SERVICE_STARTED.format(
        name=service.name, seconds=time.monotonic() - started)))


# --- a local development cluster ------------------------------------------------------------------
def cluster_candidate(system: System, discovery: Discovery, service: Service | None,
                      settings: Settings) -> Installation | None:
    """Binaries that can run a server, on a local setup with no service at all."""
    if not is_local(settings.host) or settings.host.startswith("/"):
        return None
    if service is not None and service.state is not ServiceState.ABSENT:
        return None
    if any(i.service for i in discovery.installations):
        return None
    candidates = [i for i in discovery.installations if has_server_binaries(system, i)]
    preferred = [i for i in candidates if i.version == discovery.chosen.version] if discovery.chosen else []
    pool = preferred or candidates
    return pool[0] if pool else None


def no_server_step(system: System, installation: Installation, settings: Settings) -> Step:
    return _problem_step("cluster", msg.STEP_CLUSTER, Status.WARN, "no_server_installed",
                         bindir=installation.bindir, user=settings.user, port=settings.port,
                         initdb=tool_path(system, installation, "initdb"),
                         pg_ctl=tool_path(system, installation, "pg_ctl"))


WINDOWS_ASCII_CLUSTER_FOLDER = "setup_wizard-pgdata"  # under the system drive: C:\\setup_wizard-pgdata


def _ascii_fallback_folder(system: System) -> Path:
    drive = env_get(system.environ, "SystemDrive") or "C:"
    if not drive.isascii():
        drive = "C:"
    return system.path(drive + "\\", WINDOWS_ASCII_CLUSTER_FOLDER)


def default_cluster_folder(system: System) -> Path:
    """Where a new development cluster goes by default.

    Windows: %LOCALAPPDATA%\\setup_wizard\\pgdata when that path is plain ASCII; initdb fails under a
    profile such as C:\\Users\\민수 (EnterpriseDB/edb-installers#156), so then C:\\setup_wizard-pgdata
    (any user may create a folder at the root of the system drive).
    """
    if system.platform == "windows":
        base = env_get(system.environ, "LOCALAPPDATA") or env_get(system.environ, "USERPROFILE") or ""
        if base and base.isascii():
            return system.path(base, "setup_wizard", "pgdata")
        return _ascii_fallback_folder(system)
    return system.path(system.environ.get("HOME", "/tmp"), ".local", "share", "setup_wizard", "pgdata")


def _failed(tool: str, result: CommandResult) -> FixOutcome:
    detail = msg.CLUSTER_FAILED.format(tool=tool, output=result.error or result.text)
    return FixOutcome(False, Step("cluster", Status.FAIL, msg.STEP_CLUSTER, detail, "cluster_failed"))


def create_local_cluster(system: System, installation: Installation, folder: Path, settings: Settings,
                         confirm: Confirm, say: Say) -> FixOutcome:
    """initdb into `folder` with the configured user and password (through a file, never the command
    line), the configured port in its postgresql.conf, then pg_ctl start. Needs settings.password."""
    if not confirm(msg.ASK_CREATE_CLUSTER.format(bindir=installation.bindir, port=settings.port)):
        return FixOutcome(False)
    if system.platform == "windows" and not str(folder).isascii():
        return FixOutcome(False, Step("cluster", Status.FAIL, msg.STEP_CLUSTER, msg.CLUSTER_FOLDER_NOT_ASCII.format(
            folder=folder, suggestion=_ascii_fallback_folder(system)), "cluster_failed"))
    if folder.exists() and any(folder.iterdir()):
        return FixOutcome(False, Step("cluster", Status.FAIL, msg.STEP_CLUSTER,
                                      msg.CLUSTER_FOLDER_NOT_EMPTY.format(folder=folder), "cluster_failed"))
    run_as: str | None = None
    if system.is_root() and sys.platform != "win32":  # PostgreSQL refuses to run as root
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return FixOutcome(False, Step("cluster", Status.FAIL, msg.STEP_CLUSTER,
                                          msg.CLUSTER_NEEDS_POSTGRES_USER, "cluster_failed"))
        run_as = "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in system.environ.items() if not k.startswith("PG")}
    # Beside the data folder (ASCII on Windows, see above), not in %TEMP% under the user profile.
    handle, pwfile_name = tempfile.mkstemp(prefix="setup_wizard_pw_",
                                           dir=str(folder.parent) if system.platform == "windows" else None)
    pwfile = Path(pwfile_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write((settings.password or "") + "\n")
        if run_as:
            for path in (folder, pwfile):
                shutil.chown(path, user=run_as)
        say(msg.CLUSTER_CREATED.split("\n")[0].format(folder=folder, port=settings.port, user=settings.user))
        result = system.run([str(tool_path(system, installation, "initdb")), "-D", str(folder),
                             "-U", settings.user, "-A", "scram-sha-256", f"--pwfile={pwfile}",
                             "-E", "UTF8", "--no-locale"], timeout=300, user=run_as, env=env)
    finally:
        with contextlib.suppress(OSError):
            pwfile.unlink()
    if not result.ok:
        return _failed("initdb", result)
    socket_dir = folder if system.platform != "windows" else None
    conf = [f"port = {settings.port}", "listen_addresses = 'localhost'"]
    if socket_dir is not None:
        conf.append("unix_socket_directories = '" + str(socket_dir).replace("'", "''") + "'")
    with (folder / "postgresql.conf").open("a", encoding="utf-8") as stream:
        stream.write("\n# setup_wizard: a local development server\n" + "\n".join(conf) + "\n")
    pg_ctl = str(tool_path(system, installation, "pg_ctl"))
    log = system.path(folder, "server.log")
    # Never through pipes: on Windows the server inherits pg_ctl's handles and would hold them open.
    started = system.run([pg_ctl, "-D", str(folder), "-l", str(log), "-w", "-t", "30", "start"],
                         timeout=60, user=run_as, env=env, output=system.path(folder, "pg_ctl.log"))
    if not started.ok:
        return _failed("pg_ctl", started)
    start_text = command_line(detect_shell(system.platform, system.environ), pg_ctl,
                              ["-D", str(folder), "-l", str(log), "start"])
    return FixOutcome(True, Step("cluster", Status.OK, msg.STEP_CLUSTER, msg.CLUSTER_CREATED.format(
        folder=folder, port=settings.port, user=settings.user, start=start_text)))
