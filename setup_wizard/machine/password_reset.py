"""A guided password reset for a local server the wizard can administer, with the person's consent.

The only way in without the password is the server's own access rules (pg_hba.conf). So:

1. back up pg_hba.conf (a copy beside it) and keep its bytes;
2. put three lines at the top: `trust` for this one user, from this computer only (127.0.0.1, ::1 and,
   off Windows, the local socket); the first matching line wins, so nothing else is edited;
3. `pg_ctl reload -D <data folder>` (`SELECT pg_reload_conf()` needs a login we do not have);
4. log in without a password, and `ALTER ROLE ... PASSWORD` with a SCRAM verifier computed here by
   libpq (`PQencryptPasswordConn`): the password itself never reaches the server, its logs or a
   command line;
5. write the original bytes back, reload again, read the file back and compare: byte for byte;
6. log in with the new password once the server asks for passwords again.

Any failure after step 1 restores the file and reloads (a `finally`), and a copy left by a run that
was killed is recognised by its marker line and restored first. The file is rewritten in place, so its
owner, mode and Windows ACL stay as they were.

Who can do it: on Windows the data folder usually belongs to the service account, so steps 1-3 and 5
run in an elevated helper (one UAC prompt) that holds the rules open until the wizard says it is done
or a time limit passes, then restores them itself; on Linux root (pg_ctl then runs as the data
folder's owner) or the owner of the data folder; on macOS the Homebrew or Postgres.app user.

The rules (steps 1-3 and 5) are machine/trust_rules.py, the logins (steps 4 and 6)
machine/reset_login.py. Here: finding the server, running the steps in this process or through the
elevated helper (both sides of its handshake), and asking the person.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import Discovery, tool_path
from setup_wizard.machine.login_help import Kind, debian_clusters, is_local, kind_of, serving
from setup_wizard.machine.reset_login import RELOAD_WAIT, set_password, verify
from setup_wizard.machine.system import Elevation, Platform, System, running_platform
from setup_wizard.machine.trust_rules import ResetFailed, ResetTarget, RestoreFailed, trusted
from setup_wizard.messages import login as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

HELPER_TIMEOUT = 180.0  # the elevated helper restores the file by itself after this long

Confirm = Callable[[str], bool]
AskPassword = Callable[[str], str]
Say = Callable[[str], None]


@record(eq=True)
class ResetOutcome:
    done: bool
    step: Step | None  # what to show (None: declined, nothing happened)
    password: str | None = None  # the new password, for the settings (never shown)


# --- finding a server this process may administer ------------------------------------------------------
def _can_write(path: Path) -> bool:
    """Open for writing without writing: the honest test on Windows, where os.access ignores ACLs."""
    try:
        with path.open("r+b"):
            return True
    except OSError:
        return False


def _owner(path: Path) -> str | None:
    if running_platform().is_windows:
        return None  # NTFS: the data folder's owner is not a login to run pg_ctl as
    try:
        import pwd

        return str(pwd.getpwuid(path.stat().st_uid).pw_name)  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, KeyError, OSError):
        return None


def _pid_port(datadir: Path) -> int | None:
    """The port of the server running on this data folder (postmaster.pid, line 4), if readable."""
    try:
        lines = (datadir / "postmaster.pid").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None


def local_target(system: System, datadir: Path, pg_ctl: Path, hba_file: Path | None = None,
                 port: int | None = None) -> ResetTarget | None:
    """A data folder on this machine that this process may change (as root, or as its owner)."""
    hba = hba_file or datadir / "pg_hba.conf"
    if port is not None and _pid_port(datadir) not in (None, port):
        return None  # that folder's server listens elsewhere
    if system.is_root():
        owner = _owner(datadir)
        return ResetTarget(hba, datadir, pg_ctl, run_as=owner) if owner and owner != "root" else None
    if hba.exists() and _can_write(hba) and system.exists(pg_ctl):
        return ResetTarget(hba, datadir, pg_ctl)
    return None


def _windows_target(system: System, discovery: Discovery, settings: Settings) -> ResetTarget | None:
    for installation in serving(system, discovery, settings):
        if installation.datadir is None or kind_of(system, installation) is Kind.UNKNOWN:
            continue
        pg_ctl = tool_path(system, installation, "pg_ctl")
        if not system.exists(pg_ctl):
            continue
        hba = system.path(installation.datadir, "pg_hba.conf")
        return ResetTarget(hba, installation.datadir, pg_ctl, elevated=not _can_write(hba))
    return None


def _mac_datadirs(system: System, version: str) -> list[Path]:
    home = system.environ.get("HOME", "")
    return [system.path(p) for p in (
        f"/opt/homebrew/var/postgresql@{version}", f"/usr/local/var/postgresql@{version}",
        "/opt/homebrew/var/postgres", "/usr/local/var/postgres",
        f"{home}/Library/Application Support/Postgres/var-{version}")]


def find_target(system: System, discovery: Discovery | None, settings: Settings) -> ResetTarget | None:
    """The local server on the configured port, when this process can administer it; else None."""
    if discovery is None or not is_local(settings.host) or '"' in settings.user or "\n" in settings.user:
        return None
    if system.platform is Platform.WINDOWS:
        return _windows_target(system, discovery, settings)
    for cluster in debian_clusters(system):
        if cluster.port != settings.port:
            continue
        conf = system.path("/etc/postgresql", cluster.version, cluster.name, "pg_hba.conf")
        pg_ctl = system.path("/usr/lib/postgresql", cluster.version, "bin", "pg_ctl")
        return local_target(system, cluster.datadir, pg_ctl, conf if system.exists(conf) else None, settings.port)
    for installation in serving(system, discovery, settings):
        pg_ctl = tool_path(system, installation, "pg_ctl")
        folders = [installation.datadir] if installation.datadir is not None else []
        if system.platform is Platform.MACOS:
            folders += _mac_datadirs(system, installation.version)
        for folder in folders:
            if system.exists(system.path(folder, "PG_VERSION")):
                target = local_target(system, folder, pg_ctl, port=settings.port)
                if target is not None:
                    return target
    return None


# --- one reset, in this process or through the elevated helper -----------------------------------------
def reset_password(system: System, target: ResetTarget, settings: Settings, new_password: str) -> None:
    """Steps 1-6 above. Raises ResetFailed (file restored) or RestoreFailed (copy the backup back)."""
    if target.elevated:
        _reset_elevated(system, target, settings, new_password)
    else:
        with trusted(system, target, settings.user):
            set_password(settings, new_password)
    verify(settings, new_password)


def _reset_elevated(system: System, target: ResetTarget, settings: Settings, new_password: str) -> None:
    """Windows: one UAC prompt for a helper that holds the rules until `done` appears, then restores.

    The UAC prompt is raised from this (the console's) thread, which waits for the helper to exit;
    a worker thread sets the password once the helper says `ready`, then writes `done`."""
    folder = Path(tempfile.mkdtemp(prefix="setup_wizard_reset_"))
    params = {"hba": str(target.hba_file), "datadir": str(target.datadir), "pg_ctl": str(target.pg_ctl),
              "run_as": target.run_as, "user": settings.user, "folder": str(folder), "timeout": HELPER_TIMEOUT}
    (folder / "params.json").write_text(json.dumps(params), encoding="utf-8")
    stop = threading.Event()
    errors: list[ResetFailed] = []

    def work() -> None:
        try:
            while not (folder / "ready").exists() and not stop.is_set():
                time.sleep(0.2)
            if (folder / "ready").exists():
                set_password(settings, new_password)
        except ResetFailed as failure:
            errors.append(failure)
        finally:
            (folder / "done").write_text("done", encoding="utf-8")

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    args = ["-m", "setup_wizard.machine.password_reset", "hold", str(folder / "params.json")]
    try:
        elevation = system.run_elevated(sys.executable, args, timeout=HELPER_TIMEOUT + 30)
        stop.set()
        worker.join(RELOAD_WAIT + 30)
        _helper_result(folder, elevation, target, errors)
    finally:
        stop.set()
        for name in ("params.json", "ready", "done", "result.json"):
            with contextlib.suppress(OSError):
                (folder / name).unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


def _helper_result(folder: Path, elevation: Elevation, target: ResetTarget, errors: list[ResetFailed]) -> None:
    """The worst first: a file not restored, then why the password was not set, then the helper's own error."""
    if elevation.declined:
        raise ResetFailed(msg.RESET_REASON_DECLINED)
    try:
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {}
    if result.get("restore_failed"):
        raise RestoreFailed(target.backup)
    if errors:
        raise errors[0]
    if result.get("reason"):
        raise ResetFailed(str(result["reason"]))
    if elevation.error != 0 or elevation.exit_code not in (0, None) or not result.get("ok"):
        raise ResetFailed(msg.RESET_REASON_HELPER.format(code=elevation.exit_code or elevation.error))


def hold(params_path: Path, system: System | None = None) -> int:
    """The elevated helper: the temporary rules until the wizard writes `done` (or time runs out)."""
    from setup_wizard.machine.real_system import RealSystem

    params = json.loads(params_path.read_text(encoding="utf-8"))
    folder = Path(params["folder"])
    target = ResetTarget(Path(params["hba"]), Path(params["datadir"]), Path(params["pg_ctl"]), params["run_as"])
    result: dict[str, Any] = {}
    try:
        with trusted(system or RealSystem(), target, params["user"]):
            (folder / "ready").write_text("ready", encoding="utf-8")
            deadline = time.monotonic() + float(params["timeout"])
            while not (folder / "done").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        result["ok"] = True
    except ResetFailed as failure:
        result["reason"] = failure.reason
    except RestoreFailed:
        result["restore_failed"] = True
    (folder / "result.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0 if result.get("ok") else 1


# --- the guided reset, as the flow offers it ----------------------------------------------------------------
def ask_new_password(ask: AskPassword, say: Say, user: str) -> str | None:
    """Typed twice, never shown; None when the person gives nothing."""
    for _ in range(3):
        first = ask(msg.ASK_NEW_PASSWORD.format(user=user))
        if not first:
            return None
        if ask(msg.ASK_NEW_PASSWORD_AGAIN) == first:
            return first
        say(msg.NEW_PASSWORD_MISMATCH)
    return None


def guided_reset(system: System, target: ResetTarget, settings: Settings, confirm: Confirm,
                 ask: AskPassword, say: Say) -> ResetOutcome:
    """Explain, ask consent (the caller's confirm must be a person's: never --yes or check), take the
    new password twice, reset. The returned step says what happened and that the file is as it was."""
    question = msg.ASK_RESET_PASSWORD.format(user=settings.user, hba=target.hba_file)
    if target.elevated:
        question += msg.ASK_RESET_PASSWORD_UAC
    if not confirm(question):
        return ResetOutcome(False, None)
    new_password = ask_new_password(ask, say, settings.user)
    if new_password is None:
        return ResetOutcome(False, None)
    say(msg.RESETTING_PASSWORD)
    title = msg.STEP_PASSWORD_RESET
    try:
        reset_password(system, target, settings, new_password)
    except RestoreFailed as failure:
        detail = msg.RESET_RESTORE_FAILED.format(user=settings.user, backup=failure.backup, hba=target.hba_file)
        return ResetOutcome(False, problems.step("password_reset_failed", "password_reset", Status.FAIL, title,
                                                 detail=detail, fix=""))
    except ResetFailed as failure:
        if failure.changed:  # stored, not confirmed: the connect loop tries it next and says the truth
            detail = failure.reason + "\n" + msg.RESET_UNVERIFIED.format(hba=target.hba_file)
            return ResetOutcome(True, Step("password_reset", Status.WARN, title, detail), new_password)
        detail = failure.reason + "\n" + msg.RESET_NOT_DONE.format(hba=target.hba_file)
        return ResetOutcome(False, problems.step("password_reset_failed", "password_reset", Status.FAIL, title,
                                                 detail=detail, fix=msg.RESET_FIX.format(user=settings.user)))
    done = msg.RESET_DONE.format(user=settings.user, hba=target.hba_file)
    return ResetOutcome(True, Step("password_reset", Status.OK, title, done), new_password)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "hold":
        return hold(Path(argv[1]))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
