"""The machinery of the one checklist: what a check is, what it reads, and how the list is run.

A check (Django system checks style) is a function of the shared `Context` that yields `Step`s with a
stable id and code, a Korean message and a fix; `register` adds it to a module's list of checks in
order (flow/checks_machine.py, checks_config.py and checks_database.py hold them, flow/checks.py
runs them for `check`; a run starts from the database checks, fixes what they found and reads them
again: flow/database_phase.py).
`run_checks` skips a check that needs the database when there is no connection (or the
.env file when none was found), and
turns a check that crashes into one failed item carrying its error while the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.config.envfile import EnvFile
from setup_wizard.config.settings import Settings
from setup_wizard.database.limits import known_failure
from setup_wizard.database.migration_history import PlanItem
from setup_wizard.environment import Environment
from setup_wizard.errors import WizardError
from setup_wizard.flow.options import Options
from setup_wizard.flow.view import Say
from setup_wizard.machine.system import System
from setup_wizard.messages import check as check_msg
from setup_wizard.messages import envfiles as envfiles_msg
from setup_wizard.messages import locks as locks_msg
from setup_wizard.record import record
from setup_wizard.results import Report, Status, Step, VerificationRow
from setup_wizard.scrub import Scrubber

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.checkpoints import CheckpointState
    from setup_wizard.database.repair import Repair
    from setup_wizard.machine.discovery import Discovery


@record(frozen=False)
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
    # The run's second pass: the counters were counted when its repairs were planned (a recount it applied
    # leaves them in line), and the verification table was read after its last change to the memories;
    # neither is read again, so the last screen does not scan every memory twice. The first pass leaves
    # the verification it read here.
    count_counters: bool = True
    verified: Report | None = None
    # What the run's fixes start from (flow/database_phase.py): the ids of the items whose finding an
    # automatic fix answers, the repairs planned for the drift found, LangGraph's tables as read.
    fixable: set[str] = field(default_factory=set)
    repairs: list[Repair] | None = None
    checkpoints: CheckpointState | None = None


CheckFunc = Callable[[Context], Iterable[Step]]


@record
class Check:
    id: str
    title: str
    func: CheckFunc
    needs_connection: bool = False
    needs_env_file: bool = False


def register(checks: list[Check], check_id: str, title: str, needs_connection: bool = False,
             needs_env_file: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    """Add the decorated function to `checks`, after those registered before it."""
    def add(func: CheckFunc) -> CheckFunc:
        checks.append(Check(check_id, title, func, needs_connection, needs_env_file))
        return func

    return add


def describe_crash(error: BaseException, scrub: Scrubber) -> str:
    from setup_wizard.database.connect import error_text

    return scrub(f"{type(error).__name__}: {error_text(error)}")


def _denied(error: BaseException) -> bool:
    import psycopg

    return isinstance(error, psycopg.errors.InsufficientPrivilege)


def run_checks(ctx: Context, checks: Iterable[Check]) -> Iterator[Step]:
    """Every check in order; a crash is one failed item, never the end of the checklist."""
    for check in checks:
        if check.needs_connection and ctx.conn is None:
            yield Step(check.id, Status.SKIP, check.title, check_msg.CHECK_SKIPPED_NO_CONNECTION)
            continue
        if check.needs_env_file and ctx.env_file is None:
            yield Step(check.id, Status.SKIP, check.title, envfiles_msg.ENV_CHECK_SKIPPED)
            continue
        try:
            yield from check.func(ctx)
        except Exception as error:
            # A known failure (our own, or a limit hit inside someone's transaction): its own code and fix.
            known = error if isinstance(error, WizardError) else known_failure(error)
            if known is None and _denied(error):
                # A table this role may not read: the table_access item above names them all with the fix.
                known = problems.error("table_access_denied", locks_msg.TABLE_ACCESS_DENIED_HERE.format(
                    error=describe_crash(error, ctx.scrub)), locks_msg.FIX_TABLE_ACCESS_SEE_ABOVE)
            if known is not None:
                yield Step(check.id, Status.FAIL, check.title, ctx.scrub(known.detail), known.code, known.fix)
                continue
            yield problems.step("check_crashed", check.id, Status.FAIL, check.title,
                                error=describe_crash(error, ctx.scrub))
