"""Files beside the backend's .env that hold its secrets too: leftover backups and copies.

`.env.bak` and `.env.bak-DATE` (what older versions of this wizard left), `.env.local`, `.env.old`,
`dev.env` ...: a `.gitignore` line `.env` covers none of them, so `git add .` commits them, and a copy
keeps whatever mode it was made with. `check` judges each such file as it judges the .env (git, and who
may read it). A file counts when python-dotenv reads from it a non-empty password, secret, token or key,
or a DATABASE_URL that carries a password. Templates meant to be committed (`.env.example`,
`.env.sample`, `.env.template`, `.env.dist`) are left alone. Nothing here writes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY")
URL_WORDS = ("DATABASE_URL", "_DSN", "_URI", "_URL")
TEMPLATE_ENDINGS = (".example", ".sample", ".template", ".dist", ".defaults")


def _url_password(value: str) -> bool:
    try:
        return bool(urlsplit(value.strip()).password)
    except ValueError:
        return False


def holds_secret(values: dict[str, str]) -> bool:
    """A non-empty password/secret/token/key, or a URL with a password in it."""
    for key, value in values.items():
        name = key.upper()
        if not value.strip():
            continue
        if any(word in name for word in SECRET_WORDS):
            return True
        if name.endswith(URL_WORDS) and _url_password(value):
            return True
    return False


def looks_like_env_copy(name: str) -> bool:
    lowered = name.lower()
    if lowered == ".env" or lowered.endswith(TEMPLATE_ENDINGS):
        return False
    return lowered.startswith(".env") or lowered.endswith(".env")


def _values(path: Path) -> dict[str, str] | None:
    from dotenv import dotenv_values

    from setup_wizard.config.envfile import decode_env_bytes, read_env_bytes
    from setup_wizard.errors import UsageError

    try:
        text, _ = decode_env_bytes(read_env_bytes(path))
    except (OSError, UnicodeDecodeError, UsageError):
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text), interpolate=False).items() if v is not None}


def secret_copies(folder: Path, skip: Iterable[Path] = ()) -> list[Path]:
    """Regular files in `folder` named like a .env copy (not `skip`, not a template) that hold a secret."""
    skipped = {path.resolve() for path in skip}
    found = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not looks_like_env_copy(entry.name) or entry.resolve() in skipped:
            continue
        if entry.is_symlink() or not entry.is_file():
            continue
        values = _values(entry)
        if values is not None and holds_secret(values):
            found.append(entry)
    return found
