"""Fixes to the backend's .env that lose nothing, as data: planned before any login, written after one.

Each fix answers one problem code of config/backend_verdict.py:
- `env_rewrite_utf8`: UTF-16 / CP949 / a BOM -> the same text, every line and comment, as UTF-8 without BOM;
- `env_add_database_url`: only POSTGRES_* keys -> a DATABASE_URL built from them (password percent-encoded);
- `env_fix_scheme`: postgresql:// , +asyncpg ... -> postgresql+psycopg://, the rest of the line kept;
- `env_password_into_url`: a URL without password while POSTGRES_PASSWORD has one -> the URL with it;
- `env_copy_root`: a root .env and none in backend/ -> a copy in backend/ (the original stays).

`plan_backend_env` works every fix out in memory, one after another (a copied root .env is judged again
as the copy it would be), into one `EnvPlan`: the values the file will hold, which the wizard connects
with, so what is written is what a login proved. Nothing is written here: the flow (flow/save.py)
writes the plan, with any values the person typed, once the login worked, in one atomic replace
(config/envwrite.save_env: a backup first, in the per-user data folder, mode 600 (config/backups.py),
through a symlink to its target, python-dotenv reading back exactly the intended values). The password
is never part of a description.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from setup_wizard.config import backend_verdict as b
from setup_wizard.config.backend import backend_view
from setup_wizard.config.backend_layout import find_layout
from setup_wizard.config.backups import Backups
from setup_wizard.config.envfile import decode_env_bytes, present
from setup_wizard.config.envwrite import EnvChange, SaveResult, parse_env_text, save_env
from setup_wizard.config.load import find_key, load_settings
from setup_wizard.config.settings import SourceKind
from setup_wizard.messages import backend_settings as msg
from setup_wizard.record import record, replace

REWRITE_UTF8 = "env_rewrite_utf8"
ADD_URL = "env_add_database_url"
FIX_SCHEME = "env_fix_scheme"
PASSWORD_INTO_URL = "env_password_into_url"
COPY_ROOT = "env_copy_root"


@record
class EnvFix:
    id: str  # stable: one of the names above
    problem: str  # the code (config/backend_verdict.py) it answers
    path: Path  # the file written
    description: str  # Korean, shown before asking; never holds a password
    source: Path | None = None  # env_copy_root: the file copied


def plan_env_fixes(view: b.BackendView) -> list[EnvFix]:
    """The fixes for this view's problems, in the order to apply them."""
    fixes: list[EnvFix] = []
    codes = set(view.codes())
    path = view.layout.env_path
    if b.ENV_OUTSIDE in codes and view.layout.root_env_path is not None:
        fixes.append(EnvFix(COPY_ROOT, b.ENV_OUTSIDE, path,
                            msg.ENV_FIX_COPY_ROOT.format(source=view.layout.root_env_path),
                            source=view.layout.root_env_path))
        return fixes  # the copy is judged again once it is there
    if codes & {b.ENV_NOT_UTF8, b.ENV_BOM} and view.file_values is not None:
        fixes.append(EnvFix(REWRITE_UTF8, b.ENV_NOT_UTF8 if b.ENV_NOT_UTF8 in codes else b.ENV_BOM, path,
                            msg.ENV_FIX_REWRITE_UTF8))
    values = view.file_values
    if values is None:
        return fixes
    url = find_key(values, "DATABASE_URL")
    env_url = view.source is not None and view.source.kind is SourceKind.ENVIRON
    if not url and not env_url and codes & {b.URL_MISSING, b.ENV_NOT_UTF8}:
        fixes.append(EnvFix(ADD_URL, b.URL_MISSING, path, msg.ENV_FIX_ADD_URL))
    from_file = view.source is None or view.source.kind is SourceKind.ENV_FILE or view.url is None
    if url and from_file:
        scheme = b.scheme_of(url[1])
        if scheme is not None and scheme != b.BACKEND_SCHEME and scheme.lower().startswith("postgres"):
            fixes.append(EnvFix(FIX_SCHEME, b.URL_SCHEME, path, msg.ENV_FIX_SCHEME.format(scheme=scheme)))
        password = find_key(values, "POSTGRES_PASSWORD")
        if b.PASSWORD_ONLY_IN_KEYS in codes and password and "@" in url[1].split("://", 1)[-1].split("/", 1)[0]:
            fixes.append(EnvFix(PASSWORD_INTO_URL, b.PASSWORD_ONLY_IN_KEYS, path,
                                msg.ENV_FIX_PASSWORD.format(key=password[0])))
    return fixes


# --- the plan: every fix worked out in memory -------------------------------------------------------

@record
class EnvPlan:
    """What the backend's .env is to become; nothing of it is written before a login proved it."""

    path: Path  # backend/.env, the file to write
    values: dict[str, str]  # what the file holds now (for a copy: the file copied)
    fixes: tuple[EnvFix, ...] = ()
    changes: tuple[EnvChange, ...] = ()  # the values the fixes set (DATABASE_URL built, scheme, password)
    utf8: bool = False  # rewritten as UTF-8 without BOM
    copy_from: Path | None = None  # backend/.env does not exist yet: it starts as a copy of this file
    encoding: str = "utf-8"

    def intended_values(self) -> dict[str, str]:
        """The values the backend will read once the plan is written: what the wizard connects with."""
        return {**self.values, **{change.key: change.value for change in self.changes}}

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(fix.description for fix in self.fixes)


def _change_for(fix: EnvFix, values: Mapping[str, str]) -> EnvChange | None:
    """The value this fix sets, from the values as they stand after the fixes before it."""
    url = find_key(values, "DATABASE_URL")
    if fix.id == ADD_URL:
        if url:
            return None
        built = load_settings(None, {}, values, fix.path).url(b.BACKEND_SCHEME)
        return EnvChange("DATABASE_URL", built, b.redact_url(built))
    if not url:
        return None
    scheme, sep, rest = url[1].strip().partition("://")
    if fix.id == FIX_SCHEME:
        if not sep or scheme == b.BACKEND_SCHEME:
            return None
        value = f"{b.BACKEND_SCHEME}://{rest}"
        return EnvChange(url[0], value, b.redact_url(value))
    if fix.id == PASSWORD_INTO_URL:
        password = find_key(values, "POSTGRES_PASSWORD")
        authority, slash, tail = rest.partition("/")
        userinfo, at, hostport = authority.rpartition("@")
        if not password or not at or ":" in userinfo:
            return None
        value = f"{scheme}://{userinfo}:{quote(password[1], safe='')}@{hostport}{slash}{tail}"
        return EnvChange(url[0], value, b.redact_url(value))
    return None


def plan_backend_env(cwd: Path, environ: Mapping[str, str]) -> EnvPlan | None:
    """Every fix the backend's .env needs, worked out in memory; None when it needs none (or cannot be
    read: config/steps.py then says why)."""
    layout = find_layout(cwd)
    fixes = plan_env_fixes(backend_view(layout, environ))
    copy_from = None
    if fixes and fixes[0].id == COPY_ROOT:
        if present(layout.env_path):  # a folder or a link stands there: the reading already refused it
            return None
        # Judged again as the copy it would be: a root .env in UTF-16 also needs rewriting, and so on.
        copy_from = fixes[0].source
        layout = replace(layout, env_raw=layout.root_env_raw, root_env_raw=None)
        fixes += [f for f in plan_env_fixes(backend_view(layout, environ)) if f.id != COPY_ROOT]
    if not fixes or layout.env_raw is None:
        return None
    try:
        text, encoding = decode_env_bytes(layout.env_raw)
    except UnicodeDecodeError:
        return None
    values = parse_env_text(text)
    current = dict(values)
    changes: list[EnvChange] = []
    for fix in fixes:
        change = _change_for(fix, current)
        if change is not None:
            changes.append(change)
            current[change.key] = change.value
    return EnvPlan(path=layout.env_path, values=values, fixes=tuple(fixes), changes=tuple(changes),
                   utf8=any(fix.id == REWRITE_UTF8 for fix in fixes),
                   copy_from=copy_from, encoding=encoding)


def write_plan(plan: EnvPlan, changes: list[EnvChange] | None = None, *, backups: Backups) -> SaveResult:
    """Write the plan (with `changes`, defaulting to the plan's own) in one atomic replace, the previous
    file kept in `backups`; WizardError (env_save_failed, env_save_conflict) when it cannot, the file then
    left as it was."""
    return save_env(plan.path, list(plan.changes if changes is None else changes), expected=plan.values,
                    backups=backups, utf8=plan.utf8, base=plan.copy_from)
