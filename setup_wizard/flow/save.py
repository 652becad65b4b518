"""Writing the backend's .env: once, after a login proved the values, or not at all.

Everything a run would write goes into one `PendingSave`: the fixes planned before the login
(config/envfix.py: encoding, scheme, DATABASE_URL from POSTGRES_*, the password into the URL, a root .env
copied) and the values the person typed. It is shown and asked once, right after the login worked, and
written in one atomic replace. Before that moment nothing is written, so Ctrl+C, SIGTERM or a closed
input leave the file as it was; a run that never logs in ends by saying what it would have written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard import problems
from setup_wizard.config.backups import Backups
from setup_wizard.config.settings import FIELDS, TYPED, Settings
from setup_wizard.errors import WizardError
from setup_wizard.flow.decide import FixKind
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase
from setup_wizard.machine.system import Platform
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

# config/envfix.py and config/envwrite.py are imported where a file is planned or written: a run with
# --dsn judges no backend file and loads neither (issue 20, "Speed").
if TYPE_CHECKING:
    from setup_wizard.config.envfix import EnvPlan
    from setup_wizard.config.envwrite import EnvChange, SaveResult


@record
class PendingSave:
    """What this run would write into the backend's .env, and why."""

    path: Path
    notes: tuple[str, ...]  # the planned fixes' reasons (never a password)
    changes: tuple[EnvChange, ...]
    plan: EnvPlan | None
    typed: bool  # values the person typed are part of it (saving them is the person's decision)

    @property
    def shown(self) -> list[tuple[str, str]]:
        return [(change.key, change.shown) for change in self.changes]

    def summary(self) -> str:
        """One line: the values as the screen may show them (the reasons when only the form changes)."""
        values = [screens_msg.SAVE_LINE.format(key=key, shown=shown) for key, shown in self.shown]
        return " · ".join(values or self.notes)

    def write(self, seen: dict[str, str] | None, backups: Backups) -> SaveResult:
        from setup_wizard.config.envfix import write_plan
        from setup_wizard.config.envwrite import save_env

        if self.plan is not None:
            return write_plan(self.plan, list(self.changes), backups=backups)
        # Refused (env_save_conflict) if someone changed these keys since the wizard read the file.
        return save_env(self.path, list(self.changes), expected=seen if seen is not None else {}, backups=backups)


def typed_fields(settings: Settings) -> set[str]:
    return {name for name in FIELDS if settings.source(name) == TYPED}


def pending_save(flow: FlowState, settings: Settings) -> PendingSave | None:
    """The plan's fixes and the typed values, merged by key (a typed value wins); None: nothing to write,
    or no backend folder to write into."""
    typed = typed_fields(settings)
    plan = flow.env_plan
    create = plan is None and flow.env_create is not None and not flow.env_create.exists()
    if flow.options.dsn is not None or (not typed and plan is None and not create):
        return None
    from setup_wizard.config.envwrite import planned_changes, target_path

    if plan is not None:
        path: Path | None = plan.path
        values: dict[str, str] | None = plan.intended_values()
    else:
        path, values = target_path(flow.env.cwd, settings.env_file), flow.env_values
    if path is None:
        return None
    merged = {change.key: change for change in (plan.changes if plan is not None else ())}
    if typed or create:  # a new file: one DATABASE_URL with every value the login proved
        merged.update({change.key: change for change in planned_changes(settings, typed, values)})
    if not merged and (plan is None or not plan.fixes):
        return None
    notes = plan.descriptions if plan is not None else (envfiles_msg.ENV_FIX_CREATE,) if create else ()
    return PendingSave(path, notes, tuple(merged.values()), plan, bool(typed))


def _no_backend_folder(flow: FlowState, settings: Settings) -> bool:
    from setup_wizard.config.envwrite import target_path

    return target_path(flow.env.cwd, settings.env_file) is None


def offer_save(flow: FlowState, settings: Settings) -> None:
    """Once a login has proved the values, offer to write everything pending, in one write."""
    if flow.save_offered:
        return
    pending = pending_save(flow, settings)
    if pending is None:
        if typed_fields(settings) and flow.options.dsn is None and _no_backend_folder(flow, settings):
            flow.save_offered = True
            flow.add(
                Step(
                    "env_save",
                    Status.WARN,
                    envfiles_msg.STEP_ENV_SAVE,
                    envfiles_msg.SAVE_NO_BACKEND.format(cwd=flow.env.cwd),
                    None,
                    envfiles_msg.FIX_SAVE_NO_BACKEND,
                )
            )
        return
    flow.save_offered = True
    flow.view.phase(Phase.SAVE)
    previewed = flow.view.save_preview(pending.path, list(pending.notes), pending.shown, exists=pending.path.exists())
    # Fixes alone only add what the backend needs (--yes takes them); typed values are the person's call.
    if not flow.decider.allow(FixKind.PERSON if pending.typed else FixKind.ADD, envfiles_msg.ASK_SAVE):
        flow.add(
            Step(
                "env_save",
                Status.SKIP,
                envfiles_msg.STEP_ENV_SAVE,
                envfiles_msg.SAVE_SKIPPED
                + "\n"
                + envfiles_msg.SAVE_WOULD_WRITE.format(path=pending.path, what=pending.summary()),
            )
        )
        return
    try:
        result = pending.write(flow.env_values, flow.backups)
    except WizardError as error:
        flow.add(Step("env_save", Status.WARN, envfiles_msg.STEP_ENV_SAVE, error.detail, error.code, error.fix))
        return
    flow.env_plan = None
    flow.changed = True
    report_saved(flow, settings, () if previewed else pending.notes, result)


def report_saved(flow: FlowState, settings: Settings, notes: tuple[str, ...], result: SaveResult) -> None:
    """The saved item: where, with the reasons unless the person just read them with the question."""
    from setup_wizard.config.envwrite import environment_overrides

    # The file this run created: the earlier "no .env" item would now be untrue.
    flow.report.steps = [
        Step("env_file", Status.OK, envfiles_msg.ENV_FILE_TITLE, envfiles_msg.ENV_FILE_CREATED.format(path=result.path))
        if step.code == "env_file_missing"
        else step
        for step in flow.report.steps
    ]
    detail = "\n".join([envfiles_msg.SAVE_DONE.format(path=result.path), *notes])
    if result.backup is not None:
        detail += "\n" + envfiles_msg.SAVE_BACKUP.format(backup=result.backup)
    if result.merged:
        detail += "\n" + envfiles_msg.ENV_SAVE_MERGED
    overrides = environment_overrides(flow.env.environ, result.keys)
    if overrides:  # the backend reads the environment first: the saved value is not the one it uses
        flow.add(
            problems.step(
                "env_overridden",
                "env_save",
                Status.WARN,
                envfiles_msg.STEP_ENV_SAVE,
                detail=detail + "\n" + envfiles_msg.ENV_SAVE_OVERRIDDEN.format(names=", ".join(overrides)),
                fix=envfiles_msg.FIX_ENV_SAVE_OVERRIDDEN.format(names=", ".join(overrides)),
            )
        )
    else:
        flow.add(Step("env_save", Status.OK, envfiles_msg.STEP_ENV_SAVE, detail))
    restrict_if_readable(flow, result.path)
    flow.judge_backend(settings)


def account_unsaved(flow: FlowState, settings: Settings) -> str | None:
    """A run that never logged in wrote nothing: say, last, what it would have written and how to go on.
    Returns that line (the flow puts it where the person looks), or None."""
    if flow.save_offered:
        return None  # asked (declined or failed): that step already says what was not written
    pending = pending_save(flow, settings)
    if pending is None:
        return None
    line = envfiles_msg.SAVE_NOT_PROVEN.format(path=pending.path, what=pending.summary())
    # Into the report only (--json, --yes): on the screen the failure's own next step stays the panel
    # it ends with, and this line follows it.
    flow.report.add(
        Step("env_save", Status.SKIP, envfiles_msg.STEP_ENV_SAVE, line, None, envfiles_msg.FIX_SAVE_NOT_PROVEN)
    )
    return line + " " + envfiles_msg.FIX_SAVE_NOT_PROVEN


def restrict_if_readable(flow: FlowState, path: Path) -> None:
    """A password now sits in the file: if other users can read it, say so and offer to restrict it."""
    from setup_wizard.config.envwrite import owner_only

    if flow.system.platform is Platform.WINDOWS:
        return  # NTFS: a file in the user's profile is not readable by other users by default
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return
    if flow.decider.can_ask:
        flow.view.say(envfiles_msg.ENV_READABLE_AFTER_SAVE.format(path=path, mode=f"{mode:o}"))
    private = owner_only(mode)  # only bits taken away: a read-only file stays read-only (444 -> 400)
    if not flow.decider.allow(FixKind.PERSON, envfiles_msg.ASK_RESTRICT_ENV.format(mode=f"{private:o}")):
        flow.add(problems.step("env_file_readable", "env_permissions", Status.WARN, envfiles_msg.STEP_ENV_PERMISSIONS,
                               detail=envfiles_msg.ENV_READABLE_BY_OTHERS.format(mode=f"{mode:o}"),
                               fix=envfiles_msg.FIX_ENV_READABLE.format(path=path, mode=f"{private:o}")))
        return
    path.chmod(private)
    flow.add(Step("env_permissions", Status.OK, envfiles_msg.STEP_ENV_PERMISSIONS,
                  envfiles_msg.ENV_RESTRICTED.format(path=path, mode=f"{private:o}")))
