"""Saving typed values into the backend's .env, once a login has proved them."""

from __future__ import annotations

from pathlib import Path

from setup_wizard import messages as msg
from setup_wizard.config.envwrite import environment_overrides, owner_only, planned_changes, save_env, target_path
from setup_wizard.config.settings import FIELDS, TYPED, Settings
from setup_wizard.errors import WizardError
from setup_wizard.flow.decide import FixKind
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase
from setup_wizard.results import Status, Step


def offer_save(flow: FlowState, settings: Settings) -> None:
    """Once a login has proved typed values, offer to write them where the backend reads them."""
    typed = {name for name in FIELDS if settings.source(name) == TYPED}
    if flow.save_offered or not typed or flow.options.dsn is not None:
        return
    flow.save_offered = True
    path = target_path(flow.env.cwd, settings.env_file)
    if path is None:
        flow.add(Step("env_save", Status.WARN, msg.STEP_ENV_SAVE, msg.SAVE_NO_BACKEND.format(cwd=flow.env.cwd),
                      None, msg.FIX_SAVE_NO_BACKEND))
        return
    changes = planned_changes(settings, typed, flow.env_values)
    if not changes:
        return
    flow.view.phase(Phase.SAVE)
    flow.view.save_preview(path, [(c.key, c.shown) for c in changes], exists=path.exists())
    if not flow.decider.allow(FixKind.PERSON, msg.ASK_SAVE):
        flow.add(Step("env_save", Status.SKIP, msg.STEP_ENV_SAVE, msg.SAVE_SKIPPED))
        return
    try:
        # Refused (env_save_conflict) if someone changed these keys since the wizard read the file.
        seen = flow.env_values if flow.env_values is not None else {}
        result = save_env(path, changes, expected=seen, backups=flow.backups)
    except WizardError as error:
        flow.add(Step("env_save", Status.WARN, msg.STEP_ENV_SAVE, error.detail, error.code, error.fix))
        return
    flow.changed = True
    detail = msg.SAVE_DONE.format(path=result.path)
    if result.backup is not None:
        detail += "\n" + msg.SAVE_BACKUP.format(backup=result.backup)
    if result.merged:
        detail += "\n" + msg.ENV_SAVE_MERGED
    overrides = environment_overrides(flow.env.environ, result.keys)
    if overrides:  # the backend reads the environment first: the saved value is not the one it uses
        flow.add(Step("env_save", Status.WARN, msg.STEP_ENV_SAVE,
                      detail + "\n" + msg.ENV_SAVE_OVERRIDDEN.format(names=", ".join(overrides)),
                      "env_overridden", msg.FIX_ENV_SAVE_OVERRIDDEN.format(names=", ".join(overrides))))
    else:
        flow.add(Step("env_save", Status.OK, msg.STEP_ENV_SAVE, detail))
    restrict_if_readable(flow, result.path)
    flow.judge_backend(settings)


def restrict_if_readable(flow: FlowState, path: Path) -> None:
    """A password now sits in the file: if other users can read it, say so and offer to restrict it."""
    if flow.system.platform == "windows":
        return  # NTFS: a file in the user's profile is not readable by other users by default
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return
    if flow.decider.can_ask:
        flow.view.say(msg.ENV_READABLE_AFTER_SAVE.format(path=path, mode=f"{mode:o}"))
    private = owner_only(mode)  # only bits taken away: a read-only file stays read-only (444 -> 400)
    if not flow.decider.allow(FixKind.PERSON, msg.ASK_RESTRICT_ENV.format(mode=f"{private:o}")):
        flow.add(Step("env_permissions", Status.WARN, msg.STEP_ENV_PERMISSIONS,
                      msg.ENV_READABLE_BY_OTHERS.format(mode=f"{mode:o}"), "env_file_readable",
                      msg.FIX_ENV_READABLE.format(path=path, mode=f"{private:o}")))
        return
    path.chmod(private)
    flow.add(Step("env_permissions", Status.OK, msg.STEP_ENV_PERMISSIONS,
                  msg.ENV_RESTRICTED.format(path=path, mode=f"{private:o}")))
