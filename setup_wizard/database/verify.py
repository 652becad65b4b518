"""The seed's verification table, with unique users really counted (the seed's counted sessions),
one row for each memory table (user_preferences, entity_memories) and one for chat_messages (its users
are its sessions' users), each when it exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.database.limits import bounded_transaction
from setup_wizard.database.live_schema import contract_schema, has_session_link
from setup_wizard.results import VerificationRow

if TYPE_CHECKING:
    import psycopg

# One scan of conversation_memories, grouped once by (linked, user); both memory rows come from it.
# Reruns on large databases are dominated by this query, so it must not read the table twice.
VERIFY_SQL = """
WITH per_user AS (
    SELECT session_id IS NOT NULL AS linked, user_id, count(*) AS n
      FROM conversation_memories
     GROUP BY 1, 2
)
SELECT 'chat_sessions', (SELECT count(*) FROM chat_sessions),
       (SELECT count(*) FROM (SELECT DISTINCT user_id FROM chat_sessions) AS d)
UNION ALL
SELECT 'with', coalesce(sum(n) FILTER (WHERE linked), 0), count(user_id) FILTER (WHERE linked)
  FROM per_user
UNION ALL
SELECT 'without', coalesce(sum(n) FILTER (WHERE NOT linked), 0), count(user_id) FILTER (WHERE NOT linked)
  FROM per_user
"""


MEMORY_TABLES = ("user_preferences", "entity_memories")


def verification_rows(conn: psycopg.Connection[Any]) -> list[VerificationRow]:
    """The verification table; empty when the migrated tables are not there yet.

    Read in the schema where the backend's tables are (contract.contract_schema), whatever else the
    search_path holds: one transaction with SET LOCAL search_path, the queries themselves stay plain.
    """
    schema = contract_schema(conn)
    with bounded_transaction(conn):
        conn.execute("SELECT set_config('search_path', quote_ident(%s), true)", [schema])
        return _rows(conn, schema)


def _rows(conn: psycopg.Connection[Any], schema: str) -> list[VerificationRow]:
    row = conn.execute("SELECT to_regclass('chat_sessions') IS NOT NULL").fetchone()
    if not row or not row[0] or not has_session_link(conn, schema):
        return []
    labels = {
        "chat_sessions": msg.VERIFY_CHAT_SESSIONS,
        "with": msg.VERIFY_WITH_SESSION,
        "without": msg.VERIFY_WITHOUT_SESSION,
    }
    # JIT compilation costs more than it saves on this short query (measured ~0.1 s at 1M rows).
    conn.execute("SELECT set_config('jit', 'off', true)")
    rows = []
    for key, total, users in conn.execute(VERIFY_SQL):
        healthy = key != "without" or total == 0
        rows.append(VerificationRow(labels[key], int(total), int(users), healthy))
    for table in MEMORY_TABLES:
        present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()
        if present and present[0]:
            counted = conn.execute(f"SELECT count(*), count(DISTINCT user_id) FROM {table}").fetchone()
            total, users = (int(counted[0]), int(counted[1])) if counted else (0, 0)
            rows.append(VerificationRow(table, total, users, True))
    present = conn.execute("SELECT to_regclass('chat_messages') IS NOT NULL").fetchone()
    if present and present[0]:
        counted = conn.execute("""SELECT count(*), count(DISTINCT s.user_id) FROM chat_messages AS m
                                    LEFT JOIN chat_sessions AS s USING (session_id)""").fetchone()
        total, users = (int(counted[0]), int(counted[1])) if counted else (0, 0)
        rows.append(VerificationRow("chat_messages", total, users, True))
    return rows
