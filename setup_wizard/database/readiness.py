"""The run's last screen: what the backend needs, object by object, read from the live database.

Built on the contract (what must exist) and the repairs (what a rerun would still fix), so it sits
above both: contract <- repair <- readiness, imports in one direction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.database import checkpoints
from setup_wizard.database.contract import CHECKPOINT_TABLES, CONTRACT, Contract
from setup_wizard.database.drift import find_drift
from setup_wizard.database.inspect import dev_user_exists
from setup_wizard.database.live_schema import contract_schema, has_session_link, present_tables
from setup_wizard.database.repair import drift_fix, plan_repairs
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg


def checklist(conn: psycopg.Connection[Any], contract: Contract = CONTRACT) -> list[Step]:
    """What the backend needs, object by object, for the run's last screen. Read-only.

    Ids: sessions, chat_sessions, session_id, triggers, memory_tables, chat_messages, schema, dev_user, checkpoints
    (every object the backend needs, the memory tables and the whole schema). `schema` fails on any difference
    from the contract that is left, with the fix: `--yes` for what repairs safely, SQL for the rest.
    """

    schema = contract_schema(conn)
    present = present_tables(conn, contract, schema)
    # The run planned its repairs with the counters counted; a recount it applied leaves them in line
    # (0003 locks inserts out while it counts), so the last screen does not read every memory again.
    drift = find_drift(conn, contract, schema, counters=False)

    def have(ok: bool, step_id: str, title: str, missing: str = msg.CHECK_MISSING) -> Step:
        return Step(step_id, Status.OK if ok else Status.FAIL, title, msg.CHECK_PRESENT if ok else missing)

    trigger_drift = [d for d in drift if d.kind == "triggers"]
    memory_missing = [name for name in ("user_preferences", "entity_memories") if name not in present]
    dev_user = bool(dev_user_exists(conn, schema))
    checkpoints_missing = not checkpoints.present_tables(conn) >= set(CHECKPOINT_TABLES)
    if not drift:
        schema_step = Step("schema", Status.OK, msg.CHECK_SCHEMA, msg.CHECK_SCHEMA_OK)
    else:
        code, fix = drift_fix(plan_repairs(conn, drift, schema))
        schema_step = Step("schema", Status.FAIL, msg.CHECK_SCHEMA, "\n".join(f"{d.name}: {d.message}" for d in drift),
                           code, fix)
    return [
        have("sessions" in present, "sessions", msg.CHECK_SESSIONS),
        have("chat_sessions" in present, "chat_sessions", msg.CHECK_CHAT_SESSIONS),
        have(has_session_link(conn, schema), "session_id", msg.CHECK_SESSION_ID),
        have(not trigger_drift, "triggers", msg.CHECK_TRIGGERS,
             "\n".join(f"{d.name}: {d.message}" for d in trigger_drift)),
        have(not memory_missing, "memory_tables", msg.CHECK_MEMORY_TABLES,
             msg.CHECK_MEMORY_TABLES_MISSING.format(names=", ".join(memory_missing))),
        have("chat_messages" in present, "chat_messages", msg.CHECK_CHAT_MESSAGES),
        schema_step,
        have(dev_user, "dev_user", msg.CHECK_DEV_USER, msg.CHECK_DEV_USER_MISSING),
        Step("checkpoints", Status.SKIP if checkpoints_missing else Status.OK, msg.CHECK_CHECKPOINTS,
             msg.CHECK_CHECKPOINTS_LATER if checkpoints_missing else msg.CHECK_PRESENT),
    ]
