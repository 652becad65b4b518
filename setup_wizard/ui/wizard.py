"""The interactive walk: one screen per step, questions only where something is missing or wrong.

It drives the same building blocks as `--yes` and `check` (app.resolve_settings, db, migrate,
verify) and fills the same Report, so `--json` after a wizard run reads exactly as after `--yes`.
Drawing is render.Screen's job and asking is the Prompter's; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.config.envfile import read_env_file
from setup_wizard.config.envwrite import planned_changes, save_env, target_path
from setup_wizard.config.settings import BACKEND_DEFAULTS, DEFAULT, TYPED, Settings
from setup_wizard.database.connect import create_database, open_database, server_version
from setup_wizard.database.migrate import changed_files_problem, load_migrations, read_plan
from setup_wizard.database.preview import describe_pending, summarise_notices
from setup_wizard.environment import Environment
from setup_wizard.errors import WizardError
from setup_wizard.flow.run import (
    MAX_PASSWORD_TRIES,
    Mode,
    Options,
    add_verification,
    apply_migrations,
    ensure_checkpoints,
    resolve_settings,
)
from setup_wizard.results import MigrationOutcome, Report, Status, Step
from setup_wizard.ui.prompts import Prompter
from setup_wizard.ui.render import Screen

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.machine.discovery import Discovery, Installation
    from setup_wizard.machine.server import Service
    from setup_wizard.machine.system import System

CHECKPOINT_TABLES = ("checkpoint_migrations", "checkpoints", "checkpoint_blobs", "checkpoint_writes")
REQUIRED_TRIGGERS = (
    ("chat_sessions", "trigger_update_chat_session_timestamp"),
    ("conversation_memories", "trigger_update_session_message_count"),
)


# --- the final checklist (query-based; read-only) --------------------------------------------------------

def final_checklist(conn: psycopg.Connection[Any]) -> list[Step]:
    """What the backend needs, object by object: present, missing, or made later by the backend."""
    row = conn.execute(
        """SELECT to_regclass('sessions') IS NOT NULL,
                  to_regclass('chat_sessions') IS NOT NULL,
                  EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('conversation_memories')
                            AND attname = 'session_id' AND NOT attisdropped),
                  to_regclass('users') IS NOT NULL"""
    ).fetchone()
    sessions, chat_sessions, session_id, users = (bool(v) for v in row) if row else (False,) * 4
    missing_triggers = [
        name for table, name in REQUIRED_TRIGGERS
        if not (conn.execute("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
                             "AND tgname = %s AND NOT tgisinternal)", [table, name]).fetchone() or (False,))[0]
    ]
    dev_user = users and bool((conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE id = 1)").fetchone()
                               or (False,))[0])
    missing_checkpoints = [
        name for name in CHECKPOINT_TABLES
        if not (conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone() or (False,))[0]
    ]

    def present(ok: bool, step_id: str, title: str, missing: str = msg.CHECK_MISSING) -> Step:
        return Step(step_id, Status.OK if ok else Status.FAIL, title, msg.CHECK_PRESENT if ok else missing)

    items = [
        present(sessions, "sessions", msg.CHECK_SESSIONS),
        present(chat_sessions, "chat_sessions", msg.CHECK_CHAT_SESSIONS),
        present(session_id, "session_id", msg.CHECK_SESSION_ID),
        present(not missing_triggers, "triggers", msg.CHECK_TRIGGERS,
                msg.CHECK_TRIGGERS_MISSING.format(names=", ".join(missing_triggers))),
        Step("dev_user", Status.OK if dev_user else Status.WARN, msg.CHECK_DEV_USER,
             msg.CHECK_PRESENT if dev_user else msg.CHECK_DEV_USER_MISSING,
             None, None if dev_user else msg.FIX_DEV_USER),
        Step("checkpoints", Status.SKIP if missing_checkpoints else Status.OK, msg.CHECK_CHECKPOINTS,
             msg.CHECK_CHECKPOINTS_LATER if missing_checkpoints else msg.CHECK_PRESENT),
    ]
    return items


# --- the walk --------------------------------------------------------------------------------------------

@dataclass
class Walk:
    options: Options
    env: Environment
    prompter: Prompter
    screen: Screen
    report: Report = field(default_factory=Report)
    typed: set[str] = field(default_factory=set)
    env_path: Path | None = None
    env_values: dict[str, str] | None = None
    save_offered: bool = False
    changed: bool = False
    system: System | None = None  # the OS seam for finding PostgreSQL; None: the real machine
    discovery: Discovery | None = None

    # 2. PostgreSQL on this machine ------------------------------------------------------------------------
    def installations_screen(self) -> Discovery | None:
        from setup_wizard.machine.discovery import MINIMUM_SERVER_VERSION, discover

        try:
            discovery = discover(self.system)
        except Exception as error:  # the search only informs; it must never stop the walk
            self.screen.heading(msg.SCREEN_INSTALL)
            self.screen.line(msg.INSTALL_SEARCH_FAILED.format(error=type(error).__name__), "yellow")
            return None
        self.discovery = discovery
        self.screen.installations(discovery)
        chosen = discovery.chosen
        if chosen is not None and chosen.version.isdigit() and int(chosen.version) < MINIMUM_SERVER_VERSION:
            self.screen.line(msg.INSTALL_OLD.format(version=chosen.version), "yellow")
        return discovery

    def port_hint(self, discovery: Discovery | None, settings: Settings) -> None:
        """A wrong password is often the right one at the wrong server: say when the ports differ."""
        chosen = discovery.chosen if discovery else None
        if (chosen is not None and chosen.port is not None and chosen.port != settings.port
                and settings.host in ("localhost", "127.0.0.1", "::1")):
            self.screen.line(msg.INSTALL_PORT_DIFFERS.format(version=chosen.version, port=chosen.port,
                                                             settings_port=settings.port), "yellow")

    # 3. Settings -------------------------------------------------------------------------------------------
    def settings_screen(self) -> Settings:
        settings = resolve_settings(self.options, self.env, self.report)
        self.env_path = settings.env_file
        if settings.env_file is not None:
            self.env_values = read_env_file(settings.env_file).values
        self.screen.settings(settings, settings.env_file, settings.env_file is not None)
        for step in self.report.steps:
            if step.id == "env_file" and step.status is Status.WARN and step.fix:
                self.screen.step(step)

        nothing_configured = self.options.dsn is None and settings.all_defaults()
        if settings.password is None or nothing_configured:
            self.screen.line(msg.SETTINGS_ASK_INTRO, "dim")
        if nothing_configured:
            for name in ("host", "port", "user", "dbname"):
                settings = self.ask_field(settings, name)
        if settings.password is None:
            settings = self.ask_password(settings)
        elif nothing_configured and settings.source("password") == DEFAULT:
            settings = self.ask_password(settings, keep_default=True)
        return settings

    def ask_field(self, settings: Settings, name: str) -> Settings:
        current = settings.get(name) or BACKEND_DEFAULTS[name]
        while True:
            value = self.prompter.text(msg.ASK_FIELD.format(field=msg.FIELD_NAMES[name]), current).strip()
            if not value:
                self.screen.line(msg.VALUE_EMPTY, "yellow")
            elif name == "port" and not (value.isdigit() and 0 < int(value) < 65536):
                self.screen.line(msg.PORT_INVALID, "yellow")
            else:
                break
        if value == settings.get(name):
            return settings
        self.typed.add(name)
        return settings.with_value(name, value, TYPED)

    def ask_password(self, settings: Settings, keep_default: bool = False) -> Settings:
        question = msg.ASK_PASSWORD_HIDDEN.format(user=settings.user, host=settings.host, port=settings.port)
        if keep_default:
            question += f" ({msg.ASK_PASSWORD_DEFAULT_HINT})"
        while True:
            password = self.prompter.password(question)
            if password:
                break
            if keep_default:
                return settings
            self.screen.line(msg.PASSWORD_EMPTY, "yellow")
        self.typed.add("password")
        return settings.with_value("password", password, TYPED)

    # 4. Save -----------------------------------------------------------------------------------------------
    def offer_save(self, settings: Settings) -> None:
        """Once a login has proved the typed values, offer to write them where the backend reads them."""
        if self.save_offered or not self.typed or self.options.dsn is not None:
            return
        self.save_offered = True
        path = target_path(self.env.cwd, self.env_path)
        changes = planned_changes(settings, self.typed, self.env_values)
        if not changes:
            return
        self.screen.save_preview(path, [(c.key, c.shown) for c in changes], exists=path.exists())
        if not self.prompter.confirm(msg.ASK_SAVE, True):
            self.screen.status_line(Status.SKIP, msg.SAVE_SKIPPED)
            self.report.add(Step("env_save", Status.SKIP, msg.STEP_ENV_SAVE, msg.SAVE_SKIPPED))
            return
        try:
            result = save_env(path, changes)
        except WizardError as error:
            step = self.report.add(Step("env_save", Status.WARN, msg.STEP_ENV_SAVE, error.detail, error.code,
                                        error.fix))
            self.screen.step(step)
            return
        self.changed = True
        detail = msg.SAVE_DONE.format(path=result.path)
        if result.backup is not None:
            detail += "\n" + msg.SAVE_BACKUP.format(backup=result.backup)
        self.report.add(Step("env_save", Status.OK, msg.STEP_ENV_SAVE, detail))
        for text in detail.splitlines():
            self.screen.status_line(Status.OK, text)

    # 5-6. Server, login, database ----------------------------------------------------------------------------
    def _fail(self, step_id: str, title: str, error: WizardError) -> None:
        self.report.add(Step(step_id, Status.FAIL, title, error.detail, error.code, error.fix))

    def _server_and_login_ok(self, settings: Settings, version: str | None) -> None:
        server = (msg.SERVER_OK.format(host=settings.host, port=settings.port, version=version) if version
                  else msg.SERVER_ANSWERS.format(host=settings.host, port=settings.port))
        login = msg.LOGIN_OK.format(user=settings.user)
        self.report.add(Step("server", Status.OK, msg.STEP_SERVER, server))
        self.report.add(Step("login", Status.OK, msg.STEP_LOGIN, login))
        self.screen.status_line(Status.OK, server)
        self.screen.status_line(Status.OK, login)

    def _system(self) -> System:
        from setup_wizard.machine.system import RealSystem

        return self.system or RealSystem()

    def _server_fix(self, settings: Settings) -> tuple[Service | None, Installation | None]:
        """What could bring a local server up: a stopped service, or binaries with no server at all."""
        from setup_wizard.machine import server as diagnose
        from setup_wizard.machine.system import ServiceState

        if self.discovery is None:
            return None, None
        system = self._system()
        service = diagnose.find_service(system, self.discovery, settings)
        if service is not None and service.state in (ServiceState.STOPPED, ServiceState.PAUSED):
            return service, None
        return None, diagnose.cluster_candidate(system, self.discovery, service, settings)

    def server_fix_label(self, settings: Settings) -> str | None:
        service, binaries = self._server_fix(settings)
        if service is not None:
            return msg.CHOICE_START_SERVICE.format(name=service.name)
        if binaries is not None:
            return msg.CHOICE_CREATE_CLUSTER
        return None

    def fix_server(self, settings: Settings) -> Settings:
        """Start the service (UAC on Windows) or create a local cluster; issue 3's fixers, asked first."""
        from setup_wizard.flow.run import _create_cluster
        from setup_wizard.machine import server as diagnose

        service, binaries = self._server_fix(settings)
        mode = Mode(read_only=False, prompter=self.prompter)
        say = self.screen.line
        if service is not None:
            outcome = diagnose.start_service(self._system(), service, settings, self.prompter.confirm, say)
        elif binaries is not None:
            outcome = _create_cluster(self._system(), binaries, settings, mode, say)
        else:
            return settings
        if outcome.step is not None:
            self.screen.step(outcome.step)
            self.report.add(outcome.step)
        if outcome.done:
            self.changed = True
        return settings

    def connect(self, settings: Settings) -> tuple[psycopg.Connection[Any] | None, Settings]:
        self.screen.heading(msg.SCREEN_SERVER)
        tries = 0
        created = False
        while True:
            problem: WizardError | None = None
            try:
                with self.screen.progress(msg.CHECKING_SERVER.format(host=settings.host, port=settings.port)):
                    conn = open_database(settings)
            except WizardError as error:
                problem = error
            if problem is None:
                break
            code = problem.code
            title = msg.CATALOGUE[code].title if code in msg.CATALOGUE else msg.STEP_SERVER
            if code in ("server_not_running", "host_unreachable"):
                self.screen.problem(title, problem.detail, problem.fix, code)
                fix_label = self.server_fix_label(settings) if code == "server_not_running" else None
                choices = [("fix", fix_label)] if fix_label else []
                choice = self.prompter.select(msg.ASK_NEXT, [
                    *choices, ("retry", msg.CHOICE_RETRY), ("address", msg.CHOICE_CHANGE_ADDRESS),
                    ("quit", msg.CHOICE_QUIT)])
                if choice == "fix":
                    settings = self.fix_server(settings)
                    continue
                if choice == "address":
                    settings = self.ask_field(self.ask_field(settings, "host"), "port")
                if choice != "quit":
                    continue
                self._fail("server", msg.STEP_SERVER, problem)
                return None, settings
            if code in ("auth_failed", "password_missing"):
                self.screen.problem(title, problem.detail, None, code)
                if tries >= MAX_PASSWORD_TRIES:
                    self.report.add(Step("server", Status.OK, msg.STEP_SERVER,
                                         msg.SERVER_ANSWERS.format(host=settings.host, port=settings.port)))
                    self._fail("login", msg.STEP_LOGIN, WizardError(
                        code, msg.TOO_MANY_TRIES.format(count=tries) + "\n" + problem.detail, problem.fix))
                    return None, settings
                choice = "password"
                if code == "auth_failed":
                    choice = self.prompter.select(msg.ASK_NEXT, [
                        ("password", msg.CHOICE_RETYPE_PASSWORD), ("login", msg.CHOICE_CHANGE_LOGIN),
                        ("quit", msg.CHOICE_QUIT)])
                if choice == "quit":
                    self.report.add(Step("server", Status.OK, msg.STEP_SERVER,
                                         msg.SERVER_ANSWERS.format(host=settings.host, port=settings.port)))
                    self._fail("login", msg.STEP_LOGIN, problem)
                    return None, settings
                if choice == "login":
                    settings = self.ask_field(self.ask_field(settings, "user"), "port")
                tries += 1
                settings = self.ask_password(settings)
                continue
            if code == "database_missing" and not created:
                self._server_and_login_ok(settings, None)
                self.offer_save(settings)
                self.screen.heading(msg.SCREEN_DATABASE)
                self.screen.problem(title, problem.detail, None, code, Status.WARN)
                if not self.prompter.confirm(msg.ASK_CREATE_DATABASE_WIZARD.format(dbname=settings.dbname), True):
                    self._fail("database", msg.STEP_DATABASE, problem)
                    self.screen.status_line(Status.SKIP, msg.DATABASE_NOT_CREATED.format(dbname=settings.dbname))
                    return None, settings
                try:
                    create_database(settings)
                except WizardError as error:
                    self._fail("database", msg.STEP_DATABASE, error)
                    self.screen.step(self.report.steps[-1])
                    return None, settings
                created = True
                self.changed = True
                continue
            self._fail("database" if code in ("database_missing", "permission_denied") else "server",
                       msg.STEP_DATABASE if code in ("database_missing", "permission_denied") else msg.STEP_SERVER,
                       problem)
            self.screen.step(self.report.steps[-1])
            return None, settings

        if not created:
            self._server_and_login_ok(settings, server_version(conn))
            self.offer_save(settings)
            self.screen.heading(msg.SCREEN_DATABASE)
        done = (msg.DATABASE_CREATED if created else msg.DATABASE_OK).format(dbname=settings.dbname)
        self.report.add(Step("database", Status.OK, msg.STEP_DATABASE, done))
        self.screen.status_line(Status.OK, done)
        return conn, settings

    # 7-8. Plan and apply --------------------------------------------------------------------------------
    def plan_and_apply(self, conn: psycopg.Connection[Any], settings: Settings) -> bool:
        self.screen.heading(msg.SCREEN_PLAN)
        migrations = load_migrations()
        plan = read_plan(conn, migrations)
        changed = [item for item in plan if item.state == "changed"]
        pending = [item.migration.name for item in plan if item.state == "pending"]
        if changed:
            detail, fix = changed_files_problem(changed[:1])
            step = self.report.add(Step("migrations", Status.FAIL, msg.STEP_MIGRATIONS, detail,
                                        "checksum_mismatch", fix))
            self.screen.step(step)
            return False
        if not pending and not self.options.recreate:
            self.report.migrations = [MigrationOutcome(item.migration.name, "skipped") for item in plan]
            self.report.add(Step("migrations", Status.OK, msg.STEP_MIGRATIONS,
                                 msg.MIGRATIONS_UP_TO_DATE.format(count=len(plan))))
            self.screen.status_line(Status.OK, msg.PLAN_NOTHING.format(count=len(plan)))
            return True
        if self.options.recreate:
            self.screen.problem(msg.STEP_RECREATE, msg.PLAN_RECREATE, None, None, Status.WARN)
            answer = self.prompter.text(msg.RECREATE_CONFIRM.format(dbname=settings.dbname))
            if answer.strip() != settings.dbname:
                step = self.report.add(Step("recreate", Status.FAIL, msg.STEP_RECREATE, msg.RECREATE_DECLINED))
                self.screen.step(step)
                return False
        else:
            self.screen.line(msg.PLAN_INTRO.format(count=len(pending)))
            self.screen.plan(describe_pending(conn, pending), msg.PLAN_SAFE)
            if not self.prompter.confirm(msg.ASK_CONFIRM_APPLY, True):
                self.report.add(Step("migrations", Status.SKIP, msg.STEP_MIGRATIONS, msg.APPLY_DECLINED))
                self.screen.status_line(Status.SKIP, msg.APPLY_DECLINED)
                return False

        self.screen.heading(msg.SCREEN_APPLY)
        before = len(self.report.steps)
        with self.screen.progress(msg.APPLY_STARTING) as update:
            # Already confirmed above: the runner itself asks nothing.
            ok = apply_migrations(conn, settings, self.options, Mode(read_only=False, prompter=None),
                                  self.report, update)
        self.changed = self.changed or any(o.action in ("applied", "baseline") for o in self.report.migrations)
        self.screen.migrations(self.report.migrations)
        notices = [notice for outcome in self.report.migrations for notice in outcome.notices]
        self.screen.notices(summarise_notices(notices), notices)
        for step in self.report.steps[before:]:
            self.screen.step(step)
        return ok

    # 9. Result ---------------------------------------------------------------------------------------------
    def result(self, conn: psycopg.Connection[Any], settings: Settings) -> None:

        self.screen.heading(msg.SCREEN_RESULT)
        add_verification(conn, self.report)
        self.screen.verification(self.report.verification)
        for step in self.report.steps:
            if step.id == "verification" and step.status is Status.WARN:
                self.screen.step(step)
        # LangGraph's tables, through the library's own setup, when its extra is installed and asked.
        before = len(self.report.steps)
        if ensure_checkpoints(conn, settings, Mode(read_only=False, prompter=self.prompter), self.report,
                              self.screen.line):
            self.changed = True
        for step in self.report.steps[before:]:
            self.screen.step(step)
        items = final_checklist(conn)
        dev_user = next(item for item in items if item.id == "dev_user")
        users_exist = (conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone() or (False,))[0]
        if dev_user.status is not Status.OK and users_exist:
            self.screen.line(msg.DEV_USER_MISSING_NOTE, "yellow")
        if dev_user.status is not Status.OK and users_exist:
            from setup_wizard.database.inspect import dev_user_step

            created = dev_user_step(conn, lambda question: self.prompter.confirm(question, True))
            if created is not None:
                self.report.add(created)
                self.screen.step(created)
                self.changed = self.changed or created.status is Status.OK
            items = final_checklist(conn)
        self.screen.checklist(items)


def run(options: Options, env: Environment, prompter: Prompter, screen: Screen,
        system: System | None = None) -> Report:
    """The whole walk; returns the same Report as `--yes` would, for --json and the exit code."""
    walk = Walk(options, env, prompter, screen, system=system)
    screen.welcome()
    discovery = walk.installations_screen()
    settings = walk.settings_screen()
    walk.port_hint(discovery, settings)
    conn, settings = walk.connect(settings)
    if conn is None:
        screen.finish(walk.report, next_steps=False)
        return walk.report
    with conn:
        if walk.plan_and_apply(conn, settings):
            walk.result(conn, settings)
    if walk.report.ok and not walk.changed:
        screen.status_line(Status.OK, msg.RERUN_ALL_GOOD)
    screen.finish(walk.report, next_steps=walk.report.ok)
    return walk.report
