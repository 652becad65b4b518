"""What the live database says about the contract: the questions several modules ask, answered once.

Where the backend's tables are (`contract_schema`: the schema an unqualified `users` resolves to
through the search_path) and which contract tables the search_path finds twice (`shadowed_tables`,
`search_path_step`); which contract tables are present; does conversation_memories.session_id exist
(`has_session_link`); which triggers count messages into chat_sessions (`counting_triggers`). The
contract check (database/drift.py), the repairs, the plan preview, the final checklist, the
verification and the migration runner all ask these, so each query is written here once. Read-only.

`live_state` reads where the tables are together with a token of the database's state, and the facts
a reader derives from the catalog or the rows (`LiveState.remember`) are read once per connection while
that token stays the same: a run asks the contract check, the counters and the verification twice
(before and after its fixes), and a rerun that changed nothing reads each of them once.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Hashable
from dataclasses import field
from typing import TYPE_CHECKING, Any, TypeVar

from setup_wizard import problems
from setup_wizard.database.contract import CHECKPOINT_TABLES, CONTRACT, COUNTING_PATTERN, Contract
from setup_wizard.errors import WizardError
from setup_wizard.messages import locks as locks_msg
from setup_wizard.messages import schema as schema_msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")


def _rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


# --- where the contract lives -------------------------------------------------------------------------

# The schema, and what says whether anything may have changed since: the transaction snapshot (every
# write, DDL included, takes a transaction id, so a write committed anywhere on the server since moves it;
# a false alarm costs one more read, never a stale fact), and the session's search_path and role (which
# change what unqualified names mean without a transaction id).
_SCHEMA_SQL = """
    SELECT coalesce(
        (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
          WHERE c.oid = coalesce(to_regclass('users'), to_regclass('conversation_memories'))),
        current_schema(), 'public')"""
_TOKEN_SQL = ", {snapshot}()::text, current_setting('search_path'), current_user::text"


@record(frozen=False)
class LiveState:
    """Where the backend's tables are, and the facts already read while the database stayed as it is."""

    schema: str
    token: tuple[str, ...] | None  # None: not comparable (inside a transaction): nothing is remembered
    facts: dict[Hashable, Any] = field(default_factory=dict)

    def remember(self, key: Hashable, read: Callable[[], T]) -> T:
        """`read()`'s answer, read once for this state: the same answer as reading it again."""
        if self.token is None:
            return read()
        if key not in self.facts:
            self.facts[key] = read()
        value: T = self.facts[key]
        return value

    def known(self, key: Hashable) -> Any:
        """A fact already read for this state, or None."""
        return self.facts.get(key)


_STATES: weakref.WeakKeyDictionary[Any, LiveState] = weakref.WeakKeyDictionary()


def live_state(conn: psycopg.Connection[Any]) -> LiveState:
    """The contract's schema (`contract_schema`) and the facts read for the database's current state.

    One query, as contract_schema always was. Outside a transaction only: inside one the session's own
    uncommitted writes are not in the token, so nothing is remembered or answered from memory there."""
    from psycopg import pq

    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    # pg_current_snapshot from PostgreSQL 13 on; txid_current_snapshot (deprecated since) before it.
    snapshot = "pg_current_snapshot" if conn.info.server_version >= 130000 else "txid_current_snapshot"
    row = conn.execute(_SCHEMA_SQL + (_TOKEN_SQL.format(snapshot=snapshot) if idle else "")).fetchone()
    schema = str(row[0]) if row else "public"
    if not idle or row is None:
        return LiveState(schema, None)
    token = (schema, *(str(value) for value in row[1:]))
    state = _STATES.get(conn)
    if state is None or state.token != token:
        state = _STATES[conn] = LiveState(schema, token)
    return state


def contract_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema the backend's tables are in: where `users` (else `conversation_memories`) resolves
    through the search_path, as the backend's unqualified queries resolve it; else current_schema()."""
    return live_state(conn).schema


def schema_with(conn: psycopg.Connection[Any], table: str) -> tuple[str, bool]:
    """`contract_schema` and whether `table` is in that schema, in one statement (for a reader that needs
    only the schema's name, not the facts remembered for the database's state)."""
    row = conn.execute(f"""
        SELECT s.name, to_regclass(format('%%I.%%I', s.name, %s::text)) IS NOT NULL
          FROM ({_SCHEMA_SQL}) AS s(name)""", [table]).fetchone()
    return (str(row[0]), bool(row[1])) if row else ("public", False)


def _schema(conn: psycopg.Connection[Any], schema: str | None) -> str:
    return schema if schema is not None else contract_schema(conn)


@record
class Shadow:
    """A table name that exists in more than one schema of the search_path."""

    table: str
    schemas: tuple[str, ...]  # in search_path order: the first is what an unqualified name means


def shadowed_tables(conn: psycopg.Connection[Any], contract: Contract = CONTRACT) -> list[Shadow]:
    """Contract and checkpoint tables that the search_path finds in two or more schemas."""
    names = [t.name for t in contract.tables] + list(CHECKPOINT_TABLES)
    rows = _rows(conn, """
        SELECT c.relname, array_agg(p.nsp ORDER BY p.pos)
          FROM unnest(current_schemas(false)) WITH ORDINALITY AS p(nsp, pos)
          JOIN pg_namespace AS n ON n.nspname = p.nsp
          JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         WHERE c.relname = ANY(%s)
         GROUP BY c.relname HAVING count(*) > 1
         ORDER BY c.relname""", [names])
    return [Shadow(table, tuple(schemas)) for table, schemas in rows]


def search_path_step(conn: psycopg.Connection[Any], user: str) -> Step:
    """`check`'s search_path item: OK; a failure when the backend's names resolve nowhere; or a warning
    naming each shadowed table and the fix."""
    empty_path, path, schema = _search_path_row(conn)
    empty = _search_path_problem(conn) if empty_path else None
    if empty is not None:
        return problems.from_error(empty, "search_path", schema_msg.STEP_SEARCH_PATH)
    shadows = shadowed_tables(conn)
    if not shadows:
        return Step(
            "search_path",
            Status.OK,
            schema_msg.STEP_SEARCH_PATH,
            schema_msg.SEARCH_PATH_OK.format(schema=schema, path=path),
        )
    lines = [schema_msg.SEARCH_PATH_SHADOW.format(table=s.table, schemas=", ".join(s.schemas), first=s.schemas[0])
             for s in shadows]
    path = quote_ident(schema) if schema == "public" else f"{quote_ident(schema)}, public"
    from setup_wizard.database.connect import psql_line

    return problems.step("search_path_shadow", "search_path", Status.WARN, schema_msg.STEP_SEARCH_PATH,
                         detail="\n".join(lines), user=quote_ident(user), path=path,
                         psql=psql_line(conn, user="postgres"))


def search_path_problem(conn: psycopg.Connection[Any]) -> WizardError | None:
    """`search_path_empty` when no schema of the session's search_path exists (or may be used by this role).

    The backend connects as the same role with default settings and names its tables without a schema,
    so it then finds none of them (and LangGraph cannot create its own): wherever the tables are, it is
    not ready, and the wizard must not create them where the backend will not look. None otherwise."""
    return _search_path_problem(conn) if _search_path_row(conn)[0] else None


def _search_path_row(conn: psycopg.Connection[Any]) -> tuple[bool, str, str]:
    """Does no schema of the search_path exist (or may be used by this role); the search_path; and
    `contract_schema`. Cheap: pg_settings (every setting) is read only when the first is true."""
    row = conn.execute("SELECT current_schema() IS NULL, current_setting('search_path'), (" + _SCHEMA_SQL + ")"
                       ).fetchone()
    return (bool(row[0]), str(row[1]), str(row[2])) if row else (False, "", "public")


def _search_path_problem(conn: psycopg.Connection[Any]) -> WizardError | None:
    """`search_path_empty` with where the search_path comes from and the fix (no schema of it is usable)."""
    row = conn.execute("""
        SELECT current_schema() IS NULL, current_setting('search_path'), s.source, current_user,
               current_database(),
               (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                 WHERE c.relname IN ('users', 'conversation_memories') AND c.relkind IN ('r', 'p')
                 ORDER BY c.relname = 'users' DESC, n.nspname = 'public' DESC, n.nspname LIMIT 1)
          FROM pg_settings AS s WHERE s.name = 'search_path'""").fetchone()
    if row is None or not row[0]:
        return None
    path, source, user, dbname, found = str(row[1]), str(row[2]), str(row[3]), str(row[4]), row[5]
    schema = quote_ident(str(found) if found else "public")
    user, dbname = quote_ident(user), quote_ident(dbname)
    reset = schema_msg.SEARCH_PATH_RESET.get(source, schema_msg.SEARCH_PATH_RESET_OTHER).format(
        user=user, dbname=dbname, schema=schema
    )
    tables = schema_msg.SEARCH_PATH_TABLES_AT.format(schema=schema) if found else schema_msg.SEARCH_PATH_NO_TABLES
    return problems.error("search_path_empty", path=path, source=locks_msg.SETTING_SOURCES.get(source, source),
                          tables=tables, reset=reset, user=user, dbname=dbname, schema=schema)


def quote_ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


# --- the shared questions ------------------------------------------------------------------------------

def has_session_link(conn: psycopg.Connection[Any], schema: str | None = None) -> bool:
    """Does conversation_memories.session_id exist (in the contract's schema)?"""
    row = conn.execute("""
        SELECT EXISTS (SELECT 1 FROM pg_attribute
                        WHERE attrelid = to_regclass(format('%%I.%%I', %s::text, 'conversation_memories'))
                          AND attname = 'session_id' AND NOT attisdropped)""", [_schema(conn, schema)]).fetchone()
    return bool(row and row[0])


@record
class CountingTrigger:
    name: str
    function: str
    enabled: bool
    definition: str  # pg_get_triggerdef(): how to bring it back


def counting_triggers(conn: psycopg.Connection[Any], schema: str | None = None,
                      contract: Contract = CONTRACT) -> list[CountingTrigger]:
    """Triggers on conversation_memories whose function counts messages into chat_sessions.

    Only those: a teammate's trigger whose function keeps a message_count somewhere else is not one.
    """
    return [CountingTrigger(name, function, enabled != "D", definition) for name, function, enabled, definition in
            _rows(conn, """
        SELECT tg.tgname, p.proname, tg.tgenabled, pg_get_triggerdef(tg.oid)
          FROM pg_trigger AS tg JOIN pg_proc AS p ON p.oid = tg.tgfoid
         WHERE tg.tgrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) AND NOT tg.tgisinternal
           AND p.prosrc ~* %s
         ORDER BY tg.tgname""", [_schema(conn, schema), contract.counting_table, COUNTING_PATTERN])]


def present_tables(conn: psycopg.Connection[Any], contract: Contract = CONTRACT, schema: str | None = None) -> set[str]:
    """The contract's tables that exist in `schema` (by default where the backend's tables are)."""
    names = [t.name for t in contract.tables]
    return {r[0] for r in _rows(conn, """
        SELECT t.name FROM unnest(%s::text[]) AS t(name)
         WHERE to_regclass(format('%%I.%%I', %s::text, t.name)) IS NOT NULL""", [names, _schema(conn, schema)])}
