"""After the login: `check`'s database items, the fixes their findings call for, then the same items again.

Django's system checks are the model. The first pass is the registry's database items
(flow/checks_database.py) on the run's own connection: exactly what `check` says of this database now.
An item whose finding an automatic fix answers leaves its id in `Context.fixable`; `FIXES` maps those ids
to the fixes, applied in `Fix`'s order, each asked through the Decider (the wizard asks, `--yes` takes what
only adds, `check` never gets here). The last screen is the same items read again after the fixes, or,
when none was applied, the first pass itself: nothing is read twice on an up-to-date database.

A finding that makes every fix unsafe stops the run before any change, said with its fix: the backend would
not find its tables (search_path) or may not use them (table_access), a check could not read at all (a lock
held elsewhere, a statement limit), an applied file changed (checksums), or the migrations to apply need a
privilege this role lacks (privileges).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from setup_wizard.config.settings import Settings
from setup_wizard.database.connect import psql_line
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import Migration
from setup_wizard.errors import WizardError
from setup_wizard.flow import finish
from setup_wizard.flow.check_registry import Context
from setup_wizard.flow.decide import FixKind
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase, Say
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.results import MigrationOutcome, Report, Status, Step

if TYPE_CHECKING:
    import psycopg


class Fix(Enum):
    """The run's automatic fixes, in the order they apply."""

    MIGRATIONS = "migrations"
    REPAIRS = "repairs"
    CHECKPOINTS = "checkpoints"
    DEV_USER = "dev_user"


# Each check item an automatic fix answers, and the fixes its finding calls for. The migration files and the
# repairs make tables, so what they leave is judged on the live database right after them: the repairs
# after the files, the dev user after both.
FIXES: dict[str, tuple[Fix, ...]] = {
    "migrations": (Fix.MIGRATIONS, Fix.REPAIRS, Fix.DEV_USER),
    "schema_tables": (Fix.REPAIRS, Fix.DEV_USER),
    "schema_indexes": (Fix.REPAIRS, Fix.DEV_USER),
    "schema_constraints": (Fix.REPAIRS, Fix.DEV_USER),
    "schema_triggers": (Fix.REPAIRS, Fix.DEV_USER),
    "checkpoints": (Fix.CHECKPOINTS,),
    "dev_user": (Fix.DEV_USER,),
}
# Items that stop the run before any change when they fail, in the order they are told; then any item that
# could not read the database at all (a lock held elsewhere, a statement limit): nothing judged, nothing changed.
BLOCKING = ("search_path", "table_access")
UNREAD = ("lock_timeout", "statement_timeout")


def planned_fixes(failing: Iterable[str], recreate: bool = False) -> list[Fix]:
    """The fixes the first pass's findings call for (`--recreate`: the files again, and what follows them)."""
    wanted = {fix for check_id in failing for fix in FIXES.get(check_id, ())}
    if recreate:
        wanted.update(FIXES["migrations"])
    return [fix for fix in Fix if fix in wanted]


class DatabasePhase:
    """One run's checks, fixes and last checks on its connection; steps and screens through the flow."""

    def __init__(self, flow: FlowState, conn: psycopg.Connection[Any], settings: Settings) -> None:
        self.flow = flow
        self.conn = conn
        self.settings = settings
        self.applied = False  # did any fix run (a yes to its question)? Then the checks are read again.
        self.made_tables = False  # did the migration files or the repairs run? Then the dev user is looked at anew.

    def checks(self, count_counters: bool = True, verified: Report | None = None) -> tuple[Context, list[Step]]:
        """`check`'s database items on this connection."""
        from setup_wizard.flow.checks_database import database_pass
        from setup_wizard.scrub import Scrubber

        flow = self.flow
        scrub = Scrubber.collect([self.settings.password], flow.env_values)
        ctx = Context(flow.options, flow.env, None, self.settings, flow.view.say, scrub, flow.system,
                      discovery=flow.discovery, conn=self.conn, count_counters=count_counters, verified=verified)
        return ctx, database_pass(ctx)

    def allow(self, question: str) -> bool:
        """A fix that only adds, asked; a yes means the database may change."""
        allowed = self.flow.decider.allow(FixKind.ADD, question)
        self.applied = self.applied or allowed
        return allowed

    def run(self) -> None:
        ctx, first = self.checks()
        found: dict[str, Step] = {}
        for item in first:
            found.setdefault(item.id, item)
        self.flow.add(found["server_version"])
        blocked = next((found[i] for i in BLOCKING if found[i].status is Status.FAIL),
                       next((item for item in first if item.code in UNREAD), None))
        if blocked is not None:  # nothing is planned or changed where the backend would not look
            self.flow.add(blocked)
            return
        fixes = planned_fixes(ctx.fixable, self.flow.options.recreate)
        if not self.migrations(ctx, found, fixes):
            return
        if Fix.REPAIRS in fixes and not self.repairs(ctx, migrated=Fix.MIGRATIONS in fixes):
            return
        self.result(ctx, first, found, fixes)

    # Migrations ------------------------------------------------------------------------------------------
    def migrations(self, ctx: Context, found: dict[str, Step], fixes: list[Fix]) -> bool:
        flow = self.flow
        flow.view.phase(Phase.PLAN)
        if found["checksums"].status is Status.FAIL:  # an applied file changed: nothing is run over it
            flow.add(found["checksums"])
            return False
        plan = ctx.plan
        if Fix.MIGRATIONS not in fixes or plan is None:
            if plan is not None:
                flow.report.migrations = [MigrationOutcome(item.migration.name, "skipped") for item in plan]
            flow.add(found["migrations"])
            return found["migrations"].status is not Status.FAIL
        if found["privileges"].status is Status.FAIL:
            flow.add(found["privileges"])
            return False
        migrations = [item.migration for item in plan]
        pending = [item.migration.name for item in plan if item.state == "pending"]
        if not self.agreed(pending, migrations):
            return False
        self.applied = self.made_tables = True
        flow.view.phase(Phase.APPLY)
        with flow.view.progress(migrations_msg.APPLY_STARTING) as update:
            ok = self.apply(update, migrations)
        from setup_wizard.database.preview import summarise_notices

        notices = [notice for outcome in flow.report.migrations for notice in outcome.notices]
        flow.view.migrations(flow.report.migrations, summarise_notices(notices, flow.options.verbose, migrations))
        return ok

    def agreed(self, pending: list[str], migrations: list[Migration]) -> bool:
        """The person's (or the option's) consent to what the plan will do."""
        flow = self.flow
        if flow.options.recreate:
            flow.view.preview(Step("recreate", Status.WARN, migrations_msg.STEP_RECREATE, migrations_msg.PLAN_RECREATE))
            if not flow.decider.confirm_recreate(self.settings.dbname):
                flow.add(Step("recreate", Status.FAIL, migrations_msg.STEP_RECREATE, migrations_msg.RECREATE_DECLINED))
                return False
            return True
        if flow.decider.can_ask:
            from setup_wizard.database.preview import describe_pending

            flow.view.say(migrations_msg.PLAN_INTRO.format(count=len(pending)))
            flow.view.plan(describe_pending(self.conn, pending, migrations))
        if not flow.decider.allow(FixKind.ADD, migrations_msg.ASK_CONFIRM_APPLY):
            flow.add(Step("migrations", Status.SKIP, migrations_msg.STEP_MIGRATIONS, migrations_msg.APPLY_DECLINED))
            return False
        return True

    def apply(self, progress: Say, migrations: list[Migration]) -> bool:
        flow, conn = self.flow, self.conn
        runner = Runner(conn, migrations, lock_timeout=flow.options.lock_timeout, progress=progress)
        started = time.perf_counter()
        try:
            result = runner.apply(recreate=flow.options.recreate)
        except MigrationError as error:
            flow.report.migrations = error.outcomes
            flow.fail("migrations", migrations_msg.STEP_MIGRATIONS, error)
            return False
        except WizardError as error:
            flow.fail("migrations", migrations_msg.STEP_MIGRATIONS, error)
            return False
        seconds = time.perf_counter() - started
        flow.report.migrations = result.outcomes
        flow.changed = flow.changed or any(o.action in ("applied", "baseline") for o in result.outcomes)
        applied = sum(o.action == "applied" for o in result.outcomes)  # a baseline is said on its own line
        skipped = sum(o.action == "skipped" for o in result.outcomes)
        detail = (migrations_msg.MIGRATIONS_APPLIED if applied else migrations_msg.MIGRATIONS_NONE_APPLIED).format(
            applied=applied, seconds=seconds
        )
        if skipped:
            detail += " " + migrations_msg.MIGRATIONS_SKIPPED.format(skipped=skipped)
        for outcome in result.outcomes:
            if outcome.action == "baseline":
                detail += "\n" + migrations_msg.MIGRATIONS_BASELINE.format(name=outcome.name)
        # The server's notices: summarised on the wizard's screen; their originals under -v in every mode.
        raw = tuple(
            migrations_msg.NOTICES_ORIGINAL.format(text=notice) for o in result.outcomes for notice in o.notices
        )
        flow.add(Step("migrations", Status.OK, migrations_msg.STEP_MIGRATIONS, detail, more=raw))
        if result.recreated is not None:
            flow.add(
                Step(
                    "recreate",
                    Status.OK,
                    migrations_msg.STEP_RECREATE,
                    migrations_msg.RECREATE_DONE.format(schema=result.recreated.schema),
                    None,
                    migrations_msg.RECREATE_RESTORE.format(sql=result.recreated.restore_sql, psql=psql_line(conn)),
                )
            )
        return True

    # The live schema is the truth: repair what drifted (other tools change it too) -------------------------
    def repairs(self, ctx: Context, migrated: bool) -> bool:
        """The safe repairs, asked like the migrations; manual ones stay for the last screen. Planned by the
        first pass, or on the live schema right after the migration files."""
        from setup_wizard.database.repair import apply_repairs, plan_repairs

        flow = self.flow
        planned = ctx.repairs if ctx.repairs is not None and not migrated else plan_repairs(self.conn)
        safe = [r for r in planned if r.safe]
        if not safe:
            return True
        flow.view.phase(Phase.PLAN)
        if flow.decider.can_ask:
            flow.view.say(schema_msg.PLAN_REPAIRS_INTRO)
            flow.view.plan([(r.id.split(":", 1)[0], r.description) for r in safe])
        if not flow.decider.allow(FixKind.ADD, schema_msg.ASK_CONFIRM_REPAIR):
            flow.add(Step("repairs", Status.SKIP, schema_msg.STEP_REPAIRS, schema_msg.REPAIR_DECLINED))
            return True  # the last screen names what is still different
        self.applied = self.made_tables = True
        flow.view.phase(Phase.APPLY)
        try:
            with flow.view.progress(schema_msg.REPAIRING_START) as update:
                outcomes = apply_repairs(self.conn, safe, lock_timeout=flow.options.lock_timeout, progress=update)
        except WizardError as error:
            flow.fail("repairs", schema_msg.STEP_REPAIRS, error)
            return False
        flow.changed = flow.changed or any(o.status in ("applied", "not_valid") for o in outcomes)
        flow.add(finish.repairs_step(outcomes))
        return True

    # The result: verification, LangGraph's tables, the dev user, and the last screen ------------------------
    def result(self, ctx: Context, first: list[Step], found: dict[str, Step], fixes: list[Fix]) -> None:
        flow = self.flow
        flow.view.phase(Phase.RESULT)
        verified = ctx.verified
        if self.made_tables or verified is None:  # the files and repairs may have moved memories since
            verified = Report()
            finish.add_verification(self.conn, verified)
        flow.report.verification = verified.verification
        flow.view.verification(verified.verification)
        for step in verified.steps:
            flow.add(step)
        self.checkpoints(ctx, fixes)
        self.dev_user(ctx, found, fixes)
        items = self.checks(count_counters=False, verified=verified)[1] if self.applied else first
        flow.report.checklist = items
        flow.view.checklist(items)
        flow.report.next_steps = finish.next_steps(items)
        problem = finish.readiness_problems(items, flow.report)
        if problem is not None:
            flow.add(problem)

    def checkpoints(self, ctx: Context, fixes: list[Fix]) -> None:
        flow, state = self.flow, ctx.checkpoints
        if state is None:
            return
        if Fix.CHECKPOINTS not in fixes:
            if (step := finish.checkpoints_ok(state)) is not None:
                flow.add(step)
            return
        before = len(flow.report.steps)
        if finish.set_up_checkpoints(self.conn, self.settings, state, self.allow, flow.report, flow.view.say):
            flow.changed = True
        for step in flow.report.steps[before:]:
            flow.view.step(step)

    def dev_user(self, ctx: Context, found: dict[str, Step], fixes: list[Fix]) -> None:
        from setup_wizard.database.dev_user import DevUser, create_dev_user, dev_user_step

        flow = self.flow
        done: DevUser | None
        if Fix.DEV_USER in fixes and self.made_tables:  # the users table may be new: looked at now
            done = dev_user_step(self.conn, self.allow)
        elif Fix.DEV_USER in fixes and "dev_user" in ctx.fixable:  # found missing by the first pass
            done = create_dev_user(self.conn, self.allow)
        else:
            done = DevUser(found["dev_user"]) if found["dev_user"].status is Status.OK else None
        if done is not None:
            flow.add(done.step)
            flow.changed = flow.changed or done.created
