"""The seed's verification table, with unique users really counted (the seed's counted sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.results import VerificationRow

if TYPE_CHECKING:
    import psycopg

# One scan of conversation_memories; DISTINCT through a hash aggregate rather than a sort.
VERIFY_SQL = """
WITH memories AS (
    SELECT session_id IS NOT NULL AS linked, count(*) AS total_rows
      FROM conversation_memories GROUP BY 1
), memory_users AS (
    SELECT linked, count(*) AS unique_users
      FROM (SELECT DISTINCT session_id IS NOT NULL AS linked, user_id FROM conversation_memories) AS d
     GROUP BY linked
)
SELECT 'chat_sessions', (SELECT count(*) FROM chat_sessions),
       (SELECT count(*) FROM (SELECT DISTINCT user_id FROM chat_sessions) AS d)
UNION ALL
SELECT 'with', coalesce((SELECT total_rows FROM memories WHERE linked), 0),
       coalesce((SELECT unique_users FROM memory_users WHERE linked), 0)
UNION ALL
SELECT 'without', coalesce((SELECT total_rows FROM memories WHERE NOT linked), 0),
       coalesce((SELECT unique_users FROM memory_users WHERE NOT linked), 0)
"""


def verification_rows(conn: psycopg.Connection[Any]) -> list[VerificationRow]:
    """The verification table; empty when the migrated tables are not there yet."""
    row = conn.execute(
        """SELECT to_regclass('chat_sessions') IS NOT NULL
                  AND EXISTS (SELECT 1 FROM pg_attribute
                               WHERE attrelid = to_regclass('conversation_memories')
                                 AND attname = 'session_id' AND NOT attisdropped)"""
    ).fetchone()
    if not row or not row[0]:
        return []
    labels = {
        "chat_sessions": msg.VERIFY_CHAT_SESSIONS,
        "with": msg.VERIFY_WITH_SESSION,
        "without": msg.VERIFY_WITHOUT_SESSION,
    }
    rows = []
    for key, total, users in conn.execute(VERIFY_SQL):
        healthy = key != "without" or total == 0
        rows.append(VerificationRow(labels[key], int(total), int(users), healthy))
    return rows
