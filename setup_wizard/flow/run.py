"""The steps of a run and of `check`, computed into a Report (rendering is render.py's job).

The three modes differ in one place, `Mode`: `--yes` applies every non-destructive fix, the
interactive run asks first, `check` changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.config.envfile import EnvFile, default_env_path, read_env_file
from setup_wizard.config.settings import DSN, FIELDS, TYPED, Settings, load_settings
from setup_wizard.database.connect import create_database, open_database, server_version
from setup_wizard.database.migrate import MigrationError, Runner, load_migrations, read_plan
from setup_wizard.database.verify import verification_rows
from setup_wizard.environment import Environment
from setup_wizard.errors import UsageError, WizardError
from setup_wizard.machine.system import ServiceState
from setup_wizard.results import Report, Status, Step
from setup_wizard.ui.prompts import Prompter

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.machine.discovery import Discovery, Installation
    from setup_wizard.machine.server import FixOutcome
    from setup_wizard.machine.system import System

Say = Callable[[str], None]

# Which step a connection problem belongs to.
_CONNECT_STEP = {
    "server_not_running": ("server", msg.STEP_SERVER),
    "host_unreachable": ("server", msg.STEP_SERVER),
    "auth_failed": ("login", msg.STEP_LOGIN),
    "password_missing": ("login", msg.STEP_LOGIN),
    "role_missing": ("login", msg.STEP_LOGIN),
    "database_missing": ("database", msg.STEP_DATABASE),
    "permission_denied": ("database", msg.STEP_DATABASE),
}
MAX_PASSWORD_TRIES = 3


@dataclass(frozen=True)
class Options:
    command: str = "run"  # "run" or "check"
    yes: bool = False
    dsn: str | None = None
    env_file: Path | None = None
    json: bool = False
    recreate: bool = False
    lock_timeout: float = 10.0
    verbose: bool = False
    report: Path | None = None  # --report FILE: the shareable Markdown report


@dataclass
class Mode:
    """How fixes are decided: applied (--yes), asked (interactive) or only reported (check)."""

    read_only: bool
    prompter: Prompter | None  # None: no questions (--yes or check)

    def confirm(self, question: str, default: bool = True) -> bool:
        if self.read_only:
            return False
        if self.prompter is None:
            return True
        return self.prompter.confirm(question, default)


def _fail(report: Report, step_id: str, title: str, error: WizardError) -> None:
    report.add(Step(step_id, Status.FAIL, title, error.detail, error.code, error.fix))


def find_env_file(options: Options, env: Environment) -> EnvFile | None:
    """The .env file named by --env-file, else backend/.env or .env; unreadable input raises UsageError."""
    if options.env_file is not None:
        path = options.env_file if options.env_file.is_absolute() else env.cwd / options.env_file
        return read_env_file(path)
    found = default_env_path(env.cwd)
    return read_env_file(found) if found is not None else None


def env_file_step(env_file: EnvFile | None, settings: Settings) -> Step:
    if env_file is not None:
        if env_file.bad_lines:
            lines = ", ".join(str(n) for n in env_file.bad_lines)
            return Step("env_file", Status.WARN, msg.ENV_FILE_TITLE,
                        msg.ENV_FILE_BAD_LINES.format(path=env_file.path, lines=lines),
                        "env_file_invalid", msg.FIX_ENV_FILE_BAD_LINES)
        detail = msg.ENV_FILE_READ.format(path=env_file.path, encoding=env_file.encoding)
        return Step("env_file", Status.OK, msg.ENV_FILE_TITLE, detail)
    if settings.from_outside_env_file():
        by_dsn = any(settings.source(name) == DSN for name in FIELDS)
        return Step("env_file", Status.SKIP, msg.ENV_FILE_TITLE,
                    msg.ENV_FILE_SKIPPED if by_dsn else msg.ENV_FILE_SKIPPED_ENVIRON)
    return Step("env_file", Status.WARN, msg.ENV_FILE_TITLE, msg.ENV_FILE_NONE, "env_file_missing",
                msg.FIX_ENV_FILE_NONE)


def settings_step(settings: Settings) -> Step:
    detail = msg.SETTINGS_DETAIL.format(
        url=settings.redacted_url(), password_source=settings.source_text("password")
    )
    if settings.conflicts:
        detail += "\n" + "\n".join(c.describe() for c in settings.conflicts)
    shown = settings.redacted()
    more = tuple(
        msg.SETTINGS_SOURCE_LINE.format(field=msg.FIELD_NAMES[name], value=shown[name],
                                        source=settings.source_text(name))
        for name in FIELDS
    ) + tuple(
        msg.SETTINGS_SOURCE_LINE.format(field=key, value=item.value, source=item.source.describe())
        for key, item in sorted(settings.extra.items())
    )
    return Step("settings", Status.OK, msg.STEP_SETTINGS, detail, more=more)


def load_env_and_settings(options: Options, env: Environment) -> tuple[EnvFile | None, Settings]:
    env_file = find_env_file(options, env)
    settings = load_settings(
        options.dsn,
        env.environ,
        env_file.values if env_file else None,
        env_file.path if env_file else None,
    )
    return env_file, settings


def resolve_settings(options: Options, env: Environment, report: Report) -> Settings:
    """Read the .env file and merge every source; unreadable input raises UsageError (exit 2)."""
    env_file, settings = load_env_and_settings(options, env)
    report.add(env_file_step(env_file, settings))
    report.add(settings_step(settings))
    return settings


def open_connection(
    settings: Settings, mode: Mode, report: Report, say: Say
) -> tuple[psycopg.Connection[Any] | None, Settings]:
    """Connect, fixing what may be fixed: ask a password again, create a missing database."""
    tries = 0
    created = False
    while True:
        say(msg.CONNECTING.format(host=settings.host, port=settings.port))
        try:
            conn = open_database(settings)
        except WizardError as problem:
            if (
                problem.code == "database_missing"
                and not created
                and mode.confirm(msg.ASK_CREATE_DATABASE.format(dbname=settings.dbname))
            ):
                try:
                    create_database(settings)
                except WizardError as create_problem:
                    step_id, title = _CONNECT_STEP.get(create_problem.code, ("database", msg.STEP_DATABASE))
                    _fail(report, step_id, title, create_problem)
                    return None, settings
                created = True
                continue
            if (
                problem.code in ("auth_failed", "password_missing")
                and mode.prompter is not None
                and not mode.read_only
                and tries < MAX_PASSWORD_TRIES
            ):
                tries += 1
                say(problem.detail)
                password = mode.prompter.password(
                    msg.ASK_PASSWORD.format(user=settings.user, host=settings.host, port=settings.port)
                )
                settings = settings.with_value("password", password, TYPED)
                continue
            step_id, title = _CONNECT_STEP.get(problem.code, ("connection", msg.STEP_SERVER))
            if step_id in ("login", "database"):
                report.add(Step("server", Status.OK, msg.STEP_SERVER,
                                f"{settings.host}:{settings.port}"))
            if step_id == "database":
                report.add(Step("login", Status.OK, msg.STEP_LOGIN,
                                msg.LOGIN_OK.format(user=settings.user)))
            _fail(report, step_id, title, problem)
            return None, settings
        version = server_version(conn)
        report.add(Step("server", Status.OK, msg.STEP_SERVER,
                        msg.SERVER_OK.format(host=settings.host, port=settings.port, version=version)))
        report.add(Step("login", Status.OK, msg.STEP_LOGIN, msg.LOGIN_OK.format(user=settings.user)))
        done = msg.DATABASE_CREATED if created else msg.DATABASE_OK
        report.add(Step("database", Status.OK, msg.STEP_DATABASE, done.format(dbname=settings.dbname)))
        return conn, settings


def apply_migrations(
    conn: psycopg.Connection[Any], settings: Settings, options: Options, mode: Mode, report: Report, say: Say
) -> bool:
    migrations = load_migrations()
    plan = read_plan(conn, migrations)
    pending = [item.migration.name for item in plan if item.state == "pending"]
    if options.recreate:
        if mode.prompter is not None:
            typed = mode.prompter.text(msg.RECREATE_CONFIRM.format(dbname=settings.dbname))
            if typed.strip() != settings.dbname:
                report.add(Step("recreate", Status.FAIL, msg.STEP_RECREATE, msg.RECREATE_DECLINED))
                return False
    elif pending and mode.prompter is not None:
        say(msg.MIGRATIONS_PENDING.format(count=len(pending), names=", ".join(pending)))
        if not mode.confirm(msg.ASK_CONFIRM_APPLY):
            report.add(Step("migrations", Status.SKIP, msg.STEP_MIGRATIONS, msg.APPLY_DECLINED))
            return False
    runner = Runner(conn, migrations, lock_timeout=options.lock_timeout, progress=say)
    started = time.perf_counter()
    try:
        result = runner.apply(recreate=options.recreate)
    except MigrationError as error:
        report.migrations = error.outcomes
        _fail(report, "migrations", msg.STEP_MIGRATIONS, error)
        return False
    except WizardError as error:
        _fail(report, "migrations", msg.STEP_MIGRATIONS, error)
        return False
    seconds = time.perf_counter() - started
    report.migrations = result.outcomes
    skipped = sum(o.action == "skipped" for o in result.outcomes)
    if result.applied:
        detail = msg.MIGRATIONS_APPLIED.format(applied=result.applied, skipped=skipped, seconds=seconds)
    else:
        detail = msg.MIGRATIONS_NOTHING.format(count=len(result.outcomes), seconds=seconds)
    for outcome in result.outcomes:
        if outcome.action == "baseline":
            detail += "\n" + msg.MIGRATIONS_BASELINE.format(name=outcome.name)
    report.add(Step("migrations", Status.OK, msg.STEP_MIGRATIONS, detail))
    if result.recreated is not None:
        report.add(Step(
            "recreate", Status.OK, msg.STEP_RECREATE,
            msg.RECREATE_DONE.format(schema=result.recreated.schema),
            None, msg.RECREATE_RESTORE.format(sql=result.recreated.restore_sql),
        ))
    return True


def add_verification(conn: psycopg.Connection[Any], report: Report) -> None:
    rows = verification_rows(conn)
    report.verification = rows
    if not rows:
        return
    unlinked = next((row for row in rows if not row.healthy), None)
    if unlinked is not None:
        report.add(Step("verification", Status.WARN, msg.STEP_VERIFY,
                        msg.VERIFY_UNLINKED.format(count=f"{unlinked.total_rows:,}"),
                        None, msg.FIX_VERIFY_UNLINKED))
    else:
        report.add(Step("verification", Status.OK, msg.STEP_VERIFY, msg.VERIFY_OK))


# --- issue 3: finding PostgreSQL, its service, and fixing what can be fixed ------------------------
def _system(env: Environment, system: System | None) -> System:
    if system is not None:
        return system
    from collections.abc import MutableMapping

    from setup_wizard.machine.system import RealSystem

    return RealSystem(environ=env.environ if isinstance(env.environ, MutableMapping) else dict(env.environ))


def _person(mode: Mode) -> Callable[[str], bool]:
    """Fixes that need a person (UAC prompt, PATH, a new server folder) are never taken under --yes."""
    from setup_wizard.machine.server import never

    return mode.confirm if mode.prompter is not None and not mode.read_only else never


def connect_diagnosed(
    settings: Settings, mode: Mode, report: Report, say: Say, system: System
) -> tuple[psycopg.Connection[Any] | None, Settings, Discovery]:
    """Find PostgreSQL, then connect; a server that is not running is started (or created) if allowed."""
    from setup_wizard.machine import server as diagnose
    from setup_wizard.machine.discovery import discover

    discovery = discover(system)
    report.add(diagnose.postgres_step(discovery, settings))
    psql = diagnose.psql_step(system, discovery, settings)
    if psql.code == "psql_not_found" and discovery.chosen is not None and diagnose.add_bin_to_path(
            system, discovery.chosen.bindir, _person(mode)):
        psql = Step("psql", Status.OK, msg.STEP_PSQL, msg.PSQL_ADDED.format(bindir=discovery.chosen.bindir))
    report.add(psql)
    port = diagnose.port_step(discovery, settings)
    if port is not None:
        report.add(port)  # said before any password is blamed
    service = diagnose.find_service(system, discovery, settings)
    attempt = Report()
    conn, settings = open_connection(settings, mode, attempt, say)
    failed = next((s.code for s in attempt.steps if s.status is Status.FAIL), None)
    fixed: Step | None = None
    if conn is None and failed == "server_not_running":
        cluster_from = diagnose.cluster_candidate(system, discovery, service, settings)
        if service is not None and service.state in (ServiceState.STOPPED, ServiceState.PAUSED):
            confirm = _person(mode) if service.needs_elevation else mode.confirm
            outcome = diagnose.start_service(system, service, settings, confirm, say)
            fixed = outcome.step
        elif cluster_from is not None:
            outcome = _create_cluster(system, cluster_from, settings, mode, say)
            fixed = outcome.step if outcome.step is not None else diagnose.no_server_step(
                system, cluster_from, settings)
        else:
            outcome = diagnose.FixOutcome(False)
        if outcome.done:
            attempt = Report()
            conn, settings = open_connection(settings, mode, attempt, say)
    if fixed is not None:
        report.add(fixed)
    else:
        service_line = diagnose.service_step(service, settings, connected=conn is not None)
        if service_line is not None:
            report.add(service_line)
    report.steps.extend(attempt.steps)
    if conn is not None:
        from setup_wizard.database.inspect import version_step

        report.add(version_step(conn, discovery))
    return conn, settings, discovery


def _create_cluster(system: System, installation: Installation, settings: Settings, mode: Mode,
                    say: Say) -> FixOutcome:
    from setup_wizard.machine import server as diagnose

    confirm = _person(mode)
    if mode.prompter is None or not confirm(msg.ASK_CREATE_CLUSTER.format(bindir=installation.bindir,
                                                                          port=settings.port)):
        return diagnose.FixOutcome(False)
    folder = Path(mode.prompter.text(msg.ASK_CLUSTER_FOLDER, str(diagnose.default_cluster_folder(system))))
    new_password = not settings.password
    if new_password:
        settings = settings.with_value("password", mode.prompter.password(
            msg.ASK_CLUSTER_PASSWORD.format(user=settings.user)), TYPED)
    outcome = diagnose.create_local_cluster(system, installation, folder, settings, lambda _q: True, say)
    if outcome.done and new_password and outcome.step is not None:
        step = outcome.step
        return diagnose.FixOutcome(True, Step(step.id, Status.WARN, step.title,
                                              step.detail + "\n" + msg.CLUSTER_CREATED_NEW_PASSWORD))
    return outcome


def _privileges_block(conn: psycopg.Connection[Any], settings: Settings, options: Options, report: Report) -> bool:
    """With migrations to apply, the role must be allowed to create tables; True when it may go on."""
    from setup_wizard.database.inspect import privileges_step

    plan = read_plan(conn, load_migrations())
    if not options.recreate and all(item.state != "pending" for item in plan):
        return True
    step = privileges_step(conn, settings)
    if step.status is Status.FAIL:
        report.add(step)
        return False
    return True


def run(options: Options, env: Environment, prompter: Prompter | None, say: Say,
        system: System | None = None) -> Report:
    """Bring the database to the state the backend needs (the wizard and --yes)."""
    if options.recreate and prompter is None and not options.yes:
        raise UsageError("usage_invalid", msg.RECREATE_NEEDS_CONFIRM, msg.FIX_RECREATE_NEEDS_CONFIRM)
    report = Report()
    mode = Mode(read_only=False, prompter=None if options.yes else prompter)
    settings = resolve_settings(options, env, report)
    conn, settings, _found = connect_diagnosed(settings, mode, report, say, _system(env, system))
    if conn is None:
        return report
    with conn:
        if not _privileges_block(conn, settings, options, report):
            return report
        if not apply_migrations(conn, settings, options, mode, report, say):
            return report
        add_verification(conn, report)
        from setup_wizard.database.inspect import dev_user_step

        dev_user = dev_user_step(conn, mode.confirm)
        if dev_user is not None:
            report.add(dev_user)
        ensure_checkpoints(conn, settings, mode, report, say)
    return report


def ensure_checkpoints(conn: psycopg.Connection[Any], settings: Settings, mode: Mode, report: Report,
                       say: Say) -> bool:
    """LangGraph's tables through the library's own setup(), when its extra is installed and asked for.

    Returns True when it created or upgraded them."""
    from setup_wizard.database import checkpoints

    if not checkpoints.library_installed():
        return False  # the backend creates them when it first starts (NEXT_STEPS says so)
    state = checkpoints.read_state(conn)
    if state.complete and not state.behind:
        report.add(Step("checkpoints", Status.OK, msg.STEP_CHECKPOINTS,
                        msg.CHECKPOINTS_OK.format(version=state.version)))
        return False
    question = msg.ASK_CREATE_CHECKPOINTS if state.absent else msg.ASK_UPGRADE_CHECKPOINTS
    if not mode.confirm(question):
        report.add(Step("checkpoints", Status.SKIP, msg.STEP_CHECKPOINTS, msg.CHECKPOINTS_DECLINED))
        return False
    say(msg.CHECKPOINTS_CREATING)
    try:
        after = checkpoints.create_tables(conn, settings, say)
    except WizardError as error:
        _fail(report, "checkpoints", msg.STEP_CHECKPOINTS, error)
        return False
    except Exception as error:  # the library's own failure: shown, the rest of the run stands
        from setup_wizard.database.connect import error_text
        from setup_wizard.scrub import Scrubber

        text = Scrubber.collect([settings.password])(f"{type(error).__name__}: {error_text(error)}")
        report.add(Step("checkpoints", Status.FAIL, msg.STEP_CHECKPOINTS, msg.CHECKPOINTS_FAILED.format(error=text),
                        "checkpoint_setup_failed", msg.FIX_CHECKPOINTS_FAILED))
        return False
    report.add(Step("checkpoints", Status.OK, msg.STEP_CHECKPOINTS,
                    msg.CHECKPOINTS_CREATED.format(version=after.version)))
    return True


def check(options: Options, env: Environment, say: Say, system: System | None = None) -> Report:
    """Read-only diagnosis: changes nothing, database or files (the registry of checks in checks.py)."""
    from setup_wizard.flow import checks

    return checks.run_all(options, env, say, system=_system(env, system))
