"""The installation checks: which PostgreSQL versions this machine has, whether psql is on PATH (and
the fix that adds it, on Windows), and whether the registry says the local server listens elsewhere.

Each check returns a `Step`; a known problem comes from its catalogue entry (problems.step).
"""

from __future__ import annotations

import re
from pathlib import Path

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import Discovery, Installation, psql_path
from setup_wizard.machine.fix import Confirm, Say
from setup_wizard.machine.login_help import is_local
from setup_wizard.machine.shell import Shell, command_line, detect_shell, git_bash_path
from setup_wizard.machine.system import Platform, System
from setup_wizard.messages import install as msg
from setup_wizard.record import replace
from setup_wizard.results import Status, Step


def describe(installation: Installation) -> str:
    line = msg.INSTALLATION_LINE.format(version=installation.version, bindir=installation.bindir,
                                        origin=installation.origin.shown)
    if installation.service:
        line += msg.INSTALLATION_SERVICE.format(service=installation.service)
    if installation.port is not None:
        line += msg.INSTALLATION_PORT.format(port=installation.port)
    return line


def postgres_step(discovery: Discovery, settings: Settings, user_server: tuple[bool, str] | None = None) -> Step:
    """Every version found and the one used; nothing found on a local setup is a warning, unless the
    per-user server is there (`user_server`: (exists, its line), from local_cluster.install_line)."""
    if discovery.chosen is None:
        if not is_local(settings.host):
            return Step("postgres", Status.SKIP, msg.STEP_POSTGRES, msg.POSTGRES_REMOTE.format(host=settings.host))
        if user_server is not None and user_server[0]:
            return Step("postgres", Status.OK, msg.STEP_POSTGRES, user_server[1])
        step = problems.step("postgres_not_found", "postgres", Status.WARN, msg.STEP_POSTGRES,
                             platform=discovery.platform)
        if user_server is None:
            return step
        # The route that fits this machine first: the per-user server, then the installers.
        renumbered = re.sub(r"(?m)^(\d+)\.", lambda m: f"{int(m.group(1)) + 1}.", step.fix or "")
        return replace(step, fix=f"1. {user_server[1]}\n{renumbered}".rstrip())
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
    elif system.platform is Platform.WINDOWS:
        path_hint = msg.PATH_HINT_WINDOWS.format(bindir=bindir)
    else:
        path_hint = msg.PATH_HINT_POSIX.format(line=f'export PATH="{bindir}:$PATH"')
    return problems.step("psql_not_found", "psql", Status.WARN, msg.STEP_PSQL,
                         command=psql_command(system, discovery.chosen, settings), path_hint=path_hint)


def add_bin_to_path(system: System, bindir: Path, confirm: Confirm, say: Say | None = None) -> bool:
    """Windows: add bindir to the user's PATH (registry, change broadcast) and to this process.

    The other entries are kept exactly as stored (%USERPROFILE%\\... unexpanded). When the current
    value cannot be read, nothing is written: writing "" + bindir would wipe the person's PATH.
    """
    if system.platform is not Platform.WINDOWS or not confirm(msg.ASK_ADD_TO_PATH.format(bindir=bindir)):
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
    return problems.step("port_mismatch", "port", Status.WARN, msg.STEP_PORT, port=settings.port, ports=listed)

