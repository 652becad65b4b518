"""Starting the per-user server at logon, without admin rights, only with consent, and its undo.

- Linux: a systemd user unit `~/.config/systemd/user/setup_wizard-postgres.service` (pg_ctl start/stop),
  enabled with `systemctl --user enable`. Not for root: the server runs as `postgres`, whom a user unit of
  root cannot become.
- macOS: a LaunchAgent `~/Library/LaunchAgents/com.setup-wizard.postgres.plist` (RunAtLoad).
- Windows: `setup_wizard-postgres.cmd` in the user's Startup folder.

Each runs the server's own pg_ctl (no Python at logon). `server autostart off` removes the entry.
"""

from __future__ import annotations

import contextlib
import plistlib
from pathlib import Path

from setup_wizard import problems
from setup_wizard.machine import local_cluster
from setup_wizard.machine.shell import env_get
from setup_wizard.machine.system import Platform, System
from setup_wizard.messages import server as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

UNIT = "setup_wizard-postgres.service"
AGENT = "com.setup-wizard.postgres"
STARTUP_FILE = "setup_wizard-postgres.cmd"


@record(eq=True)
class Entry:
    path: Path
    text: str


def _home(system: System) -> str:
    return env_get(system.environ, "HOME") or str(Path.home())


def _entry(system: System, place: local_cluster.Place, pg_ctl: Path) -> Entry:
    data, log = str(place.data), str(place.log)
    if system.platform is Platform.WINDOWS:
        appdata = env_get(system.environ, "APPDATA") or ""
        folder = system.path(appdata, "Microsoft", "Windows", "Start Menu", "Programs", "Startup")
        text = f'@echo off\r\n"{pg_ctl}" start -D "{data}" -l "{log}"\r\n'
        return Entry(system.path(folder, STARTUP_FILE), text)
    if system.platform is Platform.MACOS:
        plist = {"Label": AGENT, "RunAtLoad": True,
                 "ProgramArguments": [str(pg_ctl), "start", "-D", data, "-l", log]}
        return Entry(system.path(_home(system), "Library", "LaunchAgents", AGENT + ".plist"),
                     plistlib.dumps(plist).decode("utf-8"))
    config = system.environ.get("XDG_CONFIG_HOME") or str(system.path(_home(system), ".config"))
    text = (
        "[Unit]\nDescription=setup_wizard: the per-user PostgreSQL server\n\n"
        "[Service]\nType=forking\n"
        f'ExecStart="{pg_ctl}" start -D "{data}" -l "{log}" -w\n'
        f'ExecStop="{pg_ctl}" stop -D "{data}" -m fast\n\n'
        "[Install]\nWantedBy=default.target\n"
    )
    return Entry(system.path(config, "systemd", "user", UNIT), text)


def _place(system: System) -> tuple[local_cluster.Place, Path] | Step:
    place = local_cluster.server_place(system)
    if isinstance(place, local_cluster.Unavailable):
        return place.step("autostart")
    current = local_cluster.state(system, place)
    if current is None:
        return problems.step("user_server_missing", "autostart", Status.FAIL, msg.STEP_AUTOSTART,
                             folder=place.base)
    if current.bindir is None:
        return problems.step("user_server_no_binaries", "autostart", Status.FAIL, msg.STEP_AUTOSTART,
                             version=current.version or "?")
    if place.run_as is not None:
        return problems.step("autostart_unavailable", "autostart", Status.FAIL, msg.STEP_AUTOSTART,
                             user=place.run_as)
    return place, system.path(current.bindir, system.platform.executable("pg_ctl"))


def entry_path(system: System) -> Path | None:
    """Where this machine's logon entry is (or would be); None where there is no per-user server."""
    found = _place(system)
    return None if isinstance(found, Step) else _entry(system, *found).path


def enable(system: System) -> Step:
    found = _place(system)
    if isinstance(found, Step):
        return found
    entry = _entry(system, *found)
    try:
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        entry.path.write_text(entry.text, encoding="utf-8", newline="")
    except OSError as error:
        return problems.step("autostart_failed", "autostart", Status.FAIL, msg.STEP_AUTOSTART,
                             error=error, path=entry.path)
    if system.platform is Platform.LINUX:
        for argv in (["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", UNIT]):
            result = system.run(argv, timeout=30)
            if not result.ok:
                with contextlib.suppress(OSError):
                    entry.path.unlink()
                return problems.step("autostart_failed", "autostart", Status.FAIL, msg.STEP_AUTOSTART,
                                     error=result.error or result.text or result.returncode, path=entry.path)
    return Step("autostart", Status.OK, msg.STEP_AUTOSTART, msg.AUTOSTART_ON.format(path=entry.path))


def disable(system: System) -> Step:
    path = entry_path(system)
    if path is None or not path.exists():
        return Step("autostart", Status.OK, msg.STEP_AUTOSTART, msg.AUTOSTART_ALREADY_OFF)
    if system.platform is Platform.LINUX:
        system.run(["systemctl", "--user", "disable", UNIT], timeout=30)
    try:
        path.unlink()
    except OSError as error:
        return problems.step("autostart_failed", "autostart", Status.FAIL, msg.STEP_AUTOSTART, error=error,
                             path=path)
    return Step("autostart", Status.OK, msg.STEP_AUTOSTART, msg.AUTOSTART_OFF.format(path=path))


def is_on(system: System) -> bool:
    path = entry_path(system)
    return path is not None and path.exists()
