"""`check`: the onboarding checklist, as a registry of small read-only checks (Django system checks style).

Each check is a function of the shared `Context` that yields `Step`s with a stable id and code, a Korean
message and a fix. `run_checks` runs them in registration order; a check that needs the database is
skipped when there is no connection, and a check that crashes becomes a failed item carrying its error
while the others still run. The worst status decides the exit code (cli). Nothing here writes: the
connection is read-only, subprocesses only read (git), and the one file ever written is the --report
the person asked for.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard import problems
from setup_wizard.config.envfile import EnvFile
from setup_wizard.config.settings import FIELDS, Settings
from setup_wizard.database.limits import known_failure
from setup_wizard.database.migrate import PlanItem, changed_files_problem, load_migrations, read_plan
from setup_wizard.environment import Environment
from setup_wizard.errors import UsageError, WizardError
from setup_wizard.flow.connect import Connector
from setup_wizard.flow.decide import ReadOnly
from setup_wizard.flow.finish import add_verification
from setup_wizard.flow.options import Options
from setup_wizard.flow.run import Flow
from setup_wizard.flow.settings_phase import env_file_step, load_env_and_settings, settings_step
from setup_wizard.flow.state import real_system
from setup_wizard.flow.view import ProgressView, Say
from setup_wizard.machine.system import System
from setup_wizard.results import Report, Status, Step, VerificationRow
from setup_wizard.scrub import Scrubber

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.machine.discovery import Discovery

MIN_PYTHON = (3, 10)
REQUIRED_PACKAGES = ("rich", "questionary", "psycopg", "python-dotenv")
SUBPROCESS_TIMEOUT = 10


@dataclass
class Context:
    """What every check may read; checks that learn something for later ones leave it here."""

    options: Options
    env: Environment
    env_file: EnvFile | None
    settings: Settings
    say: Say
    scrub: Scrubber
    system: System  # the OS seam: Windows branches are tested on Linux with recorded machines
    discovery: Discovery | None = None
    conn: psycopg.Connection[Any] | None = None
    plan: list[PlanItem] | None = None
    verification: list[VerificationRow] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


CheckFunc = Callable[[Context], Iterable[Step]]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    func: CheckFunc
    needs_connection: bool = False


REGISTRY: list[Check] = []


def register(check_id: str, title: str, needs_connection: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    def add(func: CheckFunc) -> CheckFunc:
        REGISTRY.append(Check(check_id, title, func, needs_connection))
        return func

    return add


def describe_crash(error: BaseException, scrub: Scrubber) -> str:
    from setup_wizard.database.connect import error_text

    return scrub(f"{type(error).__name__}: {error_text(error)}")


def run_checks(ctx: Context, checks: Iterable[Check]) -> Iterator[Step]:
    """Every check in order; a crash is one failed item, never the end of the checklist."""
    for check in checks:
        if check.needs_connection and ctx.conn is None:
            yield Step(check.id, Status.SKIP, check.title, msg.CHECK_SKIPPED_NO_CONNECTION)
            continue
        try:
            yield from check.func(ctx)
        except WizardError as error:  # a known failure (a held lock, a limit): its own code and fix
            yield Step(check.id, Status.FAIL, check.title, ctx.scrub(error.detail), error.code, error.fix)
        except Exception as error:
            known = known_failure(error)
            if known is not None:
                yield Step(check.id, Status.FAIL, check.title, ctx.scrub(known.detail), known.code, known.fix)
                continue
            yield Step(check.id, Status.FAIL, check.title,
                       msg.CHECK_CRASHED.format(error=describe_crash(error, ctx.scrub)),
                       "check_crashed", msg.FIX_CHECK_CRASHED)


# --- this computer -----------------------------------------------------------------------------------

@register("python", msg.STEP_PYTHON)
def check_python(ctx: Context) -> Iterator[Step]:
    version = ".".join(str(n) for n in sys.version_info[:3])
    ctx.facts[msg.FACT_OS] = f"{platform.system()} {platform.release()} ({platform.platform()})"
    ctx.facts[msg.FACT_PYTHON] = f"{version} ({sys.executable})"
    more = (msg.PATH_LINE.format(path=sys.executable),)
    if sys.version_info[:2] < MIN_PYTHON:
        yield Step("python", Status.FAIL, msg.STEP_PYTHON, msg.PYTHON_TOO_OLD.format(version=version),
                   "python_unsupported", msg.FIX_PYTHON_TOO_OLD, more)
    else:
        yield Step("python", Status.OK, msg.STEP_PYTHON, f"Python {version}", more=more)


@register("packages", msg.STEP_PACKAGES)
def check_packages(ctx: Context) -> Iterator[Step]:
    from importlib.metadata import PackageNotFoundError, version

    from setup_wizard.database import checkpoints

    found: list[str] = []
    missing: list[str] = []
    for name in REQUIRED_PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            missing.append(name)
    more: list[str] = []
    if "psycopg" not in missing:
        import psycopg

        libpq = psycopg.pq.version()
        more.append(msg.PACKAGES_LIBPQ.format(impl=psycopg.pq.__impl__,
                                              libpq=f"{libpq // 10000}.{libpq % 10000 // 100 or libpq % 100}"))
    optional = checkpoints.library_version()
    more.append(msg.PACKAGES_OPTIONAL.format(
        name=checkpoints.PACKAGE, state=optional if optional else msg.PACKAGES_OPTIONAL_ABSENT))
    ctx.facts[msg.FACT_PACKAGES] = ", ".join([*found, f"{checkpoints.PACKAGE} {optional or '-'}"])
    if missing:
        yield Step("packages", Status.FAIL, msg.STEP_PACKAGES, msg.PACKAGES_MISSING.format(names=", ".join(missing)),
                   "package_missing", msg.FIX_PACKAGES_MISSING, tuple(more))
    else:
        yield Step("packages", Status.OK, msg.STEP_PACKAGES, ", ".join(found), more=tuple(more))


# Finding PostgreSQL, psql, the port and the service: issue 3's diagnosis, asked never to fix anything.

@register("postgres", msg.STEP_POSTGRES)
def check_postgres(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.install_checks import describe, postgres_step

    ctx.discovery = discover(ctx.system)
    ctx.facts[msg.FACT_INSTALLATIONS] = "; ".join(describe(i) for i in ctx.discovery.installations) or msg.NOT_FOUND
    yield postgres_step(ctx.discovery, ctx.settings)


@register("psql", msg.STEP_PSQL)
def check_psql(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.install_checks import psql_step

    discovery = ctx.discovery or discover(ctx.system)
    path = discovery.psql_on_path
    ctx.facts[msg.FACT_PSQL] = str(path) if path is not None else msg.NOT_FOUND
    yield psql_step(ctx.system, discovery, ctx.settings)


@register("port", msg.STEP_PORT)
def check_port(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.install_checks import port_step

    if ctx.discovery is not None:
        step = port_step(ctx.discovery, ctx.settings)
        if step is not None:
            yield step


# --- the .env file ----------------------------------------------------------------------------------

@register("env_file", msg.ENV_FILE_TITLE)
def check_env_file(ctx: Context) -> Iterator[Step]:
    step = env_file_step(ctx.env_file, ctx.settings)
    if ctx.env_file is not None:
        step = Step(step.id, step.status, step.title, step.detail, step.code, step.fix,
                    (msg.PATH_LINE.format(path=ctx.env_file.path),))
    yield step


def _git(ctx: Context, git: Path, folder: Path, *args: str) -> int:
    return ctx.system.run([str(git), "-C", str(folder), *args], timeout=SUBPROCESS_TIMEOUT).returncode


@register("env_gitignore", msg.STEP_ENV_GITIGNORE)
def check_env_gitignore(ctx: Context) -> Iterator[Step]:
    title = msg.STEP_ENV_GITIGNORE
    if ctx.env_file is None:
        yield Step("env_gitignore", Status.SKIP, title, msg.ENV_CHECK_SKIPPED)
        return
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


@register("env_permissions", msg.STEP_ENV_PERMISSIONS)
def check_env_permissions(ctx: Context) -> Iterator[Step]:
    title = msg.STEP_ENV_PERMISSIONS
    if ctx.env_file is None:
        yield Step("env_permissions", Status.SKIP, title, msg.ENV_CHECK_SKIPPED)
        return
    if ctx.system.platform == "windows":
        # NTFS ACLs: a file in the user's profile is not readable by other users by default.
        yield Step("env_permissions", Status.SKIP, title, msg.ENV_PERMISSIONS_WINDOWS)
        return
    mode = ctx.env_file.path.stat().st_mode & 0o777
    if mode & 0o044:
        yield Step("env_permissions", Status.WARN, title, msg.ENV_READABLE_BY_OTHERS.format(mode=f"{mode:o}"),
                   "env_file_readable", msg.FIX_ENV_READABLE.format(path=ctx.env_file.path))
    else:
        yield Step("env_permissions", Status.OK, title, msg.ENV_PRIVATE.format(mode=f"{mode:o}"))


@register("backend_settings", msg.STEP_BACKEND_URL)
def check_backend_settings(ctx: Context) -> Iterator[Step]:
    """The settings as the backend itself reads them (config/backend.py): the same items in every door."""
    from setup_wizard.config.backend import inspect_backend
    from setup_wizard.config.steps import settings_steps

    yield from settings_steps(inspect_backend(ctx.env.cwd, ctx.env.environ, ctx.options.dsn), ctx.settings)


@register("settings", msg.STEP_SETTINGS)
def check_settings(ctx: Context) -> Iterator[Step]:
    shown = ctx.settings.redacted()
    for name in FIELDS:
        ctx.facts[msg.FACT_SETTING.format(field=msg.FIELD_NAMES[name])] = msg.FACT_SETTING_VALUE.format(
            value=shown[name], source=ctx.settings.source_text(name))
    yield settings_step(ctx.settings)


# --- the server and the database -------------------------------------------------------------------

@register("connection", msg.STEP_SERVER)
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


@register("server_version", msg.STEP_SERVER_VERSION, needs_connection=True)
def check_server_version(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.inspect import version_step

    assert ctx.conn is not None
    row = ctx.conn.execute("SELECT split_part(current_setting('server_version'), ' ', 1)").fetchone()
    ctx.facts[msg.FACT_SERVER] = f"PostgreSQL {row[0] if row else '?'}"
    yield version_step(ctx.conn, ctx.discovery)


@register("privileges", msg.STEP_PRIVILEGES, needs_connection=True)
def check_privileges(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.inspect import privileges_step

    assert ctx.conn is not None
    yield privileges_step(ctx.conn, ctx.settings)


@register("encoding", msg.STEP_ENCODING, needs_connection=True)
def check_encoding(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    row = ctx.conn.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    encoding, collate = (str(row[0]), str(row[1])) if row else ("?", "?")
    detail = msg.ENCODING_DETAIL.format(encoding=encoding, collate=collate)
    if encoding == "UTF8":
        yield Step("encoding", Status.OK, msg.STEP_ENCODING, detail)
    else:
        yield Step("encoding", Status.FAIL, msg.STEP_ENCODING, detail + "\n" + msg.ENCODING_NOT_UTF8,
                   "database_encoding", msg.FIX_ENCODING.format(dbname=ctx.settings.dbname))


@register("migrations", msg.STEP_MIGRATIONS, needs_connection=True)
def check_pending(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    migrations = load_migrations()
    ctx.plan = read_plan(ctx.conn, migrations)
    pending = [item.migration for item in ctx.plan if item.state == "pending"]
    if not pending:
        yield Step("migrations", Status.OK, msg.STEP_MIGRATIONS, msg.MIGRATIONS_UP_TO_DATE.format(count=len(ctx.plan)))
        return
    lines = [msg.MIGRATIONS_PENDING_HEAD.format(count=len(pending))]
    for migration in pending:
        baseline = False
        if migration.baseline_when:
            row = ctx.conn.execute(migration.baseline_when.encode("utf-8")).fetchone()
            baseline = bool(row and row[0])
        lines.append(msg.MIGRATION_PENDING_LINE.format(
            name=migration.name, note=msg.MIGRATION_PENDING_BASELINE if baseline else ""))
    yield problems.step("migrations_pending", "migrations", step_title=msg.STEP_MIGRATIONS, detail="\n".join(lines))


@register("checksums", msg.STEP_CHECKSUMS, needs_connection=True)
def check_checksums(ctx: Context) -> Iterator[Step]:
    if ctx.plan is None:
        yield Step("checksums", Status.SKIP, msg.STEP_CHECKSUMS, msg.CHECKSUMS_NO_PLAN)
        return
    applied = [item for item in ctx.plan if item.state != "pending"]
    changed = [item for item in ctx.plan if item.state == "changed"]
    if not applied:
        yield Step("checksums", Status.SKIP, msg.STEP_CHECKSUMS, msg.CHECKSUMS_NOTHING_APPLIED)
    elif changed:
        detail, fix = changed_files_problem(changed)
        yield Step("checksums", Status.FAIL, msg.STEP_CHECKSUMS, detail, "checksum_mismatch", fix)
    else:
        yield Step("checksums", Status.OK, msg.STEP_CHECKSUMS, msg.CHECKSUMS_OK.format(count=len(applied)))


SCHEMA_STEPS = (
    ("schema_tables", "tables", msg.STEP_SCHEMA_TABLES),
    ("schema_indexes", "indexes", msg.STEP_SCHEMA_INDEXES),
    ("schema_constraints", "constraints", msg.STEP_SCHEMA_CONSTRAINTS),
    ("schema_triggers", "triggers", msg.STEP_SCHEMA_TRIGGERS),
)


@register("schema", msg.STEP_SCHEMA_TABLES, needs_connection=True)
def check_schema(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.contract import FAIL, find_drift, object_counts, present_tables
    from setup_wizard.database.repair import plan_repairs

    assert ctx.conn is not None
    if not present_tables(ctx.conn):
        for step_id, _kind, title in SCHEMA_STEPS:
            yield Step(step_id, Status.SKIP, title, msg.SCHEMA_NOTHING_YET)
        return
    pending = ctx.plan is None or any(item.state == "pending" for item in ctx.plan)
    drift = find_drift(ctx.conn)
    # The live schema is the truth: what --yes would repair, and the SQL for what it will not.
    repairs = [] if pending or not drift else plan_repairs(ctx.conn, drift)
    counts = object_counts()
    ok_details = {
        "tables": msg.SCHEMA_TABLES_OK.format(tables=counts["tables"], columns=counts["columns"]),
        "indexes": msg.SCHEMA_INDEXES_OK.format(count=counts["indexes"]),
        "constraints": msg.SCHEMA_CONSTRAINTS_OK.format(count=counts["constraints"]),
        "triggers": msg.SCHEMA_TRIGGERS_OK.format(count=counts["triggers"]),
    }
    for step_id, kind, title in SCHEMA_STEPS:
        found = [d for d in drift if d.kind == kind]
        if not found:
            yield Step(step_id, Status.OK, title, ok_details[kind])
            continue
        detail = "\n".join(f"{d.name}: {d.message}" for d in found)
        if pending:
            # Applying the pending files creates what is missing; the migrations item already fails.
            yield Step(step_id, Status.WARN, title, detail, "schema_drift", msg.FIX_SCHEMA_DRIFT_PENDING)
            continue
        status = Status.FAIL if any(d.severity == FAIL for d in found) else Status.WARN
        names = {d.name for d in found}
        covering = [r for r in repairs if names & set(r.drift)]
        manual = [r for r in covering if not r.safe]
        parts = [msg.FIX_SCHEMA_REPAIRABLE] if any(r.safe for r in covering) else []
        if manual:
            parts.append("\n".join([msg.FIX_SCHEMA_MANUAL_HEAD, *(r.fix for r in manual)]))
        code = "schema_drift_manual" if manual and len(manual) == len(covering) else "schema_drift"
        yield Step(step_id, status, title, detail, code, "\n".join(parts) or None)


@register("search_path", msg.STEP_SEARCH_PATH, needs_connection=True)
def check_search_path(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.contract import search_path_step

    assert ctx.conn is not None
    yield search_path_step(ctx.conn, ctx.settings.user)


@register("backend_tables", msg.STEP_BACKEND_TABLES, needs_connection=True)
def check_backend_tables(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.contract import contract_schema
    from setup_wizard.database.declared import declared_tables, find_backend, missing_beyond_contract

    assert ctx.conn is not None
    backend = find_backend(ctx.env.cwd, ctx.env_file.path if ctx.env_file else None)
    if backend is None:
        yield Step("backend_tables", Status.SKIP, msg.STEP_BACKEND_TABLES, msg.BACKEND_TABLES_NO_FOLDER)
        return
    missing = missing_beyond_contract(ctx.conn, backend, contract_schema(ctx.conn))
    if not missing:
        yield Step("backend_tables", Status.OK, msg.STEP_BACKEND_TABLES,
                   msg.BACKEND_TABLES_OK.format(count=len(declared_tables(backend))))
        return
    yield Step("backend_tables", Status.INFO, msg.STEP_BACKEND_TABLES, msg.BACKEND_TABLES_MISSING.format(
        count=len(missing), names=", ".join(d.table for d in missing)), "backend_tables_missing",
        msg.FIX_BACKEND_TABLES, tuple(f"{d.table}: {d.model} ({d.file})" for d in missing))


@register("dev_user", msg.STEP_DEV_USER, needs_connection=True)
def check_dev_user(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database.inspect import dev_user_step
    from setup_wizard.machine.fix import never

    assert ctx.conn is not None
    step = dev_user_step(ctx.conn, never)  # check only reports; the run creates the user
    yield step or Step("dev_user", Status.SKIP, msg.STEP_DEV_USER, msg.DEV_USER_NO_TABLE)


@register("verification", msg.STEP_VERIFY, needs_connection=True)
def check_verification(ctx: Context) -> Iterator[Step]:
    assert ctx.conn is not None
    steps = Report()
    add_verification(ctx.conn, steps)
    ctx.verification = steps.verification
    if not steps.steps:
        yield Step("verification", Status.SKIP, msg.STEP_VERIFY, msg.VERIFY_NOTHING_YET)
    yield from steps.steps


@register("checkpoints", msg.STEP_CHECKPOINTS, needs_connection=True)
def check_checkpoints(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database import checkpoints

    assert ctx.conn is not None
    state = checkpoints.read_state(ctx.conn)
    title = msg.STEP_CHECKPOINTS
    installed = state.expected is not None
    if state.absent:
        detail = msg.CHECKPOINTS_ABSENT + ("\n" + msg.CHECKPOINTS_CAN_CREATE if installed else "")
        yield Step("checkpoints", Status.INFO, title, detail)
    elif not state.complete:
        yield Step("checkpoints", Status.WARN, title,
                   msg.CHECKPOINTS_INCOMPLETE.format(missing=", ".join(state.missing)),
                   "checkpoint_tables_incomplete",
                   msg.FIX_CHECKPOINTS_INCOMPLETE_LIB if installed else msg.FIX_CHECKPOINTS_INCOMPLETE)
    elif state.ahead:
        yield Step("checkpoints", Status.WARN, title,
                   msg.CHECKPOINTS_AHEAD.format(version=state.version, expected=state.expected),
                   "checkpoint_library_outdated", msg.FIX_CHECKPOINTS_AHEAD.format(package=checkpoints.PACKAGE))
    elif state.behind:
        yield Step("checkpoints", Status.INFO, title,
                   msg.CHECKPOINTS_BEHIND.format(version=state.version, expected=state.expected))
    else:
        version = msg.CHECKPOINTS_VERSION.format(version=state.version) if state.version is not None else ""
        yield Step("checkpoints", Status.OK, title, msg.CHECKPOINTS_PRESENT.format(version=version))


# --- the command ------------------------------------------------------------------------------------

def report_path(options: Options, env: Environment, env_file: EnvFile | None) -> Path | None:
    """Where --report goes; refused up front (exit 2) when it cannot or must not be written."""
    if options.report is None:
        return None
    path = options.report if options.report.is_absolute() else env.cwd / options.report
    if path.is_dir() or not path.parent.is_dir():
        raise UsageError("usage_invalid", msg.REPORT_PATH_INVALID.format(path=path), msg.FIX_REPORT_PATH)
    protected = [env_file.path] if env_file is not None else []
    if path.exists() and any(path.resolve() == p.resolve() for p in protected):
        raise UsageError("usage_invalid", msg.REPORT_WOULD_OVERWRITE.format(path=path), msg.FIX_REPORT_PATH)
    return path


def run_all(options: Options, env: Environment, say: Say, checks: Iterable[Check] | None = None,
            system: System | None = None) -> Report:
    """Run every registered check and, when asked, write the shareable report."""
    from setup_wizard.ui.reportfile import build_markdown

    env_file, settings = load_env_and_settings(options, env)
    target = report_path(options, env, env_file)
    scrub = Scrubber.collect([settings.password], env_file.values if env_file else None)
    ctx = Context(options, env, env_file, settings, say, scrub, system or real_system(env))
    report = Report()
    try:
        for step in run_checks(ctx, REGISTRY if checks is None else checks):
            report.add(step)
    finally:
        if ctx.conn is not None:
            ctx.conn.close()
    report.verification = ctx.verification
    report.facts = ctx.facts
    if target is not None:
        try:
            write_text(target, build_markdown(report, scrub))
        except OSError as error:
            report.add(Step("report", Status.FAIL, msg.STEP_REPORT,
                            msg.REPORT_WRITE_FAILED.format(path=target, error=error.strerror or error),
                            "report_write_failed", msg.FIX_REPORT_PATH))
        else:
            report.footer.append(msg.REPORT_WRITTEN.format(path=target))
    return report


def write_text(path: Path, text: str) -> None:
    # UTF-8 without a BOM and with \n: what chat tools and editors paste cleanly.
    path.write_bytes(text.encode("utf-8"))

