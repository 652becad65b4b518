"""The result phase: the verification table, LangGraph's tables, the dev user, and what the final checklist
(`check`'s database items read again, flow/database_phase.py) means for the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.database import checkpoints
from setup_wizard.database.connect import error_text
from setup_wizard.database.verify import verification_rows
from setup_wizard.errors import WizardError
from setup_wizard.messages import backend_needs as backend_needs_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.results import Report, Status, Step
from setup_wizard.scrub import Scrubber

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.repair import RepairOutcome

Say = Callable[[str], None]


def add_verification(conn: psycopg.Connection[Any], report: Report) -> None:
    rows = verification_rows(conn)
    report.verification = rows
    if not rows:
        return
    unlinked = next((row for row in rows if not row.healthy), None)
    if unlinked is not None:
        report.add(Step("verification", Status.WARN, finish_msg.STEP_VERIFY,
                        finish_msg.VERIFY_UNLINKED.format(count=f"{unlinked.total_rows:,}"),
                        None, finish_msg.FIX_VERIFY_UNLINKED))
    else:
        report.add(Step("verification", Status.OK, finish_msg.STEP_VERIFY, finish_msg.VERIFY_OK))


def checkpoints_ok(state: checkpoints.CheckpointState) -> Step | None:
    """With the library installed and nothing for its setup() to do: the run's line about LangGraph's tables."""
    if state.expected is None or state.settable:
        return None
    return Step(
        "checkpoints",
        Status.OK,
        backend_needs_msg.STEP_CHECKPOINTS,
        backend_needs_msg.CHECKPOINTS_OK.format(version=state.version),
    )


def set_up_checkpoints(conn: psycopg.Connection[Any], settings: Settings, state: checkpoints.CheckpointState,
                       allow: Callable[[str], bool], report: Report, say: Say) -> bool:
    """The fix for LangGraph's tables found absent, incomplete or behind the installed library (`settable`):
    the library's own setup(), when asked for. Returns True when it created or upgraded them."""
    question = backend_needs_msg.ASK_CREATE_CHECKPOINTS if state.absent else backend_needs_msg.ASK_UPGRADE_CHECKPOINTS
    if not allow(question):
        report.add(
            Step("checkpoints", Status.SKIP, backend_needs_msg.STEP_CHECKPOINTS, backend_needs_msg.CHECKPOINTS_DECLINED)
        )
        return False
    say(backend_needs_msg.CHECKPOINTS_CREATING)
    try:
        after = checkpoints.create_tables(conn, settings, say)
    except WizardError as error:
        report.add(
            Step("checkpoints", Status.FAIL, backend_needs_msg.STEP_CHECKPOINTS, error.detail, error.code, error.fix)
        )
        return False
    except Exception as error:  # the library's own failure: shown, the rest of the run stands
        text = Scrubber.collect([settings.password])(f"{type(error).__name__}: {error_text(error)}")
        report.add(
            problems.step(
                "checkpoint_setup_failed", "checkpoints", Status.FAIL, backend_needs_msg.STEP_CHECKPOINTS, error=text
            )
        )
        return False
    report.add(Step("checkpoints", Status.OK, backend_needs_msg.STEP_CHECKPOINTS,
                    backend_needs_msg.CHECKPOINTS_CREATED.format(version=after.version)))
    return True


def next_steps(items: list[Step]) -> list[str]:
    """What follows the next steps on a ready run, from the run's last checklist: LangGraph's tables are
    there (made by this run, an earlier one or the backend), or the backend makes them at its first start."""
    ready = any(item.id == "checkpoints" and item.status is Status.OK for item in items)
    return [finish_msg.NEXT_STEPS_CHECKPOINTS_READY if ready else finish_msg.NEXT_STEPS_CHECKPOINTS_LATER]


def readiness_problems(items: list[Step], report: Report) -> Step | None:
    """A checklist item that fails and that no step of the run already explains: the run is not ready."""
    explained = {step.id for step in report.steps if step.status is Status.FAIL}
    missing = [item for item in items if item.status is Status.FAIL and item.id not in explained]
    if not missing:
        return None
    names = ", ".join(item.title for item in missing)
    return problems.step("schema_drift", "readiness", Status.FAIL, finish_msg.STEP_READINESS,
                         detail=finish_msg.READINESS_MISSING.format(names=names), fix=finish_msg.FIX_READINESS)


def repairs_step(outcomes: list[RepairOutcome]) -> Step:
    """What the repairs did: each one by name; a failed one fails the run with its own fix."""
    lines = [
        schema_msg.REPAIR_OUTCOME.format(
            description=o.description, result=schema_msg.REPAIR_RESULTS.get(o.status, o.status)
        )
        + (f"\n  {o.detail}" if o.detail else "")
        for o in outcomes
    ]
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        return problems.step("schema_repair_failed", "repairs", step_title=schema_msg.STEP_REPAIRS,
                             detail="\n".join(lines))
    status = Status.WARN if any(o.status == "not_valid" for o in outcomes) else Status.OK
    return Step("repairs", status, schema_msg.STEP_REPAIRS, "\n".join(lines))
