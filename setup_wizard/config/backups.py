"""Where the previous .env goes before the wizard rewrites it: the per-user data folder, never the project.

A backup holds the same secrets as the .env (the old DATABASE_URL, SECRET_KEY ...). Kept beside it in
`backend/`, it kept the old file's mode (644: readable by everyone) and showed in `git status` (a
`.gitignore` line `.env` does not cover `.env.bak`), so `git add .` committed it. So backups go where git
does not look and only their owner can read:

- Linux and others: `$XDG_DATA_HOME/setup_wizard/backups` (default `~/.local/share/...`),
- macOS: `~/Library/Application Support/setup_wizard/backups`,
- Windows: `%LOCALAPPDATA%\\setup_wizard\\backups` (NTFS: the user's profile is private by default),

in a folder per project (its folder names and a short hash of its path), one file per backup named by
when it was made. Each is written to a temporary file created with mode 600 (mkstemp) and renamed into
place: never readable by others, never half-written. The folders are created 700.

platformdirs knows these folders too, but reads os.environ; the wizard reads its environment from the
Environment object (tests point the data folder at a temporary one), so this small function does it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from pathlib import Path

from setup_wizard.machine.system import Platform
from setup_wizard.record import record

APP = "setup_wizard"


class BackupFailed(OSError):
    """The backup could not be written (so the file it would have saved was not touched)."""

    def __init__(self, folder: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror)
        self.folder = folder


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(home) if home else Path(os.path.expanduser("~"))


def data_folder(environ: Mapping[str, str], platform: Platform) -> Path:
    """This program's per-user data folder (not created here)."""
    if platform is Platform.WINDOWS:
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else _home(environ) / "AppData" / "Local"
    elif platform is Platform.MACOS:
        base = _home(environ) / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        # The XDG spec: a relative value is invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else _home(environ) / ".local" / "share"
    return base / APP


def project_label(folder: Path) -> str:
    """A folder name that says which project: its last two folder names, then a short hash of the whole
    path (two clones of one repository get two folders)."""
    resolved = folder.resolve()
    words = "-".join(part for part in resolved.parts[-2:] if part not in ("/", "\\") and not part.endswith(":\\"))
    safe = re.sub(r"[^\w.-]+", "_", words).strip("._-")[:60] or "project"
    return f"{safe}-{hashlib.sha256(str(resolved).encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


@record(frozen=False)
class Backups:
    """Where this run keeps backups, and the ones it made (the last screen names them)."""

    folder: Path  # .../setup_wizard/backups
    kept: list[Path] = field(default_factory=list)

    @classmethod
    def for_environment(cls, environ: Mapping[str, str], platform: Platform) -> Backups:
        return cls(data_folder(environ, platform) / "backups")

    def _private_folder(self, source: Path) -> Path:
        folder = self.folder / project_label(source.parent)
        self.folder.parent.parent.mkdir(parents=True, exist_ok=True)
        for level in (self.folder.parent, self.folder, folder):
            level.mkdir(mode=0o700, exist_ok=True)
        return folder

    def keep(self, source: Path, data: bytes, now: datetime) -> Path:
        """Store `data` (the file `source` as it is before the rewrite) as a new backup; its path.

        BackupFailed when it cannot be written (nothing is then left behind)."""
        folder = self.folder
        temp: str | None = None
        try:
            folder = self._private_folder(source)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")  # mode 600 from the start
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            stem = f"{source.name.lstrip('.') or 'env'}-{now:%Y%m%d-%H%M%S}"
            target = folder / f"{stem}.bak"
            number = 1
            while target.exists():  # several backups within one second: every one is kept
                target = folder / f"{stem}-{number}.bak"
                number += 1
            os.replace(temp, target)
            temp = None
        except OSError as exc:
            raise BackupFailed(folder, exc) from exc
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        self.kept.append(target)
        return target
