"""The one sequence every run goes through: settings → connect (with its fixes) → usable? → plan → apply →
verify → result.

The wizard and `--yes` both call `run()`; they differ only in the `Decider` (ask the person, or take the
safe default) and the `View` (screens, or progress lines). `check` runs the same phases' functions
read-only through its registry of checks (flow/checks.py); the run's last screen is that registry's
database items read again after its fixes (`Flow.last_pass`), so both doors judge a database the same
way. Everything is computed into one Report; drawing it is ui/render.py's job.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard import problems
from setup_wizard.config.envfile import default_env_path, present, read_env_file
from setup_wizard.config.envfix import plan_backend_env
from setup_wizard.config.load import load_settings
from setup_wizard.config.project import backend_path_from, find_backend
from setup_wizard.config.settings import FIELDS, Settings
from setup_wizard.database.connect import psql_line
from setup_wizard.database.dev_user import dev_user_step
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import Migration, load_migrations
from setup_wizard.database.migration_history import changed_files_problem, read_plan
from setup_wizard.database.preview import describe_pending, summarise_notices
from setup_wizard.database.server_facts import privileges_step, version_step
from setup_wizard.environment import Environment
from setup_wizard.errors import UsageError, WizardError
from setup_wizard.flow import connect_phase, finish
from setup_wizard.flow.agree import backend_agrees
from setup_wizard.flow.decide import Decider, FixKind
from setup_wizard.flow.options import Options
from setup_wizard.flow.save import account_unsaved
from setup_wizard.flow.settings_phase import env_file_step, load_env_and_settings, settings_step
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase, Say, View
from setup_wizard.machine import install_checks, local_cluster
from setup_wizard.results import MigrationOutcome, Report, Status, Step

if TYPE_CHECKING:
    import psycopg

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
            self.view.say(msg.INSTALL_SEARCH_FAILED.format(error=type(error).__name__))
            return
        self.view.installations(self.discovery)
        user_server = local_cluster.install_line(self.system, self.discovery)
        self.add(install_checks.postgres_step(self.discovery, settings, user_server))
        psql = install_checks.psql_step(self.system, self.discovery, settings)
        chosen = self.discovery.chosen
        if psql.code == "psql_not_found" and chosen is not None and install_checks.add_bin_to_path(
                self.system, chosen.bindir, lambda question: self.decider.allow(FixKind.PERSON, question)):
            psql = Step("psql", Status.OK, msg.STEP_PSQL, msg.PSQL_ADDED.format(bindir=chosen.bindir))
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
                             project=nearby_project(self.env.cwd) or msg.PROJECT_FOLDER_PLACEHOLDER)
        if not self.decider.can_ask:
            self.add(step)
            return True
        self.view.preview(step)
        if self.decider.allow(FixKind.PERSON, msg.ASK_CONTINUE_WITHOUT_BACKEND, default=False):
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
            self.view.say(msg.ENV_PLAN_PENDING.format(path=self.env_plan.path, problems=", ".join(titles)))
        elif self.env_create is not None:
            self.view.say(msg.ENV_CREATE_PENDING.format(path=self.env_create))

    # 3. Plan and apply ---------------------------------------------------------------------------------
    def usable(self, conn: psycopg.Connection[Any]) -> bool:
        """Would the backend, connecting as this role, find the tables and may it use them? If not, the
        failure with its fix, and nothing is planned or changed: no tables made where the backend does not
        look, no migration over tables this role cannot read."""
        from setup_wizard.database.live_schema import contract_schema, search_path_problem
        from setup_wizard.database.table_access import access_problem

        nowhere = search_path_problem(conn)
        if nowhere is not None:
            self.add(problems.from_error(nowhere, "search_path", msg.STEP_SEARCH_PATH))
            return False
        denied = access_problem(conn, contract_schema(conn))
        if denied is not None:
            self.add(problems.from_error(denied, "table_access", msg.STEP_TABLE_ACCESS))
            return False
        return True

    def plan_and_apply(self, conn: psycopg.Connection[Any], settings: Settings) -> bool:
        self.view.phase(Phase.PLAN)
        migrations = load_migrations()
        plan = read_plan(conn, migrations)
        changed = [item for item in plan if item.state == "changed"]
        pending = [item.migration.name for item in plan if item.state == "pending"]
        if changed:
            detail, fix = changed_files_problem(changed[:1])
            self.add(problems.step("checksum_mismatch", "migrations", Status.FAIL, msg.STEP_MIGRATIONS, detail=detail,
                                   fix=fix))
            return False
        if not pending and not self.options.recreate:
            self.report.migrations = [MigrationOutcome(item.migration.name, "skipped") for item in plan]
            self.add(Step("migrations", Status.OK, msg.STEP_MIGRATIONS,
                          msg.MIGRATIONS_UP_TO_DATE.format(count=len(plan))))
            return True
        privileges = privileges_step(conn, settings)
        if privileges.status is Status.FAIL:
            self.add(privileges)
            return False
        if not self.agreed(conn, settings, pending, migrations):
            return False
        self.view.phase(Phase.APPLY)
        with self.view.progress(msg.APPLY_STARTING) as update:
            ok = self.apply(conn, update, migrations)
        notices = [notice for outcome in self.report.migrations for notice in outcome.notices]
        self.view.migrations(self.report.migrations, summarise_notices(notices, self.options.verbose, migrations))
        return ok

    def agreed(self, conn: psycopg.Connection[Any], settings: Settings, pending: list[str],
               migrations: list[Migration]) -> bool:
        """The person's (or the option's) consent to what the plan will do."""
        if self.options.recreate:
            self.view.preview(Step("recreate", Status.WARN, msg.STEP_RECREATE, msg.PLAN_RECREATE))
            if not self.decider.confirm_recreate(settings.dbname):
                self.add(Step("recreate", Status.FAIL, msg.STEP_RECREATE, msg.RECREATE_DECLINED))
                return False
            return True
        if self.decider.can_ask:
            self.view.say(msg.PLAN_INTRO.format(count=len(pending)))
            self.view.plan(describe_pending(conn, pending, migrations))
        if not self.decider.allow(FixKind.ADD, msg.ASK_CONFIRM_APPLY):
            self.add(Step("migrations", Status.SKIP, msg.STEP_MIGRATIONS, msg.APPLY_DECLINED))
            return False
        return True

    def apply(self, conn: psycopg.Connection[Any], progress: Say, migrations: list[Migration]) -> bool:
        runner = Runner(conn, migrations, lock_timeout=self.options.lock_timeout, progress=progress)
        started = time.perf_counter()
        try:
            result = runner.apply(recreate=self.options.recreate)
        except MigrationError as error:
            self.report.migrations = error.outcomes
            self.fail("migrations", msg.STEP_MIGRATIONS, error)
            return False
        except WizardError as error:
            self.fail("migrations", msg.STEP_MIGRATIONS, error)
            return False
        seconds = time.perf_counter() - started
        self.report.migrations = result.outcomes
        self.changed = self.changed or any(o.action in ("applied", "baseline") for o in result.outcomes)
        applied = sum(o.action == "applied" for o in result.outcomes)  # a baseline is said on its own line
        skipped = sum(o.action == "skipped" for o in result.outcomes)
        detail = (msg.MIGRATIONS_APPLIED if applied else msg.MIGRATIONS_NONE_APPLIED).format(applied=applied,
                                                                                             seconds=seconds)
        if skipped:
            detail += " " + msg.MIGRATIONS_SKIPPED.format(skipped=skipped)
        for outcome in result.outcomes:
            if outcome.action == "baseline":
                detail += "\n" + msg.MIGRATIONS_BASELINE.format(name=outcome.name)
        # The server's notices: summarised on the wizard's screen; their originals under -v in every mode.
        raw = tuple(msg.NOTICES_ORIGINAL.format(text=notice) for o in result.outcomes for notice in o.notices)
        self.add(Step("migrations", Status.OK, msg.STEP_MIGRATIONS, detail, more=raw))
        if result.recreated is not None:
            self.add(Step("recreate", Status.OK, msg.STEP_RECREATE,
                          msg.RECREATE_DONE.format(schema=result.recreated.schema),
                          None, msg.RECREATE_RESTORE.format(sql=result.recreated.restore_sql, psql=psql_line(conn))))
        return True

    # 3b. The live schema is the truth: repair what drifted since (other tools change it too) -----------
    def repair(self, conn: psycopg.Connection[Any]) -> bool:
        """Safe repairs after the migrations, asked like them; manual ones stay for the checklist."""
        from setup_wizard.database.repair import apply_repairs, plan_repairs

        safe = [r for r in plan_repairs(conn) if r.safe]
        if not safe:
            return True
        self.view.phase(Phase.PLAN)
        if self.decider.can_ask:
            self.view.say(msg.PLAN_REPAIRS_INTRO)
            self.view.plan([(r.id.split(":", 1)[0], r.description) for r in safe])
        if not self.decider.allow(FixKind.ADD, msg.ASK_CONFIRM_REPAIR):
            self.add(Step("repairs", Status.SKIP, msg.STEP_REPAIRS, msg.REPAIR_DECLINED))
            return True  # the checklist below names what is still different
        self.view.phase(Phase.APPLY)
        try:
            with self.view.progress(msg.REPAIRING_START) as update:
                outcomes = apply_repairs(conn, safe, lock_timeout=self.options.lock_timeout, progress=update)
        except WizardError as error:
            self.fail("repairs", msg.STEP_REPAIRS, error)
            return False
        self.changed = self.changed or any(o.status in ("applied", "not_valid") for o in outcomes)
        self.add(finish.repairs_step(outcomes))
        return True

    # 4. Verify and the result ------------------------------------------------------------------------
    def result(self, conn: psycopg.Connection[Any], settings: Settings) -> None:
        self.view.phase(Phase.RESULT)
        verified = Report()
        finish.add_verification(conn, verified)
        self.report.verification = verified.verification
        self.view.verification(self.report.verification)
        for step in verified.steps:
            self.add(step)
        before = len(self.report.steps)
        if finish.ensure_checkpoints(conn, settings, self.decider, self.report, self.view.say):
            self.changed = True
        for step in self.report.steps[before:]:
            self.view.step(step)
        dev_user = dev_user_step(conn, lambda question: self.decider.allow(FixKind.ADD, question))
        if dev_user is not None:
            self.add(dev_user)
            self.changed = self.changed or dev_user.detail == msg.DEV_USER_CREATED
        items = self.last_pass(conn, settings, verified)
        self.report.checklist = items
        self.view.checklist(items)
        self.report.next_steps = finish.next_steps(items)
        problem = finish.readiness_problems(items, self.report)
        if problem is not None:
            self.add(problem)

    def last_pass(self, conn: psycopg.Connection[Any], settings: Settings, verified: Report) -> list[Step]:
        """`check`'s database items again, on this connection, after the fixes: the run's last screen."""
        from setup_wizard.flow.check_registry import Context
        from setup_wizard.flow.checks_database import last_pass
        from setup_wizard.scrub import Scrubber

        scrub = Scrubber.collect([settings.password], self.env_values)
        return last_pass(Context(self.options, self.env, None, settings, self.view.say, scrub, self.system,
                                 discovery=self.discovery, conn=conn, count_counters=False, verified=verified))


def run(options: Options, env: Environment, decider: Decider, view: View, system: System | None = None) -> Report:
    """Bring the database to the state the backend needs (the wizard and --yes)."""
    if options.recreate and not decider.can_ask and not options.yes:
        raise problems.error("usage_invalid", msg.RECREATE_NEEDS_CONFIRM, msg.FIX_RECREATE_NEEDS_CONFIRM)
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
            version = version_step(conn, flow.discovery)
            flow.add(version)
            if flow.usable(conn) and flow.plan_and_apply(conn, settings) and flow.repair(conn):
                flow.result(conn, settings)
    flow.report.changed = flow.changed
    flow.report.backend_path = backend_path_from(env.cwd)
    # Said at the end, in every door: where the previous .env went (it holds the old secrets); then, last,
    # what a run that never logged in would have written, or where the backend goes instead.
    flow.report.footer.extend(msg.BACKUP_KEPT.format(path=path) for path in flow.backups.kept)
    last = account_unsaved(flow, settings) if conn is None else backend_agrees(flow, settings)
    if last is not None:
        flow.report.footer.append(last)
    view.finish(flow.report)
    return flow.report
