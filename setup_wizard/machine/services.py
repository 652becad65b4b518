"""The local server's service: finding it (a Windows service, a systemd unit, a Debian cluster, a
Homebrew service), reporting its state, and the fix that starts it and waits until it accepts
connections (elevated on Windows: one UAC prompt).
"""

from __future__ import annotations

import time
from enum import Enum

from setup_wizard import problems
from setup_wizard.config.libpq_env import libpq_environment
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import PREFERRED_VERSION, Discovery, Installation
from setup_wizard.machine.fix import Confirm, FixOutcome, Say
from setup_wizard.machine.login_help import Cluster, debian_clusters, is_local
from setup_wizard.machine.system import CommandResult, Platform, ServiceState, System
from setup_wizard.messages import server as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

SERVICE_WAIT_SECONDS = 30.0


class ServiceKind(Enum):
    """Who starts a server: Windows' service manager, systemd, Debian's pg_ctlcluster, brew, or this
    program (the per-user server, machine/local_cluster.py)."""

    WINDOWS = "windows"
    SYSTEMD = "systemd"
    PG_CTLCLUSTER = "pg_ctlcluster"
    BREW = "brew"
    USER = "user"


@record(eq=True)
class Service:
    """A server this machine can start: a Windows service, a systemd unit, a Debian cluster, brew."""

    kind: ServiceKind
    name: str
    state: ServiceState
    start: tuple[str, ...]  # the command that starts it
    needs_elevation: bool
    installation: Installation | None = None

    @property
    def is_user_server(self) -> bool:
        return self.kind is ServiceKind.USER

    @property
    def command_text(self) -> str:
        prefix = "sudo " if self.needs_elevation and self.kind is not ServiceKind.WINDOWS else ""
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
                return Service(ServiceKind.PG_CTLCLUSTER, f"{parts[0]}/{parts[1]}", state,
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
        return Service(ServiceKind.SYSTEMD, unit, state, ("systemctl", "start", unit), not root)
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
        service = Service(ServiceKind.BREW, parts[0], state, ("brew", "services", "start", parts[0]), False)
        if parts[0] == f"postgresql@{PREFERRED_VERSION}":
            return service
        fallback = fallback or service
    return fallback


def any_system_server(system: System, discovery: Discovery) -> bool:
    """Does this machine have a system PostgreSQL server on any port (a Windows service, a Debian cluster,
    a systemd unit, a Homebrew service)? Then it is preferred: no per-user server is offered."""
    from setup_wizard.machine import local_cluster

    if local_cluster.system_hidden(system):
        return False
    if any(i.service for i in discovery.installations):
        return True
    if system.platform is Platform.MACOS:
        return _brew_service(system, discovery) is not None
    if system.platform is Platform.WINDOWS:
        return False
    if system.which("pg_lsclusters") is not None:
        listing = system.run(["pg_lsclusters", "--no-header"], timeout=15)
        if any(len(line.split()) >= 4 for line in listing.text.splitlines()):
            return True
    return _linux_service(system, discovery, port=-1) is not None


def find_service(system: System, discovery: Discovery, settings: Settings) -> Service | None:
    """The local server's service and its state; None for a remote host or when there is none."""
    if not is_local(settings.host):
        return None
    from setup_wizard.machine import local_cluster

    user_server = local_cluster.as_service(system, settings)
    if user_server is not None:
        return user_server
    if local_cluster.system_hidden(system):
        return None
    if system.platform is Platform.WINDOWS:
        installation = _for_port(discovery, settings.port)
        if installation is None or installation.service is None:
            return None
        state = system.service_state(installation.service)
        return Service(ServiceKind.WINDOWS, installation.service, state, ("sc.exe", "start", installation.service),
                       True, installation)
    if system.platform is Platform.MACOS:
        return _brew_service(system, discovery)
    return _linux_service(system, discovery, settings.port)


def service_step(service: Service | None, settings: Settings, connected: bool) -> Step | None:
    if not is_local(settings.host):
        return Step("service", Status.SKIP, msg.STEP_SERVICE, msg.SERVICE_REMOTE)
    if service is None:
        return None
    if service.kind is ServiceKind.USER:
        if service.state is ServiceState.RUNNING:
            return Step("service", Status.OK, msg.STEP_SERVICE, msg.USER_SERVER_RUNNING_LINE)
        return problems.step("user_server_stopped", "service", Status.WARN if connected else Status.FAIL,
                             msg.STEP_SERVICE, command=service.command_text)
    if service.state is ServiceState.RUNNING:
        return Step("service", Status.OK, msg.STEP_SERVICE, msg.SERVICE_RUNNING.format(name=service.name))
    # Stopped while the connection works: another server answers on this port. Only a warning then.
    status = Status.WARN if connected else Status.FAIL
    if service.state is ServiceState.ABSENT:
        return Step("service", status, msg.STEP_SERVICE, msg.SERVICE_ABSENT.format(name=service.name))
    if service.state is ServiceState.UNKNOWN:
        return Step("service", Status.WARN, msg.STEP_SERVICE, msg.SERVICE_UNKNOWN.format(name=service.name))
    if service.kind is ServiceKind.WINDOWS:
        command = msg.SERVICE_START_WINDOWS_HOW.format(name=service.name, command=service.command_text)
    else:
        command = service.command_text
    return problems.step("service_stopped", "service", status, msg.STEP_SERVICE, name=service.name,
                         command=command)


def _cluster_command(system: System, cluster: Cluster) -> str:
    return ("" if system.is_root() else "sudo ") + f"pg_ctlcluster {cluster.version} {cluster.name} start"


def _cluster_lines(system: System, discovery: Discovery, clusters: list[Cluster], port: int) -> list[str]:
    """Debian lists every server with its port and state: the one on this port, or the ones there are."""
    on_port = [c for c in clusters if c.port == port]
    if on_port:
        cluster = on_port[0]
        return [msg.SERVER_START_CLUSTER.format(cluster=f"{cluster.version}/{cluster.name}", folder=cluster.datadir,
                                                command=_cluster_command(system, cluster))]
    servers = ", ".join(msg.SERVER_CLUSTER_ON_PORT.format(
        cluster=f"{c.version}/{c.name}", port=c.port,
        state=msg.SERVER_CLUSTER_RUNNING if c.running else msg.SERVER_CLUSTER_STOPPED) for c in clusters)
    chosen = discovery.chosen.version if discovery.chosen is not None else PREFERRED_VERSION
    other = next((c for c in clusters if c.version == chosen), clusters[0])
    return [msg.SERVER_NO_CLUSTER_ON_PORT.format(port=port, servers=servers),
            msg.SERVER_USE_OTHER_CLUSTER.format(other=other.port, command=_cluster_command(system, other))]


def start_fix(system: System, discovery: Discovery | None, settings: Settings, in_wizard: bool) -> str | None:
    """How to start *this* server (the one at the configured port), numbered for a Step's fix.

    None when this machine says nothing concrete (a remote host, no service found): the catalogue's
    general steps stand. `in_wizard`: the person answers the question below rather than rerunning."""
    if discovery is None or not is_local(settings.host):
        return None
    from setup_wizard.machine import local_cluster

    user_server = local_cluster.as_service(system, settings)  # the per-user server at this port
    clusters = debian_clusters(system) if system.platform is Platform.LINUX and user_server is None else []
    if not clusters and user_server is None and discovery.chosen is None:
        return _nothing_to_start(system, discovery, in_wizard)
    if clusters:
        lines = _cluster_lines(system, discovery, clusters, settings.port)
    else:
        service = user_server or find_service(system, discovery, settings)
        if service is None or service.state not in (ServiceState.STOPPED, ServiceState.PAUSED):
            return None
        command = (msg.SERVICE_START_WINDOWS_HOW.format(name=service.name, command=service.command_text)
                   if service.kind is ServiceKind.WINDOWS else service.command_text)
        lines = [msg.USER_SERVER_START_LINE.format(command=command) if service.kind is ServiceKind.USER
                 else msg.SERVER_START_SERVICE.format(name=service.name, command=command)]
    lines.append(msg.SERVER_START_THEN_RETRY if in_wizard else msg.SERVER_START_THEN_RERUN)
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))


def _nothing_to_start(system: System, discovery: Discovery, in_wizard: bool) -> str | None:
    """No server on this machine at all: "start it" would be untrue; say a per-user one can be made."""
    from setup_wizard.machine import local_cluster

    route = local_cluster.install_line(system, discovery)
    if route is None or route[0]:
        return None
    return "1. " + (msg.SERVER_NONE_HERE_WIZARD if in_wizard else msg.SERVER_NONE_HERE)


def wait_until_accepting(settings: Settings, timeout: float = SERVICE_WAIT_SECONDS) -> bool:
    """libpq's ping (no credentials) until the server accepts connections, at most `timeout` seconds."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(host=settings.host, port=str(settings.port), user=settings.user,
                             dbname=settings.dbname, connect_timeout="3")
    deadline = time.monotonic() + timeout
    while True:
        with libpq_environment(settings.libpq_environ):
            answer = pq.PGconn.ping(conninfo.encode())
        if answer == pq.Ping.OK:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def _start_user_server(system: System, confirm: Confirm) -> FixOutcome:
    """The per-user server (machine/local_cluster.py): pg_ctl start, no admin rights."""
    from setup_wizard.machine import local_cluster

    place = local_cluster.server_place(system)
    if isinstance(place, local_cluster.Unavailable) or not confirm(msg.ASK_START_USER_SERVER):
        return FixOutcome(False)
    step, done = local_cluster.start(system, place)
    return FixOutcome(done, step)


def start_service(system: System, service: Service, settings: Settings, confirm: Confirm, say: Say,
                  wait: float = SERVICE_WAIT_SECONDS) -> FixOutcome:
    """Explain, ask, start (elevated on Windows: the UAC prompt), then wait until it accepts connections."""
    if service.kind is ServiceKind.USER:
        return _start_user_server(system, confirm)
    if service.kind is ServiceKind.WINDOWS:
        question = msg.ASK_START_SERVICE_WINDOWS.format(name=service.name)
    else:
        question = msg.ASK_START_SERVICE.format(command=service.command_text)
    if service.needs_elevation and service.kind is not ServiceKind.WINDOWS and not system.is_root():
        return FixOutcome(False)  # sudo would ask for a password: the command is shown instead
    if not confirm(question):
        return FixOutcome(False)
    say(msg.STARTING_SERVICE.format(name=service.name, seconds=int(wait)))
    started = time.monotonic()
    if service.kind is ServiceKind.WINDOWS:
        elevation = system.run_elevated(service.start[0], list(service.start[1:]), timeout=wait)
        # ShellExecuteEx returned only once the person answered the UAC prompt: that time is theirs,
        # the server's start-up clock starts after it.
        started += elevation.prompt_seconds
        if elevation.error != 0:
            return FixOutcome(False, problems.step(
                "service_start_declined", "service", Status.FAIL, msg.STEP_SERVICE, name=service.name,
                error=msg.SERVICE_START_UAC_DECLINED if elevation.declined
                else msg.SERVICE_START_WINDOWS_ERROR.format(code=elevation.error)))
        # sc start exits 1056 when the service already runs: not a failure.
        failed = elevation.exit_code not in (0, 1056, None)
        output = msg.SERVICE_START_SC_EXIT.format(name=service.name, code=elevation.exit_code)
    else:
        result: CommandResult = system.run(list(service.start), timeout=wait)
        failed = not result.ok
        output = result.error or result.text
    if failed or not wait_until_accepting(settings, max(1.0, wait - (time.monotonic() - started))):
        log_hint = (str(service.installation.datadir) + "\\log" if service.installation and
                    service.installation.datadir else "journalctl -u postgresql / brew services info")
        return FixOutcome(False, problems.step(
            "service_start_failed", "service", Status.FAIL, msg.STEP_SERVICE, detail=output or service.name,
            log_hint=log_hint, port=settings.port))
    return FixOutcome(True, Step("service", Status.OK, msg.STEP_SERVICE, msg.SERVICE_STARTED.format(
        name=service.name, seconds=time.monotonic() - started)))

