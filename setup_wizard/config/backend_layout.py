"""Where the backend starts, and the bytes of the .env files around it: what config/backend.py judges.

The backend folder is found as config/project.find_backend finds it; its .env and the project root's
are read as bytes. Whatever stands at the backend's `.env` must be a readable file (a folder, a looping
or broken link, a file without read permission: UsageError, exit 2, as when the settings are read); the
project root's `.env`, or the current folder's when no backend was found, reads as None when it is not a
regular file (a virtual environment folder named `.env`). This is the only part of the backend's view
that reads anything.
"""

from __future__ import annotations

from pathlib import Path

from setup_wizard.record import record

MAX_ENV_BYTES = 1 << 20  # a .env file is a few hundred bytes; anything this large is not one


@record
class Layout:
    """Where the backend starts and the .env files around it, with their bytes (None: no such file)."""

    backend_dir: Path
    env_raw: bytes | None
    root_env_path: Path | None = None  # the project root's .env, when the backend folder has a parent
    root_env_raw: bytes | None = None
    assumed: bool = False  # no backend/ folder found: the current folder is taken for it

    @property
    def env_path(self) -> Path:
        return self.backend_dir / ".env"


def _read_small(path: Path) -> bytes | None:
    """A regular file's bytes, or None (missing, a folder, a FIFO, too large, unreadable)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_ENV_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _read_backend_env(path: Path) -> bytes | None:
    """The backend's .env: None when nothing is there; anything unreadable raises UsageError (exit 2)."""
    from setup_wizard.config.envfile import present, read_env_bytes, unreadable_error

    if not present(path):
        return None
    try:
        return read_env_bytes(path, MAX_ENV_BYTES)
    except OSError as exc:
        raise unreadable_error(path, exc) from exc


def find_layout(cwd: Path) -> Layout:
    """The backend folder as config/project.find_backend finds it (here, inside, a parent or a sibling),
    with the .env beside it at the project root; without one, the current folder, marked as assumed."""
    from setup_wizard.config.project import find_backend

    found = find_backend(cwd)
    if found is None:
        return Layout(backend_dir=cwd, env_raw=_read_small(cwd / ".env"), assumed=True)
    root_env = found.folder.parent / ".env"
    return Layout(
        backend_dir=found.folder,
        env_raw=_read_backend_env(found.env_path),
        root_env_path=root_env,
        root_env_raw=_read_small(root_env),
    )
