"""`check`'s items about the server and the database, all through one read-only connection.

The connection comes from the flow's own connect phase with a Decider that never changes anything
(`ReadOnly`), and is then set to default_transaction_read_only. The later items need it and are
skipped without it: the server's version, privileges and encoding, pending and changed migrations,
the schema against the contract (with what --yes would repair), the search_path, the backend's own
tables, the dev user, the seed's verification table and LangGraph's checkpoint tables. The order of
`CHECKS` is the order the checklist shows. `database_pass` runs the same items on a run's connection: its
first pass, whose findings choose its fixes, and its last screen (the final checklist, in every output mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.migration_history import changed_files_problem, is_baseline, read_plan
from setup_wizard.flow.check_registry import Check, Context, register, run_checks
from setup_wizard.flow.connect_phase import Connector
from setup_wizard.flow.decide import ReadOnly
from setup_wizard.flow.finish import add_verification
from setup_wizard.flow.run import Flow
from setup_wizard.flow.view import ProgressView
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import check as check_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import locks as locks_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.record import replace
from setup_wizard.results import Report, Status, Step

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.drift import Drift
    from setup_wizard.database.repair import Repair

CHECKS: list[Check] = []


@register(CHECKS, "connection", login_msg.STEP_SERVER)
def check_connection(ctx: Context) -> Iterator[Step]:
    """The flow's own connect phase, with a Decider that never changes anything."""
    flow = Flow(ctx.options, ctx.env, ReadOnly(), ProgressView(ctx.say), ctx.system)
    flow.discovery = ctx.discovery
    conn = Connector(flow, ctx.settings).run()
    if conn is not None:
        # Belt and braces: even a mistake in a check cannot write.
        conn.execute("SET default_transaction_read_only = on")
        ctx.conn = conn
    yield from flow.report.steps


@register(CHECKS, "server_version", login_msg.STEP_SERVER_VERSION, needs_connection=True)
def check_server_version(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.connect import server_version
    from setup_wizard.database.server_facts import version_step

    assert ctx.conn is not None
    ctx.facts[check_msg.FACT_SERVER] = f"PostgreSQL {server_version(ctx.conn)}"
    yield version_step(ctx.conn, ctx.discovery)


@register(CHECKS, "privileges", locks_msg.STEP_PRIVILEGES, needs_connection=True)
def check_privileges(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.server_facts import privileges_step

    assert ctx.conn is not None
    yield privileges_step(ctx.conn, ctx.settings)


@register(CHECKS, "table_access", locks_msg.STEP_TABLE_ACCESS, needs_connection=True)
def check_table_access(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.live_schema import contract_schema
    from setup_wizard.database.table_access import access, problem_for

    assert ctx.conn is not None
    found, count = access(ctx.conn, contract_schema(ctx.conn))
    problem = problem_for(ctx.conn, found)
    if problem is not None:
        yield problems.from_error(problem, "table_access", locks_msg.STEP_TABLE_ACCESS)
        return
    detail = (
        locks_msg.TABLE_ACCESS_OK.format(user=ctx.settings.user, count=count)
        if count
        else locks_msg.TABLE_ACCESS_NOTHING_YET
    )
    yield Step("table_access", Status.OK if count else Status.SKIP, locks_msg.STEP_TABLE_ACCESS, detail)


@register(CHECKS, "encoding", check_msg.STEP_ENCODING, needs_connection=True)
def check_encoding(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    row = ctx.conn.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    encoding, collate = (str(row[0]), str(row[1])) if row else ("?", "?")
    detail = check_msg.ENCODING_DETAIL.format(encoding=encoding, collate=collate)
    if encoding == "UTF8":
        yield Step("encoding", Status.OK, check_msg.STEP_ENCODING, detail)
    else:
        yield problems.step("database_encoding", "encoding", Status.FAIL, check_msg.STEP_ENCODING,
                            detail=detail + "\n" + check_msg.ENCODING_NOT_UTF8, dbname=ctx.settings.dbname,
                            host=ctx.settings.host, port=ctx.settings.port, user=ctx.settings.user)


@register(CHECKS, "migrations", migrations_msg.STEP_MIGRATIONS, needs_connection=True)
def check_pending(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    from setup_wizard.database.live_schema import schema_with
    from setup_wizard.database.migration_history import HISTORY_TABLE

    migrations = load_migrations()
    schema, has_history = schema_with(ctx.conn, HISTORY_TABLE)  # the history beside the tables
    ctx.plan = read_plan(ctx.conn, migrations, schema, has_history)
    pending = [item.migration for item in ctx.plan if item.state == "pending"]
    if not pending:
        yield Step(
            "migrations",
            Status.OK,
            migrations_msg.STEP_MIGRATIONS,
            migrations_msg.MIGRATIONS_UP_TO_DATE.format(count=len(ctx.plan)),
        )
        return
    ctx.fixable.add("migrations")
    lines = [migrations_msg.MIGRATIONS_PENDING_HEAD.format(count=len(pending))]
    for migration in pending:
        lines.append(
            migrations_msg.MIGRATION_PENDING_LINE.format(
                name=migration.name,
                note=migrations_msg.MIGRATION_PENDING_BASELINE if is_baseline(ctx.conn, migration) else "",
            )
        )
    yield problems.step(
        "migrations_pending", "migrations", step_title=migrations_msg.STEP_MIGRATIONS, detail="\n".join(lines)
    )


@register(CHECKS, "checksums", migrations_msg.STEP_CHECKSUMS, needs_connection=True)
def check_checksums(ctx: Context) -> Iterator[Step]:
    if ctx.plan is None:
        yield Step("checksums", Status.SKIP, migrations_msg.STEP_CHECKSUMS, migrations_msg.CHECKSUMS_NO_PLAN)
        return
    applied = [item for item in ctx.plan if item.state != "pending"]
    changed = [item for item in ctx.plan if item.state == "changed"]
    if not applied:
        yield Step("checksums", Status.SKIP, migrations_msg.STEP_CHECKSUMS, migrations_msg.CHECKSUMS_NOTHING_APPLIED)
    elif changed:
        detail, fix = changed_files_problem(changed)
        yield problems.step(
            "checksum_mismatch", "checksums", Status.FAIL, migrations_msg.STEP_CHECKSUMS, detail=detail, fix=fix
        )
    else:
        yield Step(
            "checksums",
            Status.OK,
            migrations_msg.STEP_CHECKSUMS,
            migrations_msg.CHECKSUMS_OK.format(count=len(applied)),
        )


SCHEMA_STEPS = (
    ("schema_tables", "tables", schema_msg.STEP_SCHEMA_TABLES),
    ("schema_indexes", "indexes", schema_msg.STEP_SCHEMA_INDEXES),
    ("schema_constraints", "constraints", schema_msg.STEP_SCHEMA_CONSTRAINTS),
    ("schema_triggers", "triggers", schema_msg.STEP_SCHEMA_TRIGGERS),
)


def _plan_repairs(conn: psycopg.Connection[Any], drift: list[Drift]) -> list[Repair]:
    """database/repair.py (and the migration runner it uses) is loaded only when there is drift."""
    from setup_wizard.database.repair import plan_repairs

    return plan_repairs(conn, drift)


@register(CHECKS, "schema", schema_msg.STEP_SCHEMA_TABLES, needs_connection=True)
def check_schema(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.contract import FAIL, object_counts
    from setup_wizard.database.drift import find_drift
    from setup_wizard.database.live_schema import present_tables

    assert ctx.conn is not None
    pending = ctx.plan is None or any(item.state == "pending" for item in ctx.plan)
    # Nothing to compare before the files run; once every file is applied, a missing table is drift to repair.
    if pending and not present_tables(ctx.conn):
        for step_id, _kind, title in SCHEMA_STEPS:
            yield Step(step_id, Status.SKIP, title, schema_msg.SCHEMA_NOTHING_YET)
        return
    drift = find_drift(ctx.conn, counters=ctx.count_counters)
    # The live schema is the truth: what --yes would repair, and the SQL for what it will not.
    repairs = [] if pending or not drift else _plan_repairs(ctx.conn, drift)
    ctx.repairs = repairs
    counts = object_counts()
    ok_details = {
        "tables": schema_msg.SCHEMA_TABLES_OK.format(tables=counts["tables"], columns=counts["columns"]),
        "indexes": schema_msg.SCHEMA_INDEXES_OK.format(count=counts["indexes"]),
        "constraints": schema_msg.SCHEMA_CONSTRAINTS_OK.format(count=counts["constraints"]),
        "triggers": schema_msg.SCHEMA_TRIGGERS_OK.format(count=counts["triggers"]),
    }
    for step_id, kind, title in SCHEMA_STEPS:
        found = [d for d in drift if d.kind == kind]
        if not found:
            yield Step(step_id, Status.OK, title, ok_details[kind])
            continue
        detail = "\n".join(f"{d.name}: {d.message}" for d in found)
        if pending:
            # Applying the pending files creates what is missing; the migrations item already fails.
            yield problems.step("schema_drift", step_id, Status.WARN, title, detail=detail,
                                fix=schema_msg.FIX_SCHEMA_DRIFT_PENDING)
            continue
        from setup_wizard.database.repair import drift_step  # only for drift found

        status = Status.FAIL if any(d.severity == FAIL for d in found) else Status.WARN
        names = {d.name for d in found}
        covering = [r for r in repairs if names & set(r.drift)]
        if any(r.safe for r in covering):
            ctx.fixable.add(step_id)
        yield drift_step(covering, step_id, status, title, detail)


@register(CHECKS, "search_path", schema_msg.STEP_SEARCH_PATH, needs_connection=True)
def check_search_path(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.live_schema import search_path_step

    assert ctx.conn is not None
    yield search_path_step(ctx.conn, ctx.settings.user)


@register(CHECKS, "backend_tables", backend_needs_msg.STEP_BACKEND_TABLES, needs_connection=True)
def check_backend_tables(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.declared import declared_tables, find_backend, missing_beyond_contract
    from setup_wizard.database.live_schema import contract_schema

    assert ctx.conn is not None
    backend = find_backend(ctx.env.cwd, ctx.settings.env_file)
    if backend is None:
        yield Step(
            "backend_tables",
            Status.SKIP,
            backend_needs_msg.STEP_BACKEND_TABLES,
            backend_needs_msg.BACKEND_TABLES_NO_FOLDER,
        )
        return
    missing = missing_beyond_contract(ctx.conn, backend, contract_schema(ctx.conn))
    if not missing:
        yield Step("backend_tables", Status.OK, backend_needs_msg.STEP_BACKEND_TABLES,
                   backend_needs_msg.BACKEND_TABLES_OK.format(count=len(declared_tables(backend))))
        return
    found = problems.step(
        "backend_tables_missing",
        "backend_tables",
        Status.INFO,
        backend_needs_msg.STEP_BACKEND_TABLES,
        count=len(missing),
        names=", ".join(d.table for d in missing),
    )
    yield replace(found, more=tuple(f"{d.table}: {d.model} ({d.file})" for d in missing))


@register(CHECKS, "dev_user", backend_needs_msg.STEP_DEV_USER, needs_connection=True)
def check_dev_user(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.dev_user import dev_user_step
    from setup_wizard.machine.fix import never

    assert ctx.conn is not None
    found = dev_user_step(ctx.conn, never)  # check only reports; the run creates the user
    step = found.step if found is not None else None
    if step is not None and step.code == "dev_user_missing":
        ctx.fixable.add("dev_user")
    yield step or Step("dev_user", Status.SKIP, backend_needs_msg.STEP_DEV_USER, backend_needs_msg.DEV_USER_NO_TABLE)


@register(CHECKS, "verification", finish_msg.STEP_VERIFY, needs_connection=True)
def check_verification(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    steps = ctx.verified
    if steps is None:
        steps = Report()
        add_verification(ctx.conn, steps)
        ctx.verified = steps  # read once: a run's first pass leaves it for its result screen
    ctx.verification = steps.verification
    if not steps.steps:
        yield Step("verification", Status.SKIP, finish_msg.STEP_VERIFY, finish_msg.VERIFY_NOTHING_YET)
    yield from steps.steps


@register(CHECKS, "checkpoints", backend_needs_msg.STEP_CHECKPOINTS, needs_connection=True)
def check_checkpoints(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database import checkpoints

    assert ctx.conn is not None
    state = ctx.checkpoints = checkpoints.read_state(ctx.conn)
    if state.settable:
        ctx.fixable.add("checkpoints")
    title = backend_needs_msg.STEP_CHECKPOINTS
    installed = state.expected is not None
    if state.absent:
        detail = backend_needs_msg.CHECKPOINTS_ABSENT + (
            "\n" + backend_needs_msg.CHECKPOINTS_CAN_CREATE if installed else ""
        )
        yield Step("checkpoints", Status.INFO, title, detail)
    elif not state.complete:
        yield problems.step(
            "checkpoint_tables_incomplete",
            "checkpoints",
            Status.WARN,
            title,
            detail=backend_needs_msg.CHECKPOINTS_INCOMPLETE.format(missing=", ".join(state.missing)),
            fix=backend_needs_msg.FIX_CHECKPOINTS_INCOMPLETE_LIB
            if installed
            else backend_needs_msg.FIX_CHECKPOINTS_INCOMPLETE,
        )
    elif state.ahead:
        yield problems.step("checkpoint_library_outdated", "checkpoints", Status.WARN, title,
                            version=state.version, expected=state.expected, package=checkpoints.PACKAGE)
    elif state.behind:
        yield Step("checkpoints", Status.INFO, title,
                   backend_needs_msg.CHECKPOINTS_BEHIND.format(version=state.version, expected=state.expected))
    else:
        version = (
            backend_needs_msg.CHECKPOINTS_VERSION.format(version=state.version) if state.version is not None else ""
        )
        yield Step("checkpoints", Status.OK, title, backend_needs_msg.CHECKPOINTS_PRESENT.format(version=version))


def database_pass(ctx: Context) -> list[Step]:
    """Every item above that needs the connection, on a run's own connection: its first pass after the
    login, and its last screen after its fixes (flow/database_phase.py). Same database, same verdict,
    whichever door."""
    return list(run_checks(ctx, [check for check in CHECKS if check.needs_connection]))
