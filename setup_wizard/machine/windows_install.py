"""Route 1: Windows with admin rights installs PostgreSQL 17 the way the team's guides assume.

`winget install -e --id PostgreSQL.PostgreSQL.17` runs the EnterpriseDB installer. Its own switches are
replaced (`--override`) by `--mode unattended --unattendedmodeui none --optionfile FILE`: the superuser,
its password and the port the backend's .env expects go in an option file (InstallBuilder's `--optionfile`,
one `name=value` per line; the names are the installer's `cliOptionName`s in EnterpriseDB/edb-installers
server/installer.xml.in: superaccount, superpassword, serverport) inside a private temporary folder,
never on a command line, and the folder is deleted afterwards, whatever happened. The installer registers
a service, so Windows asks for admin rights (UAC) once; the person is told before.

While winget downloads and installs, the View's progress runs (the wizard: a spinner with the elapsed time).
winget's output goes to a file in that folder, not to a pipe (nothing to drain while it runs, so no pipe
can fill up and stall it), and is read back afterwards as bytes in the console's code page (CP949).

winget's result codes (microsoft/winget-cli, AppInstallerErrors.h) become Korean failures with a next
step; the per-user server (route 2) is the way on when this one cannot be taken.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.fix import Confirm, FixOutcome, Say
from setup_wizard.machine.system import Platform, System
from setup_wizard.messages import server as msg
from setup_wizard.results import Status, Step

WINGET_ID = "PostgreSQL.PostgreSQL.17"
INSTALL_SECONDS = 1800  # a download of ~350 MB, then the installer

# winget's HRESULTs (AppInstallerErrors.h) -> the reason shown (messages.server.WINGET_REASONS).
# PACKAGE_ALREADY_INSTALLED, UPDATE_NOT_APPLICABLE (installed, nothing newer), INSTALL_ALREADY_INSTALLED
ALREADY = {0x8A150061, 0x8A15002B, 0x8A15010D}
REBOOT_TO_FINISH = 0x8A150109  # installed; a restart finishes it
REASONS = {
    0x8A150008: "network",  # DOWNLOAD_FAILED
    0x8A150107: "network",  # INSTALL_NO_NETWORK
    0x8A150045: "network",  # SOURCE_OPEN_FAILED
    0x8A15004B: "network",  # FAILED_TO_OPEN_ALL_SOURCES
    0x8A15010C: "cancelled",  # INSTALL_CANCELLED_BY_USER (also a declined UAC prompt)
    0x8A15010A: "reboot_first",  # INSTALL_REBOOT_REQUIRED_TO_INSTALL
    0x8A150102: "busy",  # INSTALL_INSTALL_IN_PROGRESS
    0x8A150105: "disk_full",  # INSTALL_DISK_FULL
    0x8A15010F: "policy",  # INSTALL_BLOCKED_BY_POLICY
    0x8A15003A: "policy",  # BLOCKED_BY_POLICY
    0x8A150014: "not_found",  # NO_APPLICATIONS_FOUND
    0x8A150006: "installer",  # SHELLEXEC_INSTALL_FAILED: the installer's own exit code is in the output
}
ERROR_CANCELLED = 1223  # the UAC prompt answered "no", as the installer's exit code

# The View's progress (flow/view.py): shown while the work inside runs; the wizard's is a live spinner.
Progress = Callable[[str], AbstractContextManager[Say]]


def available(system: System) -> bool:
    return system.platform is Platform.WINDOWS and system.which("winget") is not None


def option_text(settings: Settings) -> str:
    """The installer's option file: what the backend's .env expects, so .env needs no change."""
    return (f"superaccount={settings.user}\n"
            f"superpassword={settings.password or ''}\n"
            f"serverport={settings.port}\n")


def install_argv(winget: str, option_file: Path) -> list[str]:
    override = f'--mode unattended --unattendedmodeui none --optionfile "{option_file}"'
    return [winget, "install", "-e", "--id", WINGET_ID, "--accept-package-agreements",
            "--accept-source-agreements", "--disable-interactivity", "--override", override]


def _reason(returncode: int, output: str) -> str:
    code = returncode & 0xFFFFFFFF
    reason = REASONS.get(code, "other")
    if reason == "installer" and str(ERROR_CANCELLED) in output:
        return "cancelled"
    return reason


def install(system: System, settings: Settings, confirm: Confirm, progress: Progress) -> FixOutcome:
    """Ask (UAC explained), install through winget with the option file (progress shown while it runs),
    then say what came of it.
    done=True: PostgreSQL 17 is installed (or already was); the caller looks in the registry again."""
    winget = system.which("winget")
    if winget is None or not confirm(msg.ASK_WINGET_INSTALL.format(port=settings.port, user=settings.user)):
        return FixOutcome(False)
    folder = Path(tempfile.mkdtemp(prefix="setup_wizard_install_"))  # private: only this user may read it
    option_file = folder / "postgresql.options"
    try:
        descriptor = os.open(option_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(option_text(settings))
        with progress(msg.WINGET_INSTALLING.format(minutes=INSTALL_SECONDS // 60)):
            result = system.run(install_argv(str(winget), option_file), timeout=INSTALL_SECONDS,
                                output=folder / "winget.log")
    finally:
        with contextlib.suppress(OSError):
            option_file.unlink()
        shutil.rmtree(folder, ignore_errors=True)
    code = result.returncode & 0xFFFFFFFF
    if result.ok or code in ALREADY or code == REBOOT_TO_FINISH:
        text = msg.WINGET_ALREADY if code in ALREADY else msg.WINGET_INSTALLED
        if code == REBOOT_TO_FINISH:
            text += "\n" + msg.WINGET_REBOOT_TO_FINISH
        return FixOutcome(True, Step("install", Status.OK, msg.STEP_INSTALL, text))
    output = (result.error or result.text or "-").strip().splitlines()[-8:]
    reason = _reason(result.returncode, "\n".join(output))
    return FixOutcome(False, problems.step(
        "postgres_install_failed", "install", Status.FAIL, msg.STEP_INSTALL,
        reason=msg.WINGET_REASONS[reason], exit_code=f"0x{code:08X}", output="\n".join(output),
        next_step=msg.WINGET_NEXT_STEPS[reason]))
