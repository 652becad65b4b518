"""`check`'s items about the settings: the .env file, whether git keeps it private, the backend's view.

The .env file's state, that it is ignored by git and not readable by other users (git is only asked
read-only questions), the same for every other file in the backend folder holding its secrets (leftover
backups, copies), the settings as the backend itself reads them (config/backend.py), and the
settings the wizard will use with where each came from. The order of `CHECKS` is the order the
checklist shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from setup_wizard import problems
from setup_wizard.config.settings import FIELDS
from setup_wizard.flow.check_registry import Check, Context, register
from setup_wizard.flow.settings_phase import env_file_step, settings_step
from setup_wizard.machine.system import Platform
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import check as check_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import Status, Step

SUBPROCESS_TIMEOUT = 10

CHECKS: list[Check] = []


@register(CHECKS, "env_file", envfiles_msg.ENV_FILE_TITLE)
def check_env_file(ctx: Context) -> Iterator[Step]:
    step = env_file_step(ctx.env_file, ctx.settings)
    if ctx.env_file is not None:
        step = Step(step.id, step.status, step.title, step.detail, step.code, step.fix,
                    (check_msg.PATH_LINE.format(path=ctx.env_file.path),))
    yield step


def _git(ctx: Context, git: Path, folder: Path, *args: str) -> int:
    return ctx.system.run([str(git), "-C", str(folder), *args], timeout=SUBPROCESS_TIMEOUT).returncode


@register(CHECKS, "env_gitignore", envfiles_msg.STEP_ENV_GITIGNORE, needs_env_file=True)
def check_env_gitignore(ctx: Context) -> Iterator[Step]:
    title = envfiles_msg.STEP_ENV_GITIGNORE
    assert ctx.env_file is not None
    git = ctx.system.which("git")
    if git is None:
        yield Step("env_gitignore", Status.SKIP, title, envfiles_msg.GIT_NOT_FOUND)
        return
    path = ctx.env_file.path.resolve()
    folder, name = path.parent, path.name
    inside = _git(ctx, git, folder, "rev-parse", "--is-inside-work-tree")
    if inside != 0:
        yield Step("env_gitignore", Status.SKIP, title, envfiles_msg.ENV_NOT_IN_REPO)
        return
    # Read-only git commands: neither writes the index.
    if _git(ctx, git, folder, "ls-files", "--error-unmatch", "--", name) == 0:
        yield problems.step("env_file_tracked", "env_gitignore", Status.WARN, title,
                            path=path, name=name)
    elif _git(ctx, git, folder, "check-ignore", "-q", "--", name) == 0:
        yield Step("env_gitignore", Status.OK, title, envfiles_msg.ENV_IGNORED)
    else:
        yield problems.step("env_file_not_ignored", "env_gitignore", Status.WARN, title,
                            path=path, name=name)


@register(CHECKS, "env_permissions", envfiles_msg.STEP_ENV_PERMISSIONS, needs_env_file=True)
def check_env_permissions(ctx: Context) -> Iterator[Step]:
    title = envfiles_msg.STEP_ENV_PERMISSIONS
    assert ctx.env_file is not None
    if ctx.system.platform is Platform.WINDOWS:
        # NTFS ACLs: a file in the user's profile is not readable by other users by default.
        yield Step("env_permissions", Status.SKIP, title, envfiles_msg.ENV_PERMISSIONS_WINDOWS)
        return
    mode = ctx.env_file.path.stat().st_mode & 0o777
    if mode & 0o044:
        from setup_wizard.config.envwrite import owner_only

        yield problems.step("env_file_readable", "env_permissions", Status.WARN, title,
                            detail=envfiles_msg.ENV_READABLE_BY_OTHERS.format(mode=f"{mode:o}"),
                            fix=envfiles_msg.FIX_ENV_READABLE.format(path=ctx.env_file.path,
                                                                    mode=f"{owner_only(mode):o}"))
    else:
        yield Step("env_permissions", Status.OK, title, envfiles_msg.ENV_PRIVATE.format(mode=f"{mode:o}"))


def _env_folders(ctx: Context) -> list[Path]:
    """The backend folder, and the read .env's folder when that is elsewhere (--env-file)."""
    from setup_wizard.config.project import find_backend

    backend = find_backend(ctx.env.cwd)
    folders = [backend.folder] if backend is not None else []
    if ctx.env_file is not None and all(ctx.env_file.path.parent.resolve() != f.resolve() for f in folders):
        folders.append(ctx.env_file.path.parent)
    return folders


def _git_exposure(ctx: Context, copies: list[Path]) -> dict[Path, str]:
    """"tracked" or "not_ignored" for each copy git would show or already holds (read-only questions)."""
    git = ctx.system.which("git")
    if git is None:
        return {}
    exposed: dict[Path, str] = {}
    for path in copies:
        folder, name = path.parent.resolve(), path.name
        if _git(ctx, git, folder, "rev-parse", "--is-inside-work-tree") != 0:
            continue
        if _git(ctx, git, folder, "ls-files", "--error-unmatch", "--", name) == 0:
            exposed[path] = "tracked"
        elif _git(ctx, git, folder, "check-ignore", "-q", "--", name) != 0:
            exposed[path] = "not_ignored"
    return exposed


def _copy_problems(ctx: Context, copies: list[Path]) -> tuple[list[str], list[str], bool]:
    """(one line per problem, one fix per problem, whether git exposes any)."""
    exposed = _git_exposure(ctx, copies)
    lines: list[str] = []
    fixes: list[str] = []
    for path in copies:
        state = exposed.get(path)
        if state == "tracked":
            lines.append(envfiles_msg.ENV_COPY_TRACKED.format(name=path.name))
            fixes.append(envfiles_msg.FIX_ENV_COPY_TRACKED.format(name=path.name, folder=path.parent))
        if state is not None:
            if state == "not_ignored":
                lines.append(envfiles_msg.ENV_COPY_NOT_IGNORED.format(name=path.name))
            fixes.append(envfiles_msg.FIX_ENV_COPY_MOVE.format(path=path))
        if ctx.system.platform is not Platform.WINDOWS:
            mode = path.stat().st_mode & 0o777
            if mode & 0o044:
                from setup_wizard.config.envwrite import owner_only

                lines.append(envfiles_msg.ENV_COPY_READABLE.format(name=path.name, mode=f"{mode:o}"))
                fixes.append(envfiles_msg.FIX_ENV_COPY_READABLE.format(mode=f"{owner_only(mode):o}", path=path))
    if exposed:
        fixes.append(envfiles_msg.ENV_COPIES_BACKUPS_NOTE)
    return lines, fixes, bool(exposed)


@register(CHECKS, "env_copies", envfiles_msg.STEP_ENV_COPIES)
def check_env_copies(ctx: Context) -> Iterator[Step]:
    """Every other file in the backend folder holding the .env's secrets (leftover .env.bak, .env.local ...),
    judged as the .env is: git, and who may read it."""
    from setup_wizard.config.secret_files import secret_copies

    title = envfiles_msg.STEP_ENV_COPIES
    folders = _env_folders(ctx)
    if not folders:
        yield Step("env_copies", Status.SKIP, title, envfiles_msg.ENV_COPIES_NO_FOLDER)
        return
    skip = [ctx.env_file.path] if ctx.env_file is not None else []
    copies = [path for folder in folders for path in secret_copies(folder, skip)]
    if not copies:
        yield Step("env_copies", Status.OK, title, envfiles_msg.ENV_COPIES_NONE.format(folder=folders[0]))
        return
    paths = tuple(check_msg.PATH_LINE.format(path=path) for path in copies)
    lines, fixes, exposed = _copy_problems(ctx, copies)
    if not lines:
        yield Step("env_copies", Status.OK, title,
                   envfiles_msg.ENV_COPIES_SAFE.format(names=", ".join(path.name for path in copies)), more=paths)
        return
    yield Step("env_copies", Status.WARN, title, "\n".join([envfiles_msg.ENV_COPIES_FOUND, *lines]),
               "env_copy_exposed" if exposed else "env_copy_readable", "\n".join(fixes), paths)


@register(CHECKS, "backend_settings", backend_settings_msg.STEP_BACKEND_URL)
def check_backend_settings(ctx: Context) -> Iterator[Step]:
    """The settings as the backend itself reads them (config/backend.py): the same items in every door."""
    from setup_wizard.config.backend import inspect_backend
    from setup_wizard.config.steps import settings_steps

    yield from settings_steps(inspect_backend(ctx.env.cwd, ctx.env.environ, ctx.options.dsn), ctx.settings)


@register(CHECKS, "settings", settings_msg.STEP_SETTINGS)
def check_settings(ctx: Context) -> Iterator[Step]:
    shown = ctx.settings.redacted()
    for name in FIELDS:
        ctx.facts[check_msg.FACT_SETTING.format(field=settings_msg.FIELD_NAMES[name])] = (
            check_msg.FACT_SETTING_VALUE.format(value=shown[name], source=ctx.settings.source_text(name))
        )
    yield settings_step(ctx.settings)
