"""Where the backend starts, and the bytes of the .env files around it: what config/backend.py judges.

The backend folder is found as config/project.find_backend finds it; its .env and the project root's
are read as bytes (a file that is missing, not regular or far too large reads as None). This is the
only part of the backend's view that reads anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_ENV_BYTES = 1 << 20  # a .env file is a few hundred bytes; anything this large is not one


@dataclass(frozen=True)
class Layout:
    """Where the backend starts and the .env files around it, with their bytes (None: no such file)."""

    backend_dir: Path
    env_raw: bytes | None
    root_env_path: Path | None = None  # the project root's .env, when the backend folder has a parent
    root_env_raw: bytes | None = None
    assumed: bool = False  # no backend/ folder found: the current folder is taken for it
    env_too_large: int | None = None  # backend/.env's size when it is over MAX_ENV_BYTES (env_raw is None)

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


def _size_over_limit(path: Path) -> int | None:
    """The size of a regular file over MAX_ENV_BYTES: the backend reads it, the wizard does not."""
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        return None
    return size if size > MAX_ENV_BYTES else None


def find_layout(cwd: Path) -> Layout:
    """The backend folder as config/project.find_backend finds it (here, inside, a parent or a sibling),
    with the .env beside it at the project root; without one, the current folder, marked as assumed."""
    from setup_wizard.config.project import find_backend

    found = find_backend(cwd)
    if found is None:
        return Layout(backend_dir=cwd, env_raw=_read_small(cwd / ".env"), assumed=True,
                      env_too_large=_size_over_limit(cwd / ".env"))
    root_env = found.folder.parent / ".env"
    return Layout(
        backend_dir=found.folder,
        env_raw=_read_small(found.env_path),
        root_env_path=root_env,
        root_env_raw=_read_small(root_env),
        env_too_large=_size_over_limit(found.env_path),
    )
