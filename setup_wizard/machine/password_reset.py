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
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setup_wizard import messages as msg
from setup_wizard.config.settings import Settings
from setup_wizard.machine.discovery import Discovery, tool_path
from setup_wizard.machine.login_help import Kind, debian_clusters, is_local, kind_of, serving
from setup_wizard.machine.system import CommandResult, Elevation, System
from setup_wizard.results import Status, Step

BACKUP_SUFFIX = ".setup_wizard-backup"
MARK = b"# setup_wizard: temporary password-reset rules; the original is in pg_hba.conf" + BACKUP_SUFFIX.encode()
RELOAD_WAIT = 10.0  # seconds for a reload to take effect
HELPER_TIMEOUT = 180.0  # the elevated helper restores the file by itself after this long
NO_PASSFILE = os.path.join(tempfile.gettempdir(), "setup_wizard-no-passfile")

Confirm = Callable[[str], bool]
AskPassword = Callable[[str], str]
Say = Callable[[str], None]


class ResetFailed(Exception):
    """A step failed; the file was restored. `reason` is Korean, for the person."""

    def __init__(self, reason: str, changed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.changed = changed  # the new password was stored; only the check after it failed


class RestoreFailed(Exception):
    """The original file could not be put back: the person must copy the backup."""

    def __init__(self, backup: Path) -> None:
        super().__init__(str(backup))
        self.backup = backup


@dataclass(frozen=True)
class ResetTarget:
    """Where the server's access rules live and how to make the server read them again."""

    hba_file: Path
    datadir: Path
    pg_ctl: Path
    run_as: str | None = None  # pg_ctl refuses root: run it as the data folder's owner
    elevated: bool = False  # Windows: the file and pg_ctl need administrator rights (UAC)

    @property
    def backup(self) -> Path:
        return self.hba_file.with_name(self.hba_file.name + BACKUP_SUFFIX)


@dataclass(frozen=True)
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
    if sys.platform == "win32":
        return None  # NTFS: the data folder's owner is not a login to run pg_ctl as
    try:
        import pwd

        return str(pwd.getpwuid(path.stat().st_uid).pw_name)
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
    if system.platform == "windows":
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
        if system.platform == "darwin":
            folders += _mac_datadirs(system, installation.version)
        for folder in folders:
            if system.exists(system.path(folder, "PG_VERSION")):
                target = local_target(system, folder, pg_ctl, port=settings.port)
                if target is not None:
                    return target
    return None


# --- the temporary rules -------------------------------------------------------------------------------
def trust_lines(user: str, original: bytes, sockets: bool) -> bytes:
    """The lines put on top: trust for this user only, from this computer only."""
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    name = b'"' + user.encode("utf-8") + b'"'
    rows = [MARK, b"host all " + name + b" 127.0.0.1/32 trust", b"host all " + name + b" ::1/128 trust"]
    if sockets:
        rows.append(b"local all " + name + b" trust")
    return newline.join(rows) + newline


def _write_in_place(path: Path, data: bytes) -> None:
    """Rewrite the file's bytes keeping the file itself (its owner, mode and ACL)."""
    with path.open("r+b") as stream:
        stream.write(data)
        stream.truncate()
        stream.flush()
        os.fsync(stream.fileno())


def _original_bytes(target: ResetTarget) -> bytes:
    """The file as it was. A marked file with a backup beside it is a run that was killed: the backup."""
    current = target.hba_file.read_bytes()
    if current.startswith(MARK) and target.backup.exists():
        original = target.backup.read_bytes()
        _write_in_place(target.hba_file, original)
        return original
    return current


def _write_backup(target: ResetTarget, original: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    handle = os.open(target.backup, flags, 0o600)
    with os.fdopen(handle, "wb") as stream:
        stream.write(original)
    if target.run_as and hasattr(os, "chown"):
        with contextlib.suppress(OSError, LookupError):
            import shutil

            shutil.chown(target.backup, user=target.run_as)


def reload(system: System, target: ResetTarget) -> CommandResult:
    env = {k: v for k, v in system.environ.items() if not k.startswith("PG")}
    return system.run([str(target.pg_ctl), "reload", "-D", str(target.datadir)], timeout=30,
                      user=target.run_as, env=env)


def _restore(system: System, target: ResetTarget, original: bytes, loaded: bool) -> None:
    """The original bytes back, read back and compared. When the server had read the temporary rules,
    it must read the file again too: a failed reload then counts as a failed restore."""
    try:
        _write_in_place(target.hba_file, original)
        reloaded = reload(system, target).ok
        if target.hba_file.read_bytes() != original or (loaded and not reloaded):
            raise RestoreFailed(target.backup)
    except OSError as exc:
        raise RestoreFailed(target.backup) from exc
    with contextlib.suppress(OSError):
        target.backup.unlink()


@contextlib.contextmanager
def trusted(system: System, target: ResetTarget, user: str) -> Iterator[None]:
    """The temporary rules in force for the body; the original file back afterwards, whatever happens."""
    try:
        original = _original_bytes(target)
        _write_backup(target, original)
    except OSError as exc:
        raise ResetFailed(msg.RESET_REASON_FILE.format(error=exc.strerror or exc)) from exc
    loaded = False
    try:
        _write_in_place(target.hba_file, trust_lines(user, original, system.platform != "windows") + original)
        result = reload(system, target)
        if not result.ok:
            raise ResetFailed(msg.RESET_REASON_RELOAD.format(output=result.error or result.text or result.returncode))
        loaded = True
        yield
    except OSError as exc:
        raise ResetFailed(msg.RESET_REASON_FILE.format(error=exc.strerror or exc)) from exc
    finally:
        _restore(system, target, original, loaded)


# --- talking to the server -------------------------------------------------------------------------------
def _wait_for(settings: Settings, wanted: str, seconds: float = RELOAD_WAIT) -> str:
    """The server's first answer without a password until it is `wanted` ("ready": trust is in force;
    "password": it asks again), an error, or time runs out. Returns the last kind seen."""
    from setup_wizard.database.connect import startup_probe

    deadline = time.monotonic() + seconds
    while True:
        reply = startup_probe(settings.host, settings.port, settings.user, "postgres")
        if reply.kind == wanted or reply.kind == "error":
            if reply.kind == "error" and reply.sqlstate == "28000":
                raise ResetFailed(msg.RESET_REASON_ROLE_MISSING.format(user=settings.user))
            if reply.kind == "error" and reply.sqlstate == "3D000":  # logged in; no such database
                return wanted
            if reply.kind == "error":
                raise ResetFailed(msg.RESET_REASON_CONNECT.format(error=reply.message or reply.sqlstate))
            return reply.kind
        if time.monotonic() >= deadline:
            return reply.kind
        time.sleep(0.2)


def _params(settings: Settings, password: str) -> dict[str, Any]:
    params = settings.conninfo_params("postgres")
    # A passfile that does not exist: libpq then reads no ~/.pgpass (os.devnull would make it warn).
    params.update(password=password, passfile=NO_PASSFILE, connect_timeout=5, application_name="setup_wizard")
    return params


def set_password(settings: Settings, new_password: str) -> None:
    """Log in without a password (the temporary rules) and store a SCRAM verifier made here."""
    import psycopg
    from psycopg import sql

    if _wait_for(settings, "ready") != "ready":
        raise ResetFailed(msg.RESET_REASON_CONNECT.format(error="trust"))
    try:
        with psycopg.connect(**_params(settings, ""), autocommit=True) as conn:
            verifier = conn.pgconn.encrypt_password(new_password.encode("utf-8"), settings.user.encode("utf-8"))
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(settings.user), sql.Literal(verifier.decode("ascii"))))
    except psycopg.Error as exc:
        raise ResetFailed(msg.RESET_REASON_ALTER.format(error=type(exc).__name__)) from exc


def verify(settings: Settings, new_password: str) -> None:
    """The rules are back (the server asks for a password again) and the new password logs in."""
    import psycopg

    if _wait_for(settings, "password") == "ready":  # still no password asked: the rules were not read back
        raise ResetFailed(msg.RESET_REASON_VERIFY.format(error="trust"), changed=True)
    try:
        with psycopg.connect(**_params(settings, new_password)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ResetFailed(msg.RESET_REASON_VERIFY.format(error=type(exc).__name__), changed=True) from exc


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
        return ResetOutcome(False, Step("password_reset", Status.FAIL, title, detail, "password_reset_failed"))
    except ResetFailed as failure:
        if failure.changed:  # stored, not confirmed: the connect loop tries it next and says the truth
            detail = failure.reason + "\n" + msg.RESET_UNVERIFIED.format(hba=target.hba_file)
            return ResetOutcome(True, Step("password_reset", Status.WARN, title, detail), new_password)
        detail = failure.reason + "\n" + msg.RESET_NOT_DONE.format(hba=target.hba_file)
        return ResetOutcome(False, Step("password_reset", Status.FAIL, title, detail, "password_reset_failed",
                                        msg.RESET_FIX.format(user=settings.user)))
    done = msg.RESET_DONE.format(user=settings.user, hba=target.hba_file)
    return ResetOutcome(True, Step("password_reset", Status.OK, title, done), new_password)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "hold":
        return hold(Path(argv[1]))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
