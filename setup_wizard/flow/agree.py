"""Is the database the wizard prepared the one the backend will use?

After a login the person may have typed another host, port, user, database or password and declined to
save it, or the environment may send the backend elsewhere. The backend reads its settings its own way
(config/backend.py); the same rules (config/load.py) give the connection it will open, compared
here with the one the wizard proved. Where they differ the run is not ready: a failing item, and a last
line naming the difference and its fix. `--dsn` checks another place on purpose (its own warning says so).
"""

from __future__ import annotations

from typing import Any

from setup_wizard import problems
from setup_wizard.config.backend import inspect_backend
from setup_wizard.config.load import load_settings
from setup_wizard.config.settings import Settings, SourceKind
from setup_wizard.errors import UsageError
from setup_wizard.flow.state import FlowState
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import Status

COMPARED = ("host", "port", "user", "dbname")


def differences(prepared: Settings, backend: Settings) -> list[str]:
    """The fields that differ (names of settings.FIELDS); a password counts only when one was used."""
    names = [name for name in COMPARED if str(getattr(prepared, name)) != str(getattr(backend, name))]
    if prepared.password is not None and prepared.password != backend.password:
        names.append("password")
    return names


def target(settings: Settings) -> str:
    return backend_settings_msg.AGREE_TARGET.format(host=settings.host, port=settings.port, dbname=settings.dbname,
                                   user=settings.user)


def backend_agrees(flow: FlowState, prepared: Settings) -> str | None:
    """Add a failing item when the backend will connect elsewhere; returns the last line to say, or None."""
    if flow.options.dsn is not None:
        return None
    view = inspect_backend(flow.env.cwd, flow.env.environ)
    if not view.starts or not view.url or view.source is None:
        return None  # it does not start at all: its own failing item says why
    try:
        backend = load_settings(None, flow.env.environ, view.file_values, view.layout.env_path)
    except UsageError:
        return None
    names = differences(prepared, backend)
    if not names:
        return None
    fields = ", ".join(settings_msg.FIELD_NAMES[name] for name in names)
    source = view.source.describe()
    wanted = prepared.redacted_url().replace(prepared.url_scheme + "://", backend.url_scheme + "://", 1)
    values: dict[str, Any] = {  # the entry's values (problems.step's **values)
        "source": source, "backend": target(backend), "prepared": target(prepared), "fields": fields,
        "path": str(view.layout.env_path), "key": view.source.key or "DATABASE_URL", "url": wanted}
    environ = view.source.kind is SourceKind.ENVIRON
    flow.add(problems.step("backend_elsewhere_environ" if environ else "backend_elsewhere", "backend_target",
                           Status.FAIL, **values))
    fix = backend_settings_msg.AGREE_FIX_ENVIRON if environ else backend_settings_msg.AGREE_FIX_FILE
    return backend_settings_msg.AGREE_LAST_LINE.format(**values) + " " + fix.format(**values)
