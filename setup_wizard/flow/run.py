"""The one sequence every run goes through: settings → connect (with its fixes) → `check`'s database items →
the fixes they call for (migrations, repairs, LangGraph's tables, the dev user) → the same items again.

The wizard and `--yes` both call `run()`; they differ only in the `Decider` (ask the person, or take the
safe default) and the `View` (screens, or progress lines). `check` runs the same phases' functions
read-only through its registry of checks (flow/checks.py); after the login a run starts from that
registry's database items and ends with them (flow/database_phase.py), so both doors judge a database the
same way. Everything is computed into one Report; drawing it is ui/render.py's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard import problems
from setup_wizard.config.envfile import default_env_path, present, read_env_file
from setup_wizard.config.load import load_settings
from setup_wizard.config.project import backend_path_from, find_backend
from setup_wizard.config.settings import FIELDS, Settings
from setup_wizard.environment import Environment
from setup_wizard.errors import UsageError
from setup_wizard.flow import connect_phase
from setup_wizard.flow.decide import Decider, FixKind
from setup_wizard.flow.options import Options
from setup_wizard.flow.save import account_unsaved
from setup_wizard.flow.settings_phase import env_file_step, load_env_and_settings, settings_step
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase, View
from setup_wizard.machine import install_checks, local_cluster
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import install as install_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.results import Report, Status, Step

if TYPE_CHECKING:
    from setup_wizard.machine.system import System


def nearby_project(cwd: Path) -> Path | None:
    """A project folder below this one (one or two levels down holding a backend folder): the newcomer
    who runs the wizard from the folder they cloned into."""
    try:
        found = sorted(cwd.glob("*/backend")) or sorted(cwd.glob("*/*/backend"))
    except OSError:
        return None
    folders = [path.parent for path in found if path.is_dir()]
    return folders[0] if folders else None


class Flow(FlowState):
    """The phases of one run, in order; `run()` below calls them."""

    # 1. This computer --------------------------------------------------------------------------------
    def machine(self, settings: Settings) -> None:
        from setup_wizard.machine.discovery import discover

        self.view.phase(Phase.INSTALLATIONS)
        try:
            self.discovery = discover(self.system)
        except Exception as error:  # the search only informs; it must never stop the run
            self.view.say(screens_msg.INSTALL_SEARCH_FAILED.format(error=type(error).__name__))
            return
        self.view.installations(self.discovery)
        user_server = local_cluster.install_line(self.system, self.discovery)
        self.add(install_checks.postgres_step(self.discovery, settings, user_server))
        psql = install_checks.psql_step(self.system, self.discovery, settings)
        chosen = self.discovery.chosen
        if psql.code == "psql_not_found" and chosen is not None and install_checks.add_bin_to_path(
                self.system, chosen.bindir, lambda question: self.decider.allow(FixKind.PERSON, question)):
            psql = Step("psql", Status.OK, install_msg.STEP_PSQL, install_msg.PSQL_ADDED.format(bindir=chosen.bindir))
            self.changed = True
        self.add(psql)
        port = install_checks.port_step(self.discovery, settings)
        if port is not None:
            self.add(port)  # said before any password is blamed

    # 0. Where the person runs it ----------------------------------------------------------------------
    def backend_found(self) -> bool:
        """No backend folder and no .env anywhere near: said first, with where to run it; the wizard asks
        whether to go on (with the backend's defaults), `--yes` goes on with the warning in its report."""
        if self.options.dsn is not None or self.options.env_file is not None:
            return True
        if find_backend(self.env.cwd) is not None or default_env_path(self.env.cwd) is not None:
            return True
        step = problems.step("backend_not_found", "backend_folder", Status.WARN, cwd=self.env.cwd,
                             project=nearby_project(self.env.cwd) or backend_settings_msg.PROJECT_FOLDER_PLACEHOLDER)
        if not self.decider.can_ask:
            self.add(step)
            return True
        self.view.preview(step)
        if self.decider.allow(FixKind.PERSON, backend_settings_msg.ASK_CONTINUE_WITHOUT_BACKEND, default=False):
            self.report.add(step)
            return True
        # The same words as the box above: not drawn again, its fix is the last thing shown.
        self.add(Step("backend_folder", Status.FAIL, step.title, step.detail, step.code, step.fix))
        return False

    # 2. Settings -------------------------------------------------------------------------------------
    def settings(self) -> Settings:
        """Read the .env file and merge every source; unreadable input raises UsageError (exit 2)."""
        env_file, settings = load_env_and_settings(self.options, self.env)
        if env_file is not None:
            self.env_values = dict(env_file.values)
        return settings

    def show_settings(self, settings: Settings) -> Settings:
        self.view.phase(Phase.SETTINGS)
        shown, settings = self.plan_env(settings)
        self.view.settings(shown, settings.env_file)
        env_file = read_env_file(settings.env_file, self.env.environ) if settings.env_file is not None else None
        self.add_unless_pending(env_file_step(env_file, settings))
        self.judge_backend(settings)
        self.say_pending()
        settings = connect_phase.ask_missing(self, settings)
        self.report.add(settings_step(settings))  # drawn by view.settings above
        return settings

    def plan_env(self, settings: Settings) -> tuple[Settings, Settings]:
        """The backend .env's fixes, planned but not written (encoding, scheme, DATABASE_URL from POSTGRES_*,
        the password into the URL, a root .env copied, a missing backend/.env created): the wizard connects
        with the values the file will hold, and flow/save.py writes them, with anything typed, only once a
        login proved them. Returns the settings to show (each value labelled where it is now) and the
        settings to connect with."""
        if self.options.dsn is not None:
            return settings, settings  # --dsn checks another place; the backend's files are only judged
        from setup_wizard.config.envfix import plan_backend_env

        plan = plan_backend_env(self.env.cwd, self.env.environ)
        read = settings.env_file.resolve() if settings.env_file is not None else None
        if plan is None:
            self.plan_create(settings)
            return settings, settings
        if read not in (None, plan.path.resolve(), plan.copy_from and plan.copy_from.resolve()):
            return settings, settings  # --env-file names another file: the backend's own is only judged
        self.env_plan = plan
        self.pending_codes = frozenset(fix.problem for fix in plan.fixes)
        planned = load_settings(None, self.env.environ, plan.intended_values(), settings.env_file)
        try:  # labelled by the keys the file holds now (POSTGRES_HOST ...), when they give the same values
            now = load_settings(None, self.env.environ, plan.values, settings.env_file)
        except UsageError:
            return planned, planned
        same = all(str(now.get(name)) == str(planned.get(name)) for name in FIELDS)
        return (now if same else planned), planned

    def plan_create(self, settings: Settings) -> None:
        """No .env anywhere, a backend folder: the save after the login will offer to create backend/.env."""
        from setup_wizard.config import backend_verdict as b
        from setup_wizard.config.backend import inspect_backend

        backend = find_backend(self.env.cwd)
        if settings.env_file is not None or self.options.env_file is not None or backend is None:
            return
        if present(backend.env_path) or b.URL_MISSING not in inspect_backend(self.env.cwd, self.env.environ).codes():
            return
        self.env_create = backend.env_path
        self.pending_codes = frozenset({b.URL_MISSING, "env_file_missing"})

    def say_pending(self) -> None:
        """Once, before the login: what the save after it will fix, and why the wizard goes on now."""
        if not self.decider.can_ask:
            return
        if self.env_plan is not None:
            titles = [step.title for step in self.report.steps if step.code in self.pending_codes]
            self.view.say(envfiles_msg.ENV_PLAN_PENDING.format(path=self.env_plan.path, problems=", ".join(titles)))
        elif self.env_create is not None:
            self.view.say(envfiles_msg.ENV_CREATE_PENDING.format(path=self.env_create))


def run(options: Options, env: Environment, decider: Decider, view: View, system: System | None = None) -> Report:
    """Bring the database to the state the backend needs (the wizard and --yes)."""
    # Here, not at the top: `check` uses this module's Flow, and never this phase.
    from setup_wizard.flow.agree import backend_agrees
    from setup_wizard.flow.database_phase import DatabasePhase

    if options.recreate and not decider.can_ask and not options.yes:
        raise problems.error(
            "usage_invalid", migrations_msg.RECREATE_NEEDS_CONFIRM, migrations_msg.FIX_RECREATE_NEEDS_CONFIRM
        )
    flow = Flow(options, env, decider, view, system)
    if not flow.backend_found():
        view.finish(flow.report)
        return flow.report
    settings = flow.settings()
    flow.machine(settings)
    settings = flow.show_settings(settings)
    connector = connect_phase.Connector(flow, settings)
    conn = connector.run()
    settings = connector.settings
    if conn is not None:
        with conn:
            DatabasePhase(flow, conn, settings).run()
    flow.report.changed = flow.changed
    flow.report.backend_path = backend_path_from(env.cwd)
    # Said at the end, in every door: where the previous .env went (it holds the old secrets); then, last,
    # what a run that never logged in would have written, or where the backend goes instead.
    flow.report.footer.extend(envfiles_msg.BACKUP_KEPT.format(path=path) for path in flow.backups.kept)
    last = account_unsaved(flow, settings) if conn is None else backend_agrees(flow, settings)
    if last is not None:
        flow.report.footer.append(last)
    view.finish(flow.report)
    return flow.report
