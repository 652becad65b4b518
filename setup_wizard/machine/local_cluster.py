"""A local development cluster, for a machine that has PostgreSQL's programs but no server at all:
which binaries can run one, the folder it goes in (ASCII on Windows), and the fix that creates it with
initdb (the configured user, password and port) and starts it with pg_ctl.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from setup_wizard import messages as msg
from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import Discovery, Installation, has_server_binaries, tool_path
from setup_wizard.machine.fix import Confirm, FixOutcome, Say
from setup_wizard.machine.login_help import is_local
from setup_wizard.machine.services import Service
from setup_wizard.machine.shell import command_line, detect_shell, env_get
from setup_wizard.machine.system import CommandResult, ServiceState, System
from setup_wizard.results import Status, Step


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
    return problems.step("no_server_installed", "cluster", Status.WARN, msg.STEP_CLUSTER,
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
    return FixOutcome(False, problems.step("cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER, detail=detail))


def create_local_cluster(system: System, installation: Installation, folder: Path, settings: Settings,
                         confirm: Confirm, say: Say) -> FixOutcome:
    """initdb into `folder` with the configured user and password (through a file, never the command
    line), the configured port in its postgresql.conf, then pg_ctl start. Needs settings.password."""
    if not confirm(msg.ASK_CREATE_CLUSTER.format(bindir=installation.bindir, port=settings.port)):
        return FixOutcome(False)
    if system.platform == "windows" and not str(folder).isascii():
        return FixOutcome(False, problems.step("cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                                               detail=msg.CLUSTER_FOLDER_NOT_ASCII.format(
                                                   folder=folder, suggestion=_ascii_fallback_folder(system))))
    if folder.exists() and any(folder.iterdir()):
        return FixOutcome(False, problems.step("cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                                               detail=msg.CLUSTER_FOLDER_NOT_EMPTY.format(folder=folder)))
    run_as: str | None = None
    if system.is_root() and sys.platform != "win32":  # PostgreSQL refuses to run as root
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return FixOutcome(False, problems.step("cluster_failed", "cluster", Status.FAIL, msg.STEP_CLUSTER,
                                                   detail=msg.CLUSTER_NEEDS_POSTGRES_USER))
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
