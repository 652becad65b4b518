"""What the server and the database say once logged in: version, privileges, the dev user.

Each returns a `Step`; the dev user's fix receives a `confirm` callback so that `--yes`, the wizard and
`check` differ only in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.database.limits import bounded_transaction
from setup_wizard.machine.discovery import MINIMUM_SERVER_VERSION, PREFERRED_VERSION, Discovery
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

Confirm = Callable[[str], bool]


def version_step(conn: psycopg.Connection[Any], discovery: Discovery | None) -> Step:
    from psycopg import pq

    row = conn.execute("SELECT current_setting('server_version_num')::int, "
                       "split_part(current_setting('server_version'), ' ', 1)").fetchone()
    number, text = (int(row[0]), str(row[1])) if row else (0, "?")
    libpq = pq.version()
    client = discovery.chosen.version if discovery and discovery.chosen else "-"
    detail = msg.SERVER_VERSION_DETAIL.format(server=text, client=client,
                                              libpq=f"{libpq // 10000}.{libpq % 100}")
    status = version_status(number // 10000)
    if status is Status.FAIL:
        return problems.step("server_version_unsupported", "server_version", Status.FAIL, msg.STEP_SERVER_VERSION,
                             detail=detail + "\n" + problems.cause("server_version_unsupported", server=text),
                             server=text)
    if status is Status.WARN:
        return problems.step("server_version_not_17", "server_version", Status.WARN, msg.STEP_SERVER_VERSION,
                             detail=detail + "\n" + msg.SERVER_VERSION_NOT_17.format(server=text), server=text)
    return Step("server_version", Status.OK, msg.STEP_SERVER_VERSION, detail)


def version_status(major: int) -> Status:
    """The verdict on a server's major version (server_version_num // 10000): below 13 unsupported
    (fail), not 17 a warning. The one judgment of it, for `check` and the run."""
    if major < MINIMUM_SERVER_VERSION:
        return Status.FAIL
    return Status.OK if str(major) == PREFERRED_VERSION else Status.WARN


def privileges_step(conn: psycopg.Connection[Any], settings: Settings) -> Step:
    """Can this role create the tables? (PostgreSQL 15+ no longer lets everyone create in public.)"""
    row = conn.execute("SELECT has_schema_privilege('public', 'CREATE'), "
                       "has_database_privilege(current_database(), 'CREATE')").fetchone()
    if row and row[0]:
        return Step("privileges", Status.OK, msg.STEP_PRIVILEGES, msg.PRIVILEGES_OK.format(user=settings.user))
    return problems.step("permission_denied", "privileges", Status.FAIL, msg.STEP_PRIVILEGES,
                         user=settings.user, dbname=settings.dbname, host=settings.host, port=settings.port)


DEV_USER_INSERT = (
    "INSERT INTO {users} (id, email, type, is_active) VALUES (1, 'test@test.com', 'USER', true) "
    "ON CONFLICT DO NOTHING"
)


def users_table(conn: psycopg.Connection[Any], schema: str | None = None) -> str | None:
    """The backend's users table, schema-qualified and quoted (in the contract's schema, where the backend's
    unqualified queries find it, whatever else the search_path holds); None when there is none."""
    from setup_wizard.database.live_schema import contract_schema, quote_ident

    name = quote_ident(schema if schema is not None else contract_schema(conn)) + ".users"
    return name if conn.execute("SELECT to_regclass(%s)", [name]).fetchone() not in (None, (None,)) else None


def dev_user_exists(conn: psycopg.Connection[Any], schema: str | None = None) -> bool | None:
    """Is user id 1 there (the backend's first chat needs it)? None when there is no users table of the
    backend's: none in the contract's schema, or one whose id is not a number. The one reading of this
    fact, for `check`, the run and its last screen. Read-only."""
    return _dev_user_in(conn, users_table(conn, schema))


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


def dev_user_step(conn: psycopg.Connection[Any], confirm: Confirm) -> Step | None:
    """User id 1 must exist for the backend's first chat; creating it only adds a row.

    Without it the first chat fails with a foreign-key violation, so a missing user is a problem, not a
    warning: the database is not ready."""
    import psycopg
    from psycopg import sql

    table = users_table(conn)
    exists = _dev_user_in(conn, table)
    if table is None or exists is None:
        return None
    if exists:
        return Step("dev_user", Status.OK, msg.STEP_DEV_USER, msg.DEV_USER_OK)
    missing = problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER)
    if not confirm(msg.ASK_CREATE_DEV_USER):
        return missing
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
        return problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER,
                             detail=missing.detail + f"\n{exc.sqlstate}: " + (exc.diag.message_primary or ""))
    if not inserted:
        return problems.step("dev_user_missing", "dev_user", Status.FAIL, msg.STEP_DEV_USER,
                             detail=msg.DEV_USER_EMAIL_TAKEN)
    return Step("dev_user", Status.OK, msg.STEP_DEV_USER, msg.DEV_USER_CREATED)


def explain_sqlstate(sqlstate: str | None) -> str | None:
    """The seed's known errors (already exists, does not exist, rolled back, FK) explained in Korean."""
    code = msg.SEED_ERRORS.get(sqlstate or "")
    if code is None:
        return None
    return problems.explain(code)
