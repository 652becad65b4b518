"""Fixes to the backend's .env that lose nothing, as data first (plan) and then applied one by one.

Each fix answers one problem code of config/backend_verdict.py:
- `env_rewrite_utf8`: UTF-16 / CP949 / a BOM -> the same text, every line and comment, as UTF-8 without BOM;
- `env_add_database_url`: only POSTGRES_* keys -> a DATABASE_URL built from them (password percent-encoded);
- `env_fix_scheme`: postgresql:// , +asyncpg ... -> postgresql+psycopg://, the rest of the line kept;
- `env_password_into_url`: a URL without password while POSTGRES_PASSWORD has one -> the URL with it;
- `env_copy_root`: a root .env and none in backend/ -> a copy in backend/ (the original stays).

Applying re-reads the file and works from what is there now (so fixes can follow one another and a
fix that is no longer needed does nothing). Every write keeps a backup first (in the per-user data
folder, mode 600: config/backups.py), goes through a temporary file in the same folder and os.replace,
keeps the permissions, writes through a symlink to its target, and python-dotenv must read back exactly
the intended values. The password is never part of a description or a Step.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from setup_wizard import messages as msg
from setup_wizard.config import backend_verdict as b
from setup_wizard.config.backend import inspect_backend
from setup_wizard.config.backups import Backups
from setup_wizard.config.envfile import decode_env_bytes, present
from setup_wizard.config.precedence import find_key, load_settings
from setup_wizard.config.settings import SourceKind
from setup_wizard.results import Status, Step

REWRITE_UTF8 = "env_rewrite_utf8"
ADD_URL = "env_add_database_url"
FIX_SCHEME = "env_fix_scheme"
PASSWORD_INTO_URL = "env_password_into_url"
COPY_ROOT = "env_copy_root"


@dataclass(frozen=True)
class EnvFix:
    id: str  # stable: one of the names above
    problem: str  # the code (config/backend_verdict.py) it answers
    path: Path  # the file written
    description: str  # Korean, shown before asking; never holds a password
    source: Path | None = None  # env_copy_root: the file copied


class FixRefused(Exception):
    """The file is no longer what the plan was made from, or the result would not read back."""


def plan_env_fixes(view: b.BackendView) -> list[EnvFix]:
    """The fixes for this view's problems, in the order to apply them."""
    fixes: list[EnvFix] = []
    codes = set(view.codes())
    path = view.layout.env_path
    if b.ENV_OUTSIDE in codes and view.layout.root_env_path is not None:
        fixes.append(EnvFix(COPY_ROOT, b.ENV_OUTSIDE, path,
                            msg.ENV_FIX_COPY_ROOT.format(source=view.layout.root_env_path, target=path),
                            source=view.layout.root_env_path))
        return fixes  # the copy is judged again once it is there
    if codes & {b.ENV_NOT_UTF8, b.ENV_BOM} and view.file_values is not None:
        fixes.append(EnvFix(REWRITE_UTF8, b.ENV_NOT_UTF8 if b.ENV_NOT_UTF8 in codes else b.ENV_BOM, path,
                            msg.ENV_FIX_REWRITE_UTF8.format(path=path)))
    values = view.file_values
    if values is None:
        return fixes
    url = find_key(values, "DATABASE_URL")
    env_url = view.source is not None and view.source.kind is SourceKind.ENVIRON
    if not url and not env_url and codes & {b.URL_MISSING, b.ENV_NOT_UTF8}:
        shown = load_settings(None, {}, values, path).redacted_url()
        fixes.append(EnvFix(ADD_URL, b.URL_MISSING, path, msg.ENV_FIX_ADD_URL.format(path=path, url=shown)))
    from_file = view.source is None or view.source.kind is SourceKind.ENV_FILE or view.url is None
    if url and from_file:
        scheme = b.scheme_of(url[1])
        if scheme is not None and scheme != b.BACKEND_SCHEME and scheme.lower().startswith("postgres"):
            fixes.append(EnvFix(FIX_SCHEME, b.URL_SCHEME, path, msg.ENV_FIX_SCHEME.format(path=path, scheme=scheme)))
        password = find_key(values, "POSTGRES_PASSWORD")
        if b.PASSWORD_ONLY_IN_KEYS in codes and password and "@" in url[1].split("://", 1)[-1].split("/", 1)[0]:
            fixes.append(EnvFix(PASSWORD_INTO_URL, b.PASSWORD_ONLY_IN_KEYS, path,
                                msg.ENV_FIX_PASSWORD.format(path=path, key=password[0])))
    return fixes


# --- applying ----------------------------------------------------------------------------------------

def _parse(text: str) -> dict[str, str]:
    from dotenv import dotenv_values

    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(normalised), interpolate=False).items()
            if v is not None}


def _write(path: Path, data: bytes, now: datetime, backups: Backups, mode_from: Path | None = None) -> Path | None:
    """Through a symlink to its target (the link stays), atomically, with a backup: envwrite's writer."""
    from setup_wizard.config.envwrite import replace_file

    return replace_file(path.resolve() if path.is_symlink() else path, data, now, mode_from, backups=backups)


def _new_bytes(fix: EnvFix, raw: bytes) -> bytes | None:
    """The file's new content for this fix, from its current bytes; None when nothing is left to do."""
    from setup_wizard.config.envwrite import EnvChange, apply_changes

    text, encoding = decode_env_bytes(raw)
    before = _parse(text)
    if fix.id == REWRITE_UTF8:
        if encoding == "utf-8":
            return None
        return text.encode("utf-8")
    url = find_key(before, "DATABASE_URL")
    if fix.id == ADD_URL:
        if url:
            return None
        built = load_settings(None, {}, before, fix.path).url("postgresql+psycopg")
        change = EnvChange("DATABASE_URL", built, "")
    elif fix.id == FIX_SCHEME:
        if not url:
            return None
        scheme, sep, rest = url[1].strip().partition("://")
        if not sep or scheme == b.BACKEND_SCHEME:
            return None
        change = EnvChange(url[0], f"{b.BACKEND_SCHEME}://{rest}", "")
    elif fix.id == PASSWORD_INTO_URL:
        password = find_key(before, "POSTGRES_PASSWORD")
        if not url or not password:
            return None
        scheme, _, rest = url[1].strip().partition("://")
        authority, slash, tail = rest.partition("/")
        userinfo, at, hostport = authority.rpartition("@")
        if not at or ":" in userinfo:
            return None
        change = EnvChange(url[0], f"{scheme}://{userinfo}:{quote(password[1], safe='')}@{hostport}{slash}{tail}", "")
    else:
        raise ValueError(fix.id)
    new_text = apply_changes(text, [change])
    if _parse(new_text) != {**before, change.key: change.value}:
        raise FixRefused(fix.id)
    # Always UTF-8 without BOM: the only form the backend reads (the rewrite fix comes first anyway).
    return new_text.encode("utf-8")


def apply_env_fix(fix: EnvFix, now: datetime | None = None, *, backups: Backups) -> Step:
    """Apply one planned fix; the Step says what was done (and where the backup is) or why not."""
    moment = now or datetime.now()
    try:
        if fix.id == COPY_ROOT:
            assert fix.source is not None
            if present(fix.path):  # a file, or a folder or link the reading already refused
                return Step(fix.id, Status.WARN, msg.ENV_FIX_TITLE,
                            msg.ENV_FIX_TARGET_EXISTS.format(target=fix.path))
            data = fix.source.read_bytes()
            _write(fix.path, data, moment, backups, mode_from=fix.source)
            return Step(fix.id, Status.OK, msg.ENV_FIX_TITLE, msg.ENV_FIX_DONE.format(description=fix.description))
        raw = fix.path.read_bytes()
        new = _new_bytes(fix, raw)
        if new is None:
            return Step(fix.id, Status.OK, msg.ENV_FIX_TITLE, msg.ENV_FIX_DONE.format(description=fix.description))
        if fix.path.read_bytes() != raw:
            raise FixRefused(fix.id)
        backup = _write(fix.path, new, moment, backups)
    except FixRefused:
        return Step(fix.id, Status.FAIL, msg.ENV_FIX_TITLE, msg.ENV_FIX_CHANGED_MEANWHILE.format(path=fix.path),
                    "env_save_failed", msg.FIX_ENV_FIX_FAILED)
    except (OSError, UnicodeError) as exc:
        error = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return Step(fix.id, Status.FAIL, msg.ENV_FIX_TITLE, msg.ENV_FIX_FAILED.format(error=error),
                    "env_save_failed", msg.FIX_ENV_FIX_FAILED)
    detail = msg.ENV_FIX_DONE.format(description=fix.description)
    if backup is not None:
        detail += "\n" + msg.ENV_FIX_BACKUP.format(backup=backup)
    return Step(fix.id, Status.OK, msg.ENV_FIX_TITLE, detail)


def fix_backend_env(cwd: Path, environ: dict[str, str] | os._Environ[str], confirm: Callable[[str], bool],
                    rounds: int = 4, *, backups: Backups) -> list[Step]:
    """Plan, ask (`confirm`: the flow's Mode.confirm — always yes for --yes, never for check), apply;
    then judge the files again, since one fix can reveal the next (a copied root .env in UTF-16)."""
    steps: list[Step] = []
    done: set[str] = set()
    for _ in range(rounds):
        fixes = [f for f in plan_env_fixes(inspect_backend(cwd, environ)) if f.id not in done]
        if not fixes:
            break
        for fix in fixes:
            done.add(fix.id)
            if not confirm(msg.ENV_FIX_ASK.format(description=fix.description)):
                steps.append(Step(fix.id, Status.SKIP, msg.ENV_FIX_TITLE,
                                  msg.ENV_FIX_DECLINED.format(description=fix.description)))
                continue
            step = apply_env_fix(fix, backups=backups)
            steps.append(step)
            if step.status is Status.FAIL:
                return steps
    return steps
