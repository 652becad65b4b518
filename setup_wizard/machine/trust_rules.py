"""The temporary trust rules of a password reset, in the server's pg_hba.conf (steps 1-3 and 5 of
machine/password_reset.py).

`trusted` backs the file up (a copy beside it), puts three `trust` lines for one user, from this
computer only, at the top, and makes the server read them (`pg_ctl reload`); afterwards, whatever
happened, it writes the original bytes back, reloads, and compares the file byte for byte. The file
is rewritten in place, so its owner, mode and Windows ACL stay as they were; a copy left by a run
that was killed is recognised by its marker line and restored first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from setup_wizard.machine.system import CommandResult, System
from setup_wizard.messages import login as msg
from setup_wizard.record import record

BACKUP_SUFFIX = ".setup_wizard-backup"
MARK = b"# setup_wizard: temporary password-reset rules; the original is in pg_hba.conf" + BACKUP_SUFFIX.encode()


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


@record(eq=True)
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
        _write_in_place(target.hba_file, trust_lines(user, original, not system.platform.is_windows) + original)
        result = reload(system, target)
        if not result.ok:
            raise ResetFailed(msg.RESET_REASON_RELOAD.format(output=result.error or result.text or result.returncode))
        loaded = True
        yield
    except OSError as exc:
        raise ResetFailed(msg.RESET_REASON_FILE.format(error=exc.strerror or exc)) from exc
    finally:
        _restore(system, target, original, loaded)

