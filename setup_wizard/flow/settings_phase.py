"""The settings phase's results: which .env file, which values from where, as Steps."""

from __future__ import annotations

from setup_wizard import problems
from setup_wizard.config.envfile import EnvFile, default_env_path, present, read_env_file
from setup_wizard.config.load import load_settings
from setup_wizard.config.project import find_backend
from setup_wizard.config.settings import DSN, FIELDS, Settings
from setup_wizard.environment import Environment
from setup_wizard.flow.options import Options
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import Status, Step


def find_env_file(options: Options, env: Environment) -> EnvFile | None:
    """The .env file named by --env-file, else the project's backend/.env (found from this folder, its
    parents or a sibling), else .env here; unreadable input raises UsageError. A folder, a looping or
    broken link or a file without read permission at backend/.env is such input, not a missing file."""
    if options.env_file is not None:
        path = options.env_file if options.env_file.is_absolute() else env.cwd / options.env_file
        return read_env_file(path, env.environ)
    backend = find_backend(env.cwd)
    if backend is not None and present(backend.env_path):
        return read_env_file(backend.env_path, env.environ)
    found = default_env_path(env.cwd)
    return read_env_file(found, env.environ) if found is not None else None


def env_file_step(env_file: EnvFile | None, settings: Settings) -> Step:
    if env_file is not None:
        if env_file.bad_lines:
            lines = ", ".join(str(n) for n in env_file.bad_lines)
            return problems.step("env_file_invalid", "env_file", Status.WARN, envfiles_msg.ENV_FILE_TITLE,
                                 detail=envfiles_msg.ENV_FILE_BAD_LINES.format(path=env_file.path, lines=lines),
                                 fix=envfiles_msg.FIX_ENV_FILE_BAD_LINES)
        detail = envfiles_msg.ENV_FILE_READ.format(
            path=env_file.path, encoding=envfiles_msg.ENCODING_NAMES.get(env_file.encoding, env_file.encoding)
        )
        return Step("env_file", Status.OK, envfiles_msg.ENV_FILE_TITLE, detail)
    if settings.from_outside_env_file():
        by_dsn = any(settings.source(name) == DSN for name in FIELDS)
        return Step("env_file", Status.SKIP, envfiles_msg.ENV_FILE_TITLE,
                    envfiles_msg.ENV_FILE_SKIPPED if by_dsn else envfiles_msg.ENV_FILE_SKIPPED_ENVIRON)
    return problems.step("env_file_missing", "env_file", Status.WARN, envfiles_msg.ENV_FILE_TITLE)


def settings_step(settings: Settings) -> Step:
    detail = settings_msg.SETTINGS_DETAIL.format(
        url=settings.redacted_url(), password_source=settings.source_text("password")
    )
    if settings.conflicts:
        detail += "\n" + "\n".join(c.describe() for c in settings.conflicts)
    shown = settings.redacted()
    more = tuple(
        settings_msg.SETTINGS_SOURCE_LINE.format(field=settings_msg.FIELD_NAMES[name], value=shown[name],
                                        source=settings.source_text(name))
        for name in FIELDS
    ) + tuple(
        settings_msg.SETTINGS_SOURCE_LINE.format(field=key, value=item.value, source=item.source.describe())
        for key, item in sorted(settings.extra.items())
    )
    return Step("settings", Status.OK, settings_msg.STEP_SETTINGS, detail, more=more)


def load_env_and_settings(options: Options, env: Environment) -> tuple[EnvFile | None, Settings]:
    env_file = find_env_file(options, env)
    settings = load_settings(
        options.dsn,
        env.environ,
        env_file.values if env_file else None,
        env_file.path if env_file else None,
    )
    return env_file, settings
