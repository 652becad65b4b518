"""Can this session write what the migrations need? Asked before the first write, so an odd server is
a known failure with its fix instead of a raw SQLSTATE halfway through a file.

- a hot standby (pg_is_in_recovery()) or read-only sessions (default_transaction_read_only set on the
  database, the role, the server or the connection);
- a search_path in which no schema exists (current_schema() is NULL): the backend, connecting as the same
  role, would not find tables made anywhere (`search_path_empty`, live_schema.search_path_problem);
- no CREATE on the schema (PostgreSQL 15 no longer grants CREATE on public to everyone);
- a history table this role may not write (made by another role).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database.live_schema import search_path_problem
from setup_wizard.errors import WizardError
from setup_wizard.messages import locks as msg

if TYPE_CHECKING:
    import psycopg

HISTORY_TABLE = "setup_wizard_migrations"


def read_only_default(conn: psycopg.Connection[Any]) -> tuple[bool, str]:
    """(read-only by default?, where that comes from). The value RESET would give (`reset_val`), so a
    session's own `SET default_transaction_read_only = on` (check's belt and braces) does not count."""
    row = conn.execute(
        """SELECT reset_val = 'on', source,
                  (SELECT CASE WHEN bool_or(d.setrole <> 0 AND d.setdatabase <> 0) THEN 'database user'
                               WHEN bool_or(d.setrole <> 0) THEN 'user'
                               WHEN bool_or(d.setdatabase <> 0) THEN 'database' END
                     FROM pg_db_role_setting AS d, unnest(d.setconfig) AS cfg
                    WHERE cfg = 'default_transaction_read_only=on'
                      AND d.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
                      AND d.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())))
             FROM pg_settings WHERE name = 'default_transaction_read_only'""").fetchone()
    if row is None:
        return False, "?"
    on, source, stored = bool(row[0]), str(row[1]), row[2]
    if source == "session":
        source = str(stored) if stored else "client"
    return on, source


def write_problem(conn: psycopg.Connection[Any], *, schema: str | None = None,
                  history: str = HISTORY_TABLE) -> WizardError | None:
    """The first reason this session cannot apply migrations into `schema` (the contract's schema; None:
    current_schema()), or None. `history`: the history table's name as the runner writes it."""
    row = conn.execute(
        """WITH target AS (SELECT coalesce(%(schema)s, current_schema()) AS name)
           SELECT pg_is_in_recovery(), current_user, current_database(), target.name,
                  current_setting('search_path'),
                  EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target.name)
                    AND has_schema_privilege(target.name, 'CREATE'),
                  to_regclass(%(history)s) IS NOT NULL
             FROM target""",
        {"schema": schema, "history": history}).fetchone()
    assert row is not None
    standby, user, dbname, target, search_path, can_create, has_history = row
    if standby:
        return problems.error("server_read_only", user=user, dbname=dbname)
    default_on, source = read_only_default(conn)
    if default_on:
        where = msg.SETTING_SOURCES.get(source, source)
        return problems.error("database_read_only", user=user, dbname=dbname, source=where)
    nowhere = search_path_problem(conn)
    if nowhere is not None:  # whatever `schema` says: the backend would not find what we create there
        return nowhere
    if not can_create:
        return problems.error("no_usable_schema", user=user, dbname=dbname, search_path=search_path,
                              schema=target, reason=msg.SCHEMA_NO_CREATE.format(schema=target))
    if has_history:
        row = conn.execute(
            # Several privileges in one has_table_privilege call mean "any of them": ask for each.
            """SELECT has_table_privilege(oid, 'SELECT') AND has_table_privilege(oid, 'INSERT')
                      AND has_table_privilege(oid, 'UPDATE'),
                      pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s)""",
            [history]).fetchone()
        if row is not None and not row[0]:
            return problems.error("history_not_writable", user=user, owner=row[1], table=history, dbname=dbname)
    return None
