"""Finding the project's `backend/` folder the way git finds `.git`, wherever the wizard was started.

A newcomer often runs the wizard from the wrong folder: the repository root, `backend/` itself, a
sibling such as `frontend/`, or a subfolder of `backend/`. The backend reads `backend/.env`, so that
is the file that counts. Looked at, in order: this folder and each parent (a `backend/` inside it, or
the folder itself when it is a backend), up to the repository's root (the folder holding `.git`).
"""

from __future__ import annotations

from pathlib import Path

from setup_wizard.record import record

# What makes a folder the chat backend rather than any folder named backend.
BACKEND_MARKERS = ("app", "requirements.txt", "pyproject.toml", ".env", ".env.example", "main.py")


@record
class Backend:
    folder: Path  # the backend folder: its .env is what the backend reads
    how: str  # "here", "inside", "parent", "sibling": how it was found, for the message

    @property
    def env_path(self) -> Path:
        return self.folder / ".env"


def looks_like_backend(folder: Path) -> bool:
    return folder.name == "backend" and any((folder / marker).exists() for marker in BACKEND_MARKERS)


def find_backend(cwd: Path) -> Backend | None:
    """The backend folder nearest to cwd; None when there is none around it."""
    start = cwd.resolve()
    for depth, folder in enumerate([start, *start.parents]):
        if looks_like_backend(folder):
            return Backend(folder, "here" if depth == 0 else "parent")
        child = folder / "backend"
        if child.is_dir():
            return Backend(child, ("inside", "sibling")[depth] if depth < 2 else "parent")
        if (folder / ".git").exists():
            break  # the repository's root: the project ends here, as it does for git
    return None


def backend_path_from(cwd: Path) -> str:
    """The backend folder as a path from where the person is, for `cd`: "." inside it, "../backend" from
    a sibling, "backend" when it was not found (the usual layout)."""
    import os

    backend = find_backend(cwd)
    if backend is None:
        return "backend"
    try:
        path = os.path.relpath(backend.folder, cwd.resolve())
    except ValueError:  # another drive on Windows: the whole path
        path = str(backend.folder)
    return f'"{path}"' if " " in path else path
