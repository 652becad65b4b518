"""The connect phase, with its fixes: start the server, create it, ask the password again, create the database.

One loop for every door. Each failure is classified (database/connect.py); what happens next is asked of
the Decider: the wizard asks the person, `--yes` takes the safe default, `check` changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.config.settings import DEFAULT, TYPED, Settings
from setup_wizard.database.connect import create_database, open_database, server_version
from setup_wizard.database.limits import SessionLimits
from setup_wizard.errors import WizardError
from setup_wizard.flow.decide import Choice, FixKind
from setup_wizard.flow.save import offer_save
from setup_wizard.flow.state import FlowState
from setup_wizard.flow.view import Phase
from setup_wizard.messages import install as install_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import server as server_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.machine.discovery import Installation
    from setup_wizard.machine.fix import FixOutcome
    from setup_wizard.machine.services import Service
    from setup_wizard.machine.trust_rules import ResetTarget

MAX_PASSWORD_TRIES = 3
SERVER_CODES = ("server_not_running", "host_unreachable")
LOGIN_CODES = ("auth_failed", "password_missing", "role_missing")
# Known login refusals that a new password cannot fix: reported, never retried.
REFUSED_CODES = ("server_full", "role_cannot_login", "session_attrs_unmet")
DATABASE_CODES = ("database_missing", "permission_denied")


# --- values a person types --------------------------------------------------------------------------
def ask_field(flow: FlowState, settings: Settings, name: str) -> Settings:
    current = settings.get(name) or ""
    while True:
        value = flow.decider.value(screens_msg.ASK_FIELD.format(field=settings_msg.FIELD_NAMES[name]), current).strip()
        if not value:
            flow.view.say(screens_msg.VALUE_EMPTY)
        elif name == "port" and not (value.isdigit() and 0 < int(value) < 65536):
            flow.view.say(screens_msg.PORT_INVALID)
        else:
            break
    return settings if value == settings.get(name) else settings.with_value(name, value, TYPED)


def ask_password(flow: FlowState, settings: Settings, keep_default: bool = False) -> Settings:
    question = screens_msg.ASK_PASSWORD_HIDDEN.format(user=settings.user, host=settings.host, port=settings.port)
    if keep_default:
        question += f" ({screens_msg.ASK_PASSWORD_DEFAULT_HINT})"
    while True:
        password = flow.decider.password(question)
        if password:
            return settings.with_value("password", password, TYPED)
        if keep_default:
            return settings
        flow.view.say(screens_msg.PASSWORD_EMPTY)


def ask_missing(flow: FlowState, settings: Settings) -> Settings:
    """Only what is missing: everything when nothing is configured, else only an absent password."""
    if not flow.decider.can_ask:
        return settings
    nothing_configured = flow.options.dsn is None and settings.all_defaults()
    if settings.password is None or nothing_configured:
        flow.view.say(screens_msg.SETTINGS_ASK_INTRO)
    if nothing_configured:
        for name in ("host", "port", "user", "dbname"):
            settings = ask_field(flow, settings, name)
    if settings.password is None:
        settings = ask_password(flow, settings)
    elif nothing_configured and settings.source("password") == DEFAULT:
        settings = ask_password(flow, settings, keep_default=True)
    return settings


# --- bringing a local server up ---------------------------------------------------------------------
def server_fix(flow: FlowState, settings: Settings) -> tuple[Service | None, Installation | None]:
    """What could bring a local server up: a stopped service, or binaries with no server at all."""
    from setup_wizard.machine import local_cluster, services
    from setup_wizard.machine.system import ServiceState

    if flow.discovery is None:
        return None, None
    service = services.find_service(flow.system, flow.discovery, settings)
    if service is not None and service.state in (ServiceState.STOPPED, ServiceState.PAUSED):
        return service, None
    return None, local_cluster.cluster_candidate(flow.system, flow.discovery, service, settings)


def fix_label(flow: FlowState, settings: Settings) -> str | None:
    service, binaries = server_fix(flow, settings)
    if service is not None:
        if service.is_user_server:
            return screens_msg.CHOICE_START_USER_SERVER
        return screens_msg.CHOICE_START_SERVICE.format(name=service.name)
    if binaries is not None and not flow.decider.read_only:
        return screens_msg.CHOICE_CREATE_CLUSTER
    return None


def create_cluster(flow: FlowState, installation: Installation, settings: Settings) -> tuple[FixOutcome, Settings]:
    """The per-user server (machine/local_cluster.py): it only adds, so --yes creates it too."""
    from setup_wizard.machine import local_cluster
    from setup_wizard.machine.fix import FixOutcome

    question = local_cluster.create_question(installation, settings)
    if not flow.decider.allow(FixKind.ADD, question):
        return FixOutcome(False, local_cluster.no_server_step(flow.system, installation, settings)), settings
    new_password = not settings.password
    if new_password:
        if not flow.decider.can_ask:
            return FixOutcome(
                False,
                Step(
                    "cluster", Status.FAIL, server_msg.STEP_CLUSTER, server_msg.CLUSTER_NO_PASSWORD, "password_missing"
                ),
            ), settings
        settings = ask_password(flow, settings)
    outcome = local_cluster.create_local_cluster(flow.system, installation, settings, flow.view.say)
    if outcome.done:
        offer_autostart(flow)
    if outcome.done and new_password and outcome.step is not None:
        step = outcome.step
        warned = Step(step.id, Status.WARN, step.title, step.detail + "\n" + server_msg.CLUSTER_CREATED_NEW_PASSWORD)
        return FixOutcome(True, warned), settings
    return outcome, settings


def can_install(flow: FlowState, settings: Settings) -> bool:
    """Route 1: Windows with winget and no PostgreSQL server at all; only a person decides (UAC)."""
    from setup_wizard.machine import services, windows_install
    from setup_wizard.machine.login_help import is_local

    return (flow.decider.can_ask and flow.discovery is not None and is_local(settings.host)
            and windows_install.available(flow.system)
            and not services.any_system_server(flow.system, flow.discovery))


def install_postgres(flow: FlowState, settings: Settings) -> Settings:
    """winget + the EDB installer, then the registry again, bin on the user's PATH (with consent)."""
    from setup_wizard.machine import services, windows_install
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.install_checks import add_bin_to_path

    if not settings.password:
        settings = ask_password(flow, settings)
    outcome = windows_install.install(flow.system, settings,
                                      lambda question: flow.decider.allow(FixKind.PERSON, question),
                                      flow.view.progress)
    if outcome.step is not None:
        flow.add(outcome.step)
    if not outcome.done:
        return settings
    flow.changed = True
    flow.discovery = discover(flow.system)
    chosen = flow.discovery.chosen
    if chosen is None:
        flow.view.say(server_msg.WINGET_NOT_FOUND_AFTER)
        return settings
    if add_bin_to_path(flow.system, chosen.bindir, lambda question: flow.decider.allow(FixKind.PERSON, question),
                       flow.view.say):
        flow.add(Step("psql", Status.OK, install_msg.STEP_PSQL, install_msg.PSQL_ADDED.format(bindir=chosen.bindir)))
    services.wait_until_accepting(settings)
    return settings


def offer_autostart(flow: FlowState) -> None:
    """Start at logon: only asked of a person (never --yes), only where it can work (not as root)."""
    from setup_wizard.machine import autostart

    if not flow.decider.can_ask or autostart.entry_path(flow.system) is None:
        return
    if flow.decider.allow(FixKind.PERSON, server_msg.ASK_AUTOSTART, default=False):
        flow.add(autostart.enable(flow.system))


def fix_server(flow: FlowState, settings: Settings) -> tuple[bool, Settings]:
    """Start the service (UAC on Windows) or create a local cluster, as the Decider allows."""
    from setup_wizard.machine import services

    service, binaries = server_fix(flow, settings)
    if service is not None:
        kind = FixKind.PERSON if service.needs_elevation else FixKind.ADD
        outcome = services.start_service(flow.system, service, settings,
                                         lambda question: flow.decider.allow(kind, question), flow.view.say)
    elif binaries is not None:
        outcome, settings = create_cluster(flow, binaries, settings)
    else:
        return False, settings
    if outcome.step is not None:
        flow.add(outcome.step)
        flow.service_reported = True
    flow.changed = flow.changed or outcome.done
    return outcome.done, settings


# --- the loop ----------------------------------------------------------------------------------------
class Connector:
    """One attempt after another until connected, given up, or declined."""

    def __init__(self, flow: FlowState, settings: Settings) -> None:
        self.flow = flow
        self.settings = settings
        self.tries = 0
        self.created = False
        self.fix_tried = False
        self.server_reported = False
        self.reset_tried = False
        self.install_tried = False

    def fail(self, step_id: str, title: str, error: WizardError) -> None:
        self.flow.add(problems.from_error(error, step_id, title))

    def server_answers(self, version: str | None = None) -> None:
        """The server answered (and the login worked): said once, whatever happens next."""
        if self.server_reported:
            return
        self.server_reported = True
        s = self.settings
        text = (login_msg.SERVER_OK.format(host=s.host, port=s.port, version=version) if version
                else login_msg.SERVER_ANSWERS.format(host=s.host, port=s.port))
        self.flow.add(Step("server", Status.OK, login_msg.STEP_SERVER, text))

    def logged_in(self, version: str | None = None) -> None:
        self.server_answers(version)
        self.flow.add(
            Step("login", Status.OK, login_msg.STEP_LOGIN, login_msg.LOGIN_OK.format(user=self.settings.user))
        )
        offer_save(self.flow, self.settings)
        self.flow.view.phase(Phase.DATABASE)

    def run(self) -> psycopg.Connection[Any] | None:
        flow = self.flow
        flow.view.phase(Phase.SERVER)
        while True:
            s = self.settings
            try:
                with flow.view.progress(login_msg.CHECKING_SERVER.format(host=s.host, port=s.port)):
                    conn = open_database(s, SessionLimits(lock_timeout=flow.options.lock_timeout))
            except WizardError as problem:
                if self.handle(problem):
                    continue
                return None
            if not self.created:
                self.logged_in(server_version(conn))
            done = login_msg.DATABASE_CREATED if self.created else login_msg.DATABASE_OK
            flow.add(Step("database", Status.OK, login_msg.STEP_DATABASE, done.format(dbname=s.dbname)))
            self.report_service(connected=True)
            return conn

    def handle(self, problem: WizardError) -> bool:
        """True: try again; False: given up (the failure is in the report)."""
        if problem.code in SERVER_CODES:
            return self.server_down(problem)
        if problem.code in LOGIN_CODES:
            return self.login_failed(problem)
        if problem.code == "database_missing" and not self.created:
            return self.database_missing(problem)
        if problem.code in DATABASE_CODES:
            self.server_answers()
            self.fail("database", login_msg.STEP_DATABASE, problem)
        elif problem.code in REFUSED_CODES:
            self.server_answers()
            self.fail("login", login_msg.STEP_LOGIN, problem)
        else:
            self.fail("server", login_msg.STEP_SERVER, problem)
        return False

    def with_start_help(self, problem: WizardError, in_wizard: bool) -> WizardError:
        """A stopped server's fix: how to start the one at this port on this machine, when it is known."""
        from setup_wizard.machine import services

        if problem.code != "server_not_running":
            return problem
        fix = services.start_fix(self.flow.system, self.flow.discovery, self.settings, in_wizard)
        return WizardError(problem.code, problem.detail, fix or problem.fix)

    def server_down(self, problem: WizardError) -> bool:
        flow = self.flow
        label = None if self.fix_tried or problem.code != "server_not_running" else fix_label(flow, self.settings)
        choices = [Choice("fix", label)] if label else []
        if not self.install_tried and problem.code == "server_not_running" and can_install(flow, self.settings):
            choices.insert(0, Choice("install", screens_msg.CHOICE_INSTALL_POSTGRES))  # the team's version first
        if choices:
            choices[0] = Choice(choices[0].key, screens_msg.CHOICE_RECOMMENDED.format(label=choices[0].label))
        if flow.decider.can_ask:
            # How to start it is what the person needs to answer the question: shown with it.
            flow.view.preview(problems.from_error(self.with_start_help(problem, in_wizard=True), "server"))
            choices += [Choice("retry", screens_msg.CHOICE_RETRY), Choice("address", screens_msg.CHOICE_CHANGE_ADDRESS)]
        choices.append(Choice("quit", screens_msg.CHOICE_QUIT))
        choice = flow.decider.choose(screens_msg.ASK_NEXT, choices, default=choices[0].key)
        if choice == "fix":
            self.fix_tried = True
            _done, self.settings = fix_server(flow, self.settings)
            return True
        if choice == "install":
            self.install_tried = True
            self.settings = install_postgres(flow, self.settings)
            return True
        if choice == "address":
            self.settings = ask_field(flow, ask_field(flow, self.settings, "host"), "port")
        if choice in ("retry", "address"):
            return True
        helped = self.with_start_help(problem, in_wizard=False)
        # The box above the question already named this server and how to start it: in the report, not again.
        self.report_service(connected=False, draw=not (flow.decider.can_ask and helped.fix != problem.fix))
        self.fail("server", login_msg.STEP_SERVER, helped)
        return False

    def report_service(self, connected: bool, draw: bool = True) -> None:
        """The local service's state, unless a fix already said what became of it.

        Only when the connection failed: once the server has answered, its service's state changes
        no verdict, and asking the service manager costs a process start or two (pg_lsclusters is Perl).
        """
        flow = self.flow
        add = flow.add if draw else flow.report.add
        if flow.discovery is None or flow.service_reported or connected:
            return
        from setup_wizard.machine import local_cluster, services

        flow.service_reported = True
        service = services.find_service(flow.system, flow.discovery, self.settings)
        line = services.service_step(service, self.settings, connected=connected)
        if line is not None:
            add(line)
        if not connected and service is None:
            binaries = local_cluster.cluster_candidate(flow.system, flow.discovery, service, self.settings)
            why_not = None if binaries is not None else local_cluster.unavailable_step(flow.system, self.settings)
            if binaries is not None:
                add(local_cluster.no_server_step(flow.system, binaries, self.settings))
            elif why_not is not None:
                add(why_not)

    def login_failed(self, problem: WizardError) -> bool:
        flow = self.flow
        target = self.reset_target(problem)
        offer_reset = target is not None and flow.decider.can_ask and not flow.decider.read_only
        hint = target is not None and not offer_reset
        shown = self.with_login_help(problem, reset_hint=hint, in_wizard=True)
        problem = self.with_login_help(problem, reset_hint=hint)
        can_retry = flow.decider.can_ask and problem.code != "role_missing"
        if not can_retry or self.tries >= MAX_PASSWORD_TRIES:
            self.server_answers()
            if self.tries >= MAX_PASSWORD_TRIES:
                problem = WizardError(problem.code, login_msg.TOO_MANY_TRIES.format(count=self.tries) + "\n"
                                      + problem.detail, problem.fix)
            self.fail("login", login_msg.STEP_LOGIN, problem)
            return False
        # The login advice is what the person needs to answer the question below: shown with it.
        # With its advice: the person chooses between retyping, another login, a reset or quitting.
        if self.tries == 0 or problem.code != "auth_failed":
            flow.view.preview(problems.from_error(shown, "login", with_fix=True))
        else:  # the box with the advice is just above: one line, not the whole box again
            flow.view.preview(Step("login", Status.WARN, login_msg.STEP_LOGIN, login_msg.LOGIN_RETRY_FAILED.format(
                tries=self.tries, most=MAX_PASSWORD_TRIES), problem.code))
        choice = "password"
        if problem.code == "auth_failed":
            reset = [Choice("reset", screens_msg.CHOICE_RESET_PASSWORD)] if offer_reset else []
            choice = flow.decider.choose(
                screens_msg.ASK_NEXT,
                [
                    Choice("password", screens_msg.CHOICE_RETYPE_PASSWORD),
                    Choice("login", screens_msg.CHOICE_CHANGE_LOGIN),
                    *reset,
                    Choice("quit", screens_msg.CHOICE_QUIT),
                ],
                default="password",
            )
        if choice == "reset" and target is not None and self.reset_password(target):
            return True
        if choice == "quit":
            self.server_answers()
            self.fail("login", login_msg.STEP_LOGIN, problem)
            return False
        if choice == "login":
            self.settings = ask_field(flow, ask_field(flow, self.settings, "user"), "port")
        self.tries += 1
        self.settings = ask_password(flow, self.settings)
        return True

    # --- login help and the guided password reset (machine/login_help.py, password_reset.py)
    def with_login_help(self, problem: WizardError, reset_hint: bool, in_wizard: bool = False) -> WizardError:
        """The failed login's fix: advice for this machine instead of the catalogue's general steps."""
        from setup_wizard.machine import login_help

        fix = login_help.login_fix(self.flow.system, self.flow.discovery, self.settings, problem.code, reset_hint,
                                   in_wizard)
        return WizardError(problem.code, problem.detail, fix or problem.fix)

    def reset_target(self, problem: WizardError) -> ResetTarget | None:
        if self.reset_tried or problem.code != "auth_failed" or self.flow.discovery is None:
            return None
        from setup_wizard.machine import password_reset

        return password_reset.find_target(self.flow.system, self.flow.discovery, self.settings)

    def reset_password(self, target: ResetTarget) -> bool:
        """Only with a person's consent (FixKind.PERSON: never --yes or check). True: log in again."""
        from setup_wizard.machine import password_reset

        flow = self.flow
        self.reset_tried = True
        outcome = password_reset.guided_reset(
            flow.system, target, self.settings, lambda question: flow.decider.allow(FixKind.PERSON, question),
            flow.decider.password, flow.view.say)
        if outcome.step is not None:
            flow.add(outcome.step)
        if not outcome.done or outcome.password is None:
            return False
        flow.changed = True
        self.settings = self.settings.with_value("password", outcome.password, TYPED)
        return True

    def database_missing(self, problem: WizardError) -> bool:
        flow = self.flow
        s = self.settings
        self.logged_in()
        flow.view.preview(problems.from_error(problem, "database", status=Status.WARN, with_fix=False))
        if not flow.decider.allow(FixKind.ADD, screens_msg.ASK_CREATE_DATABASE_WIZARD.format(dbname=s.dbname)):
            self.fail("database", login_msg.STEP_DATABASE, problem)
            return False
        try:
            create_database(s)
        except WizardError as error:
            self.fail("database", login_msg.STEP_DATABASE, error)
            return False
        self.created = True
        flow.changed = True
        return True
