"""Dev user 1: without login the backend writes every conversation as user 1, so it must exist.

The one reading of that fact (`dev_user_step`, for `check`, the run and its last screen) and its fix
(`create_dev_user`), whose `confirm` callback lets `--yes`, the wizard and `check` differ only in the answer.
Both answer a `DevUser`: the step to show, and whether this call added the user (a run that did says it
changed the database).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database.limits import bounded_transaction
from setup_wizard.messages import backend_needs as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

Confirm = Callable[[str], bool]


@record
class DevUser:
    """What was found or done about user 1."""

    step: Step
    created: bool = False  # this call added the user


DEV_USER_INSERT = (
    "INSERT INTO {users} (id, email, type, is_active) VALUES (1, 'test@test.com', 'USER', true) "
    "ON CONFLICT DO NOTHING"
)


def users_table(conn: psycopg.Connection[Any]) -> str | None:
    """The backend's users table, schema-qualified and quoted (in the contract's schema, where the backend's
    unqualified queries find it, whatever else the search_path holds); None when there is none."""
    from setup_wizard.database.live_schema import quote_ident, schema_with

    schema, exists = schema_with(conn, "users")
    return quote_ident(schema) + ".users" if exists else None


def _dev_user_in(conn: psycopg.Connection[Any], table: str | None) -> bool | None:
    import psycopg

    if table is None:
        return None
    try:
        return conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = 1)").fetchone() == (True,)
    except psycopg.errors.InsufficientPrivilege:
        raise  # not "no table": the table_access item (or the run's own check) says whose it is
    except psycopg.Error:  # a users table the backend did not make (id is not a number)
        return None


def dev_user_step(conn: psycopg.Connection[Any], confirm: Confirm) -> DevUser | None:
    """User id 1 must exist for the backend's first chat; creating it only adds a row.

    Without it the first chat fails with a foreign-key violation, so a missing user is a problem, not a
    warning: the database is not ready. None when there is no users table of the backend's."""
    table = users_table(conn)
    exists = _dev_user_in(conn, table)
    if table is None or exists is None:
        return None
    if exists:
        return DevUser(Step("dev_user", Status.OK, msg.STEP_DEV_USER, msg.DEV_USER_OK))
    return create_dev_user(conn, confirm, table)


def create_dev_user(conn: psycopg.Connection[Any], confirm: Confirm, table: str | None = None) -> DevUser:
    """The fix for a missing user id 1 (already found missing: asked, then added, never read again)."""
    import psycopg
    from psycopg import sql

    missing = problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER)
    table = table if table is not None else users_table(conn)
    if table is None or not confirm(msg.ASK_CREATE_DEV_USER):
        return DevUser(missing)
    try:
        with bounded_transaction(conn):  # a held lock is told as such, not as a missing user
            inserted = conn.execute(DEV_USER_INSERT.format(users=table).encode("utf-8")).rowcount
            sequence = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table]).fetchone()
            if inserted and sequence and sequence[0]:
                # Past id 1 and every existing id, never backwards.
                conn.execute(sql.SQL(
                    "SELECT setval(%s, GREATEST((SELECT max(id) FROM {users}), "
                    "(SELECT last_value FROM {seq})))").format(users=sql.SQL(table), seq=sql.SQL(sequence[0])),
                    [sequence[0]])
    except psycopg.Error as exc:
        return DevUser(problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER,
                                     detail=missing.detail + f"\n{exc.sqlstate}: " + (exc.diag.message_primary or "")))
    if not inserted:
        return DevUser(problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER,
                                     detail=msg.DEV_USER_EMAIL_TAKEN))
    return DevUser(Step("dev_user", Status.OK, msg.STEP_DEV_USER, msg.DEV_USER_CREATED), created=True)
