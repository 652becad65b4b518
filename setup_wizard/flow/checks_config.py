"""`check`'s items about the settings: the .env file, whether git keeps it private, the backend's view.

The .env file's state, that it is ignored by git and not readable by other users (git is only asked
read-only questions), the settings as the backend itself reads them (config/backend.py), and the
settings the wizard will use with where each came from. The order of `CHECKS` is the order the
checklist shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from setup_wizard import messages as msg
from setup_wizard.config.envwrite import owner_only
from setup_wizard.config.settings import FIELDS
from setup_wizard.flow.check_registry import Check, Context, register
from setup_wizard.flow.settings_phase import env_file_step, settings_step
from setup_wizard.results import Status, Step

SUBPROCESS_TIMEOUT = 10

CHECKS: list[Check] = []


@register(CHECKS, "env_file", msg.ENV_FILE_TITLE)
def check_env_file(ctx: Context) -> Iterator[Step]:
    step = env_file_step(ctx.env_file, ctx.settings)
    if ctx.env_file is not None:
        step = Step(step.id, step.status, step.title, step.detail, step.code, step.fix,
                    (msg.PATH_LINE.format(path=ctx.env_file.path),))
    yield step


def _git(ctx: Context, git: Path, folder: Path, *args: str) -> int:
    return ctx.system.run([str(git), "-C", str(folder), *args], timeout=SUBPROCESS_TIMEOUT).returncode


@register(CHECKS, "env_gitignore", msg.STEP_ENV_GITIGNORE, needs_env_file=True)
def check_env_gitignore(ctx: Context) -> Iterator[Step]:
    title = msg.STEP_ENV_GITIGNORE
    assert ctx.env_file is not None
    git = ctx.system.which("git")
    if git is None:
        yield Step("env_gitignore", Status.SKIP, title, msg.GIT_NOT_FOUND)
        return
    path = ctx.env_file.path.resolve()
    folder, name = path.parent, path.name
    inside = _git(ctx, git, folder, "rev-parse", "--is-inside-work-tree")
    if inside != 0:
        yield Step("env_gitignore", Status.SKIP, title, msg.ENV_NOT_IN_REPO)
        return
    # Read-only git commands: neither writes the index.
    if _git(ctx, git, folder, "ls-files", "--error-unmatch", "--", name) == 0:
        yield Step("env_gitignore", Status.WARN, title, msg.ENV_TRACKED.format(path=path), "env_file_tracked",
                   msg.FIX_ENV_TRACKED.format(name=name))
    elif _git(ctx, git, folder, "check-ignore", "-q", "--", name) == 0:
        yield Step("env_gitignore", Status.OK, title, msg.ENV_IGNORED)
    else:
        yield Step("env_gitignore", Status.WARN, title, msg.ENV_NOT_IGNORED.format(path=path),
                   "env_file_not_ignored", msg.FIX_ENV_NOT_IGNORED.format(name=name))


@register(CHECKS, "env_permissions", msg.STEP_ENV_PERMISSIONS, needs_env_file=True)
def check_env_permissions(ctx: Context) -> Iterator[Step]:
    title = msg.STEP_ENV_PERMISSIONS
    assert ctx.env_file is not None
    if ctx.system.platform == "windows":
        # NTFS ACLs: a file in the user's profile is not readable by other users by default.
        yield Step("env_permissions", Status.SKIP, title, msg.ENV_PERMISSIONS_WINDOWS)
        return
    mode = ctx.env_file.path.stat().st_mode & 0o777
    if mode & 0o044:
        yield Step("env_permissions", Status.WARN, title, msg.ENV_READABLE_BY_OTHERS.format(mode=f"{mode:o}"),
                   "env_file_readable", msg.FIX_ENV_READABLE.format(path=ctx.env_file.path,
                                                                    mode=f"{owner_only(mode):o}"))
    else:
        yield Step("env_permissions", Status.OK, title, msg.ENV_PRIVATE.format(mode=f"{mode:o}"))


@register(CHECKS, "backend_settings", msg.STEP_BACKEND_URL)
def check_backend_settings(ctx: Context) -> Iterator[Step]:
    """The settings as the backend itself reads them (config/backend.py): the same items in every door."""
    from setup_wizard.config.backend import inspect_backend
    from setup_wizard.config.steps import settings_steps

    yield from settings_steps(inspect_backend(ctx.env.cwd, ctx.env.environ, ctx.options.dsn), ctx.settings)


@register(CHECKS, "settings", msg.STEP_SETTINGS)
def check_settings(ctx: Context) -> Iterator[Step]:
    shown = ctx.settings.redacted()
    for name in FIELDS:
        ctx.facts[msg.FACT_SETTING.format(field=msg.FIELD_NAMES[name])] = msg.FACT_SETTING_VALUE.format(
            value=shown[name], source=ctx.settings.source_text(name))
    yield settings_step(ctx.settings)
