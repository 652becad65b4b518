"""The one place that states what must exist in the database for the backend.

`CONTRACT` describes the objects sql/0001-0005 create and the backend relies on: tables with their
columns, the enum, primary keys, unique keys, indexes, foreign keys, triggers, and the LangGraph
checkpoint tables the backend makes itself (`CHECKPOINT_TABLES`), plus what makes a trigger count
messages into chat_sessions (`COUNTING_PATTERN`). Only data and pure helpers live here, no queries:
database/live_schema.py answers the questions several modules ask the live database about these
objects, and database/drift.py is the contract check that compares them with the catalog.

A database made by the backend's own models satisfies the contract: an index counts by its columns
(ascending or descending alike, under any name), a foreign key by what it links (under any name),
and defaults that the models set in Python are not required of the database.
"""

from __future__ import annotations

import re

from setup_wizard.record import record

FAIL = "fail"
WARN = "warn"


@record
class Column:
    name: str
    type: str  # as format_type() shows it
    not_null: bool | None = None  # None: the backend's ORM decides, not checked
    default: str | None = None  # as pg_get_expr() shows it; used when the column is added
    check_default: bool = True  # False: the models set it in Python, the database need not
    source: str | None = None  # the file that adds the column, when not the table's own


@record
class Table:
    name: str
    source: str  # the sql/ file that creates it
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@record
class Index:
    name: str
    table: str
    keys: str  # the key list as pg_get_indexdef() shows it, e.g. "user_id, updated_at DESC"
    source: str

    @property
    def columns(self) -> tuple[str, ...]:
        return index_columns(self.keys)


@record
class Unique:
    table: str
    columns: tuple[str, ...]
    name: str | None  # None: any name (the models' user_preferences_user_id_key, or ours)
    source: str

    @property
    def label(self) -> str:
        return self.name or f"{self.table}({', '.join(self.columns)}) UNIQUE"


@record(eq=True)
class ForeignKey:
    """A foreign key the backend needs, and how serious its absence is."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None  # the name we create it under; None: PostgreSQL chooses. Any name satisfies it.
    severity_missing: str
    source: str

    @property
    def label(self) -> str:
        return self.name or f"{self.table}({', '.join(self.columns)}) → {self.ref_table}"


@record
class Trigger:
    name: str
    table: str
    function: str
    timing: str  # "BEFORE" or "AFTER"
    events: tuple[str, ...]  # events the trigger must at least fire on
    source: str


@record
class Contract:
    enum_name: str
    enum_labels: tuple[str, ...]
    tables: tuple[Table, ...]
    indexes: tuple[Index, ...]
    uniques: tuple[Unique, ...]
    foreign_keys: tuple[ForeignKey, ...]
    triggers: tuple[Trigger, ...]
    counting_table: str  # exactly one trigger on it may count messages into chat_sessions

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


P1, P2, P3, P4 = "0001_prerequisites.sql", "0002_sessions.sql", "0003_chat_sessions.sql", "0004_memory_tables.sql"
P5 = "0005_chat_messages.sql"
TZ = "timestamp with time zone"

# LangGraph's PostgresSaver makes these itself (database/checkpoints.py can run its setup() early).
CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")

# What makes a trigger function "count messages into chat_sessions": an UPDATE of chat_sessions whose
# SET list (up to the statement's end) writes message_count. A POSIX regular expression for `~*`,
# so the catalog answers it; sql/0003_chat_sessions.sql carries the same text (a test keeps them equal).
COUNTING_PATTERN = r'update\s+(only\s+)?("?\w+"?\.)?"?chat_sessions"?\s+(as\s+\w+\s+)?set\s[^;]*message_count'
COUNTING_TRIGGER = "trigger_update_session_message_count"

# When do a session's counters disagree with its memories? sql/0003_chat_sessions.sql brings them in line
# with exactly this text (a test keeps them equal); database/drift.py counts the sessions it finds.
# COUNTED_SESSIONS: every chat session with its number of memories and the newest one's time, in one
# aggregate over conversation_memories. COUNTERS_DISAGREE, over a session `s` and its row `c`: the count
# differs, or last_message is not the newest memory's (any of them, when several share that time). A
# session without memories keeps its last_message.
# SESSION_MEMORIES is that aggregate alone (a session id per row, also ids no session has).
SESSION_MEMORIES = """SELECT session_id, count(*) AS n, max(created_at) AS last_at
                       FROM conversation_memories
                      WHERE session_id IS NOT NULL
                      GROUP BY session_id"""
COUNTED_SESSIONS_OF = """SELECT cs.session_id, coalesce(a.n, 0) AS n, a.last_at
          FROM chat_sessions AS cs
          LEFT JOIN {memories} AS a ON a.session_id = cs.session_id"""
COUNTED_SESSIONS = COUNTED_SESSIONS_OF.format(memories=f"({SESSION_MEMORIES})")
COUNTERS_DISAGREE = """(s.message_count IS DISTINCT FROM c.n
        OR (c.n > 0 AND NOT EXISTS (SELECT 1 FROM conversation_memories AS m
                                     WHERE m.session_id = s.session_id AND m.created_at = c.last_at
                                       AND left(m.query, 100) IS NOT DISTINCT FROM s.last_message)))"""

CONTRACT = Contract(
    enum_name="usertype",
    enum_labels=("ADMIN", "USER", "AGENT"),
    tables=(
        Table("users", P1, (
            Column("id", "integer", True),
            Column("email", "character varying(200)", True),
            Column("type", "usertype", True),
            Column("is_active", "boolean", None, "true", check_default=False),
            Column("created_at", TZ, None, "now()", check_default=False),
            Column("updated_at", TZ),
        ), ("id",)),
        Table("conversation_memories", P1, (
            Column("id", "uuid", True),
            Column("user_id", "integer", True),
            Column("query", "text", True),
            Column("response_summary", "text", True),
            Column("relevance", "character varying(20)", True),
            Column("intent_detected", "character varying(50)"),
            Column("entities_mentioned", "jsonb"),
            Column("created_at", TZ, True, "now()", check_default=False),
            Column("conversation_metadata", "jsonb"),
            # Added by 0003 together with the sessions for the memories that existed before.
            Column("session_id", "character varying(100)", False, source=P3),
        ), ("id",)),
        Table("sessions", P2, (
            Column("session_id", "character varying(100)", True),
            Column("user_id", "integer", False),
            Column("metadata", "text", False),
            Column("created_at", TZ, True, "now()"),
            Column("expires_at", TZ, True),
            Column("last_activity", TZ, True, "now()"),
            Column("request_count", "integer", True, "0", check_default=False),
        ), ("session_id",)),
        Table("chat_sessions", P3, (
            Column("session_id", "character varying(100)", True),
            Column("user_id", "integer", True),
            Column("title", "character varying(200)", True, "'새 대화'::character varying", check_default=False),
            Column("last_message", "text", False),
            Column("message_count", "integer", False, "0", check_default=False),
            Column("created_at", TZ, True, "now()"),
            Column("updated_at", TZ, True, "now()"),
            Column("is_active", "boolean", False, "true", check_default=False),
            Column("metadata", "jsonb", False),
        ), ("session_id",)),
        Table("user_preferences", P4, (
            Column("id", "integer", True),
            Column("user_id", "integer", True),
            Column("preferences", "jsonb", True, "'{}'::jsonb", check_default=False),
            Column("created_at", TZ, True, "now()"),
            Column("updated_at", TZ, None, "now()"),
        ), ("id",)),
        Table("entity_memories", P4, (
            Column("id", "uuid", True),
            Column("user_id", "integer", True),
            Column("entity_type", "character varying(50)", True),
            Column("entity_id", "character varying(100)", True),
            Column("entity_name", "character varying(200)"),
            Column("mention_count", "integer", None, "1", check_default=False),
            Column("first_mentioned_at", TZ, True, "now()"),
            Column("last_mentioned_at", TZ, None, "now()"),
            Column("entity_context", "jsonb"),
        ), ("id",)),
        # ChatSession.messages (app/models/chat.py); the models give id its value in Python (uuid4).
        Table("chat_messages", P5, (
            Column("id", "uuid", True, "gen_random_uuid()", check_default=False),
            Column("session_id", "character varying(100)", True),
            Column("sender_type", "character varying(20)", True),
            Column("content", "text", True),
            Column("created_at", TZ, None, "now()"),
        ), ("id",)),
    ),
    indexes=(
        Index("idx_expires_at", "sessions", "expires_at", P2),
        Index("idx_chat_sessions_user_id", "chat_sessions", "user_id", P3),
        Index("idx_chat_sessions_updated_at", "chat_sessions", "updated_at DESC", P3),
        Index("idx_chat_sessions_user_updated", "chat_sessions", "user_id, updated_at DESC", P3),
        Index("idx_conv_mem_session_id", "conversation_memories", "session_id", P3),
        Index("idx_conv_mem_session_created", "conversation_memories", "session_id, created_at DESC", P3),
        Index("idx_entity_mem_user_type", "entity_memories", "user_id, entity_type", P4),
        Index("idx_entity_mem_entity", "entity_memories", "entity_type, entity_id", P4),
        Index("idx_conv_mem_relevance", "conversation_memories", "relevance", P4),
        Index("idx_chat_messages_session_id", "chat_messages", "session_id", P5),
    ),
    uniques=(
        Unique("user_preferences", ("user_id",), None, P4),
        Unique("entity_memories", ("user_id", "entity_type", "entity_id"), "uq_user_entity", P4),
    ),
    foreign_keys=(
        ForeignKey("conversation_memories", ("session_id",), "chat_sessions", ("session_id",),
                   "fk_conv_mem_session", FAIL, P3),
        ForeignKey("chat_sessions", ("user_id",), "users", ("id",), None, WARN, P3),
        ForeignKey("conversation_memories", ("user_id",), "users", ("id",), None, WARN, P1),
        ForeignKey("user_preferences", ("user_id",), "users", ("id",), None, WARN, P4),
        ForeignKey("entity_memories", ("user_id",), "users", ("id",), None, WARN, P4),
        # Deleting a chat session deletes its messages (the models' name: chat_messages_session_id_fkey).
        ForeignKey("chat_messages", ("session_id",), "chat_sessions", ("session_id",), None, WARN, P5),
    ),
    triggers=(
        Trigger("trigger_update_chat_session_timestamp", "chat_sessions", "update_chat_session_timestamp",
                "BEFORE", ("UPDATE",), P3),
        Trigger(COUNTING_TRIGGER, "conversation_memories", "update_session_message_count",
                "AFTER", ("INSERT",), P3),
    ),
    counting_table="conversation_memories",
)


_KEY_ORDER = re.compile(r"\s+(ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?$|\s+NULLS\s+(FIRST|LAST)$", re.IGNORECASE)


def index_columns(keys: str) -> tuple[str, ...]:
    """The key list without ASC/DESC: a B-tree serves either order, so both satisfy the contract."""
    return tuple(_KEY_ORDER.sub("", key.strip()).strip('"') for key in keys.split(","))


def object_counts(contract: Contract = CONTRACT) -> dict[str, int]:
    """How many objects each kind covers, for the "all as expected" lines."""
    return {
        "tables": len(contract.tables),
        "columns": sum(len(t.columns) for t in contract.tables),
        "indexes": len(contract.indexes),
        "constraints": len(contract.foreign_keys) + len(contract.tables) + len(contract.uniques),
        "triggers": len(contract.triggers),
    }
