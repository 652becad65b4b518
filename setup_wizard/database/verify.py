"""The seed's verification table, with unique users really counted (the seed's counted sessions),
one row for each memory table (user_preferences, entity_memories) and one for chat_messages (its users
are its sessions' users), each when it exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard.database.limits import bounded_transaction
from setup_wizard.database.live_schema import live_state
from setup_wizard.messages import finish as msg
from setup_wizard.results import VerificationRow

if TYPE_CHECKING:
    import psycopg

# Exact counts, read the cheap way (a rerun on a large database is dominated by this query):
# - every memory is counted once, by a plain count(*) (no per-user hash over the whole table); or not at
#   all when the contract check's counters aggregate already summed the linked memories on this state
#   of the database (drift.SessionScan.linked, remembered by live_schema.live_state);
# - the memories without a session, and their users, through the session_id index (NULLs are indexed):
#   as many rows as are unlinked, usually none;
# - the users whose memories are linked: one probe of the (user_id, created_at) index per user, when
#   a validated foreign key vouches that every memory's user_id is a user (LINKED_USERS_BY_USER);
#   otherwise counted from the memories themselves (LINKED_USERS_BY_MEMORY).
VERIFY_SQL = """
WITH unlinked AS (
    SELECT count(*) AS n, count(DISTINCT user_id) AS users FROM conversation_memories WHERE session_id IS NULL
)
SELECT 'chat_sessions', (SELECT count(*) FROM chat_sessions), (SELECT count(DISTINCT user_id) FROM chat_sessions)
UNION ALL
SELECT 'with', {linked_memories}, ({linked_users}) FROM unlinked
UNION ALL
SELECT 'without', n, users FROM unlinked
"""
LINKED_USERS_BY_USER = """SELECT count(*) FROM users AS u
     WHERE EXISTS (SELECT 1 FROM conversation_memories AS m WHERE m.user_id = u.id AND m.session_id IS NOT NULL)"""
LINKED_USERS_BY_MEMORY = "SELECT count(DISTINCT user_id) FROM conversation_memories WHERE session_id IS NOT NULL"
LINKED_MEMORIES = "(SELECT count(*) FROM conversation_memories) - n"

# A validated single-column foreign key conversation_memories.user_id -> users.id: no memory names a
# user that is not in users, so counting users that have linked memories counts the same users.
USER_KEY_VALIDATED_SQL = """
SELECT EXISTS (
    SELECT 1 FROM pg_constraint AS c
      JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute AS r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]
     WHERE c.contype = 'f' AND c.convalidated AND cardinality(c.conkey) = 1
       AND c.conrelid = to_regclass('conversation_memories') AND c.confrelid = to_regclass('users')
       AND a.attname = 'user_id' AND r.attname = 'id')
"""


MEMORY_TABLES = ("user_preferences", "entity_memories")
# Each table's row of the verification, appended to VERIFY_SQL when the table is there (rows are matched
# by their first column, never by their order).
_TABLE_COUNTS = {
    **{table: f"SELECT '{table}', count(*), count(DISTINCT user_id) FROM {table}" for table in MEMORY_TABLES},
    "chat_messages": """SELECT 'chat_messages', count(*), count(DISTINCT s.user_id) FROM chat_messages AS m
                          LEFT JOIN chat_sessions AS s USING (session_id)""",
}


def verification_rows(conn: psycopg.Connection[Any]) -> list[VerificationRow]:
    """The verification table; empty when the migrated tables are not there yet.

    Read in the schema where the backend's tables are (contract.contract_schema), whatever else the
    search_path holds: one transaction with SET LOCAL search_path, the queries themselves stay plain.
    """
    from setup_wizard.database.drift import SESSION_SCAN

    state = live_state(conn)
    schema = state.schema
    scan = state.known((SESSION_SCAN, schema))
    with bounded_transaction(conn):
        conn.execute("SELECT set_config('search_path', quote_ident(%s), true)", [schema])
        return _rows(conn, schema, None if scan is None else int(scan.linked))


# Which of the verification's tables there are, asked in one statement (each was a round trip): the
# seed's two, has_session_link's question, the validated key, the memory tables and chat_messages. And JIT
# off for the transaction: its compilation costs more than it saves on these short queries (~0.1 s at 1M).
PRESENT_SQL = f"""SELECT to_regclass('chat_sessions') IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = to_regclass(format('%%I.%%I', %s::text, 'conversation_memories'))
                  AND attname = 'session_id' AND NOT attisdropped),
       ({USER_KEY_VALIDATED_SQL}),
       ARRAY(SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL),
       set_config('jit', 'off', true)"""


def _rows(conn: psycopg.Connection[Any], schema: str, linked: int | None) -> list[VerificationRow]:
    row = conn.execute(PRESENT_SQL, [schema, [*MEMORY_TABLES, "chat_messages"]]).fetchone()
    if not row or not row[0] or not row[1]:
        return []
    keyed, present = bool(row[2]), set(row[3])
    labels = {
        "chat_sessions": msg.VERIFY_CHAT_SESSIONS,
        "with": msg.VERIFY_WITH_SESSION,
        "without": msg.VERIFY_WITHOUT_SESSION,
    }
    # The memory tables and chat_messages there are, counted in the same statement (each was a round trip).
    others = [table for table in (*MEMORY_TABLES, "chat_messages") if table in present]
    query = VERIFY_SQL.format(linked_users=LINKED_USERS_BY_USER if keyed else LINKED_USERS_BY_MEMORY,
                              linked_memories=LINKED_MEMORIES if linked is None else f"{linked}::bigint")
    query += "".join(f"UNION ALL\n{_TABLE_COUNTS[table]}\n" for table in others)
    counted = {str(key): (int(total), int(users)) for key, total, users in conn.execute(query.encode("utf-8"))}
    rows = []
    for key in ("chat_sessions", "with", "without"):
        total, users = counted[key]
        rows.append(VerificationRow(labels[key], total, users, key != "without" or total == 0))
    for table in others:
        total, users = counted[table]
        rows.append(VerificationRow(table, total, users, True))
    return rows
