"""The result phase: the verification table, LangGraph's tables, the dev user and the final checklist."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.config.settings import Settings
from setup_wizard.database import checkpoints
from setup_wizard.database.connect import error_text
from setup_wizard.database.verify import verification_rows
from setup_wizard.errors import WizardError
from setup_wizard.flow.decide import Decider, FixKind
from setup_wizard.results import Report, Status, Step
from setup_wizard.scrub import Scrubber

if TYPE_CHECKING:
    import psycopg

Say = Callable[[str], None]


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


def ensure_checkpoints(conn: psycopg.Connection[Any], settings: Settings, decider: Decider, report: Report,
                       say: Say) -> bool:
    """LangGraph's tables through the library's own setup(), when its extra is installed and asked for.

    Returns True when it created or upgraded them."""
    if not checkpoints.library_installed():
        return False  # the backend creates them when it first starts (NEXT_STEPS says so)
    state = checkpoints.read_state(conn)
    if state.complete and not state.behind:
        report.add(Step("checkpoints", Status.OK, msg.STEP_CHECKPOINTS,
                        msg.CHECKPOINTS_OK.format(version=state.version)))
        return False
    question = msg.ASK_CREATE_CHECKPOINTS if state.absent else msg.ASK_UPGRADE_CHECKPOINTS
    if not decider.allow(FixKind.ADD, question):
        report.add(Step("checkpoints", Status.SKIP, msg.STEP_CHECKPOINTS, msg.CHECKPOINTS_DECLINED))
        return False
    say(msg.CHECKPOINTS_CREATING)
    try:
        after = checkpoints.create_tables(conn, settings, say)
    except WizardError as error:
        report.add(Step("checkpoints", Status.FAIL, msg.STEP_CHECKPOINTS, error.detail, error.code, error.fix))
        return False
    except Exception as error:  # the library's own failure: shown, the rest of the run stands
        text = Scrubber.collect([settings.password])(f"{type(error).__name__}: {error_text(error)}")
        report.add(Step("checkpoints", Status.FAIL, msg.STEP_CHECKPOINTS, msg.CHECKPOINTS_FAILED.format(error=text),
                        "checkpoint_setup_failed", msg.FIX_CHECKPOINTS_FAILED))
        return False
    report.add(Step("checkpoints", Status.OK, msg.STEP_CHECKPOINTS,
                    msg.CHECKPOINTS_CREATED.format(version=after.version)))
    return True


CHECKPOINT_TABLES = ("checkpoint_migrations", "checkpoints", "checkpoint_blobs", "checkpoint_writes")
REQUIRED_TRIGGERS = (
    ("chat_sessions", "trigger_update_chat_session_timestamp"),
    ("conversation_memories", "trigger_update_session_message_count"),
)



def readiness(conn: psycopg.Connection[Any]) -> list[Step]:
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
        Step("dev_user", Status.OK if dev_user else Status.FAIL, msg.CHECK_DEV_USER,
             msg.CHECK_PRESENT if dev_user else msg.CHECK_DEV_USER_MISSING),
        Step("checkpoints", Status.SKIP if missing_checkpoints else Status.OK, msg.CHECK_CHECKPOINTS,
             msg.CHECK_CHECKPOINTS_LATER if missing_checkpoints else msg.CHECK_PRESENT),
    ]
    return items


def readiness_problems(items: list[Step], report: Report) -> Step | None:
    """A checklist item that fails and that no step of the run already explains: the run is not ready."""
    explained = {step.id for step in report.steps if step.status is Status.FAIL}
    missing = [item for item in items if item.status is Status.FAIL and item.id not in explained]
    if not missing:
        return None
    names = ", ".join(item.title for item in missing)
    return Step("readiness", Status.FAIL, msg.STEP_READINESS, msg.READINESS_MISSING.format(names=names),
                "schema_drift", msg.FIX_READINESS)
