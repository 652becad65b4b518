"""The core contract as data: what the backend expects to find, and how the live catalog differs.

`CONTRACT` describes the objects sql/0001-0003 create (and the backend's SQLAlchemy models rely on):
tables with their columns, the enum, primary keys, indexes, foreign keys and triggers. `find_drift`
reads pg_attribute / pg_index / pg_constraint / pg_trigger once per kind and names every object that
is missing or different. Read-only; names are resolved through the search_path, as the migrations do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg

if TYPE_CHECKING:
    import psycopg

FAIL = "fail"
WARN = "warn"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() shows it
    not_null: bool | None = None  # None: the backend's ORM decides, not checked
    default: str | None = None  # as pg_get_expr() shows it; None: not checked


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # the sql/ file that creates it
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    keys: str  # the key list as pg_get_indexdef() shows it, e.g. "user_id, updated_at DESC"
    source: str


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None  # None: any name (PostgreSQL chose it)
    severity_missing: str
    source: str

    @property
    def label(self) -> str:
        return self.name or f"{self.table}({', '.join(self.columns)}) → {self.ref_table}"


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    function: str
    timing: str  # "BEFORE" or "AFTER"
    events: tuple[str, ...]  # events the trigger must at least fire on
    source: str


@dataclass(frozen=True)
class Contract:
    enum_name: str
    enum_labels: tuple[str, ...]
    tables: tuple[Table, ...]
    indexes: tuple[Index, ...]
    foreign_keys: tuple[ForeignKey, ...]
    triggers: tuple[Trigger, ...]
    counting_table: str  # exactly one trigger on it may maintain chat_sessions.message_count


P1, P2, P3 = "0001_prerequisites.sql", "0002_sessions.sql", "0003_chat_sessions.sql"
TZ = "timestamp with time zone"

CONTRACT = Contract(
    enum_name="usertype",
    enum_labels=("ADMIN", "USER", "AGENT"),
    tables=(
        Table("users", P1, (
            Column("id", "integer", True),
            Column("email", "character varying(200)", True),
            Column("type", "usertype", True),
            Column("is_active", "boolean"),
            Column("created_at", TZ),
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
            Column("created_at", TZ, True),
            Column("conversation_metadata", "jsonb"),
            Column("session_id", "character varying(100)", False),
        ), ("id",)),
        Table("sessions", P2, (
            Column("session_id", "character varying(100)", True),
            Column("user_id", "integer", False),
            Column("metadata", "text", False),
            Column("created_at", TZ, True, "now()"),
            Column("expires_at", TZ, True),
            Column("last_activity", TZ, True, "now()"),
            Column("request_count", "integer", True, "0"),
        ), ("session_id",)),
        Table("chat_sessions", P3, (
            Column("session_id", "character varying(100)", True),
            Column("user_id", "integer", True),
            Column("title", "character varying(200)", True, "'새 대화'::character varying"),
            Column("last_message", "text", False),
            Column("message_count", "integer", False, "0"),
            Column("created_at", TZ, True, "now()"),
            Column("updated_at", TZ, True, "now()"),
            Column("is_active", "boolean", False, "true"),
            Column("metadata", "jsonb", False),
        ), ("session_id",)),
    ),
    indexes=(
        Index("idx_expires_at", "sessions", "expires_at", P2),
        Index("idx_chat_sessions_user_id", "chat_sessions", "user_id", P3),
        Index("idx_chat_sessions_updated_at", "chat_sessions", "updated_at DESC", P3),
        Index("idx_chat_sessions_user_updated", "chat_sessions", "user_id, updated_at DESC", P3),
        Index("idx_conv_mem_session_id", "conversation_memories", "session_id", P3),
        Index("idx_conv_mem_session_created", "conversation_memories", "session_id, created_at DESC", P3),
    ),
    foreign_keys=(
        ForeignKey("conversation_memories", ("session_id",), "chat_sessions", ("session_id",),
                   "fk_conv_mem_session", FAIL, P3),
        ForeignKey("chat_sessions", ("user_id",), "users", ("id",), None, WARN, P3),
        ForeignKey("conversation_memories", ("user_id",), "users", ("id",), None, WARN, P1),
    ),
    triggers=(
        Trigger("trigger_update_chat_session_timestamp", "chat_sessions", "update_chat_session_timestamp",
                "BEFORE", ("UPDATE",), P3),
        Trigger("trigger_update_session_message_count", "conversation_memories", "update_session_message_count",
                "AFTER", ("INSERT",), P3),
    ),
    counting_table="conversation_memories",
)


@dataclass(frozen=True)
class Drift:
    """One object that is missing or not as the backend expects."""

    kind: str  # "tables", "indexes", "constraints", "triggers"
    name: str  # e.g. "chat_sessions.user_id", "idx_expires_at"
    message: str  # Korean, already formatted
    severity: str  # FAIL or WARN
    source: str  # the sql/ file that would create it


# pg_trigger.tgtype bits
_TG_ROW, _TG_BEFORE = 1, 2
_TG_EVENTS = {"INSERT": 4, "DELETE": 8, "UPDATE": 16}
_INDEX_KEYS = re.compile(r"USING \w+ \((?P<keys>.*)\)(?: WHERE .*)?$")


def _rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


def present_tables(conn: psycopg.Connection[Any], contract: Contract = CONTRACT) -> set[str]:
    names = [t.name for t in contract.tables]
    return {r[0] for r in _rows(conn, "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NOT NULL",
                                [names])}


def _table_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str]) -> list[Drift]:
    found: list[Drift] = []
    live: dict[tuple[str, str], tuple[str, bool, str | None]] = {}
    for table, column, type_, not_null, default in _rows(conn, """
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = to_regclass(t.name)
              JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum""",
                                                         [sorted(present)]):
        live[(table, column)] = (type_, not_null, default)
    pkeys: dict[str, tuple[str, ...]] = {}
    for table, columns in _rows(conn, """
            SELECT c.relname, array_agg(a.attname ORDER BY k.ord)
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = to_regclass(t.name)
              JOIN pg_constraint AS p ON p.conrelid = c.oid AND p.contype = 'p'
              CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
             GROUP BY c.relname""", [sorted(present)]):
        pkeys[table] = tuple(columns)

    for table in contract.tables:
        if table.name not in present:
            found.append(Drift("tables", table.name, msg.DRIFT_TABLE_MISSING.format(name=table.name), FAIL,
                               table.source))
            continue
        for col in table.columns:
            name = f"{table.name}.{col.name}"
            have = live.get((table.name, col.name))
            if have is None:
                found.append(Drift("tables", name, msg.DRIFT_COLUMN_MISSING.format(name=name), FAIL, table.source))
                continue
            type_, not_null, default = have
            if type_ != col.type:
                found.append(Drift("tables", name, msg.DRIFT_COLUMN_TYPE.format(
                    name=name, expected=col.type, actual=type_), FAIL, table.source))
            if col.not_null is not None and not_null != col.not_null:
                text = msg.DRIFT_COLUMN_NULLABLE if col.not_null else msg.DRIFT_COLUMN_NOT_NULL
                found.append(Drift("tables", name, text.format(name=name), WARN, table.source))
            if col.default is not None and default != col.default:
                text = msg.DRIFT_COLUMN_DEFAULT if default else msg.DRIFT_COLUMN_NO_DEFAULT
                found.append(Drift("tables", name, text.format(expected=col.default, actual=default), WARN,
                                   table.source))
        if pkeys.get(table.name) != table.primary_key:
            found.append(Drift("constraints", f"{table.name} PRIMARY KEY", msg.DRIFT_PRIMARY_KEY.format(
                name=table.name, expected=", ".join(table.primary_key),
                actual=", ".join(pkeys.get(table.name, ())) or msg.DRIFT_NONE), FAIL, table.source))

    labels = [r[0] for r in _rows(conn, "SELECT enumlabel FROM pg_enum WHERE enumtypid = to_regtype(%s)",
                                  [contract.enum_name])]
    missing_labels = [label for label in contract.enum_labels if label not in labels]
    if missing_labels:
        found.append(Drift("tables", contract.enum_name, msg.DRIFT_ENUM_LABELS.format(
            name=contract.enum_name, labels=", ".join(missing_labels)), FAIL, P1))
    return found


def _index_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str]) -> list[Drift]:
    found: list[Drift] = []
    live: dict[str, tuple[str, str]] = {}
    for name, table, definition in _rows(conn, """
            SELECT ic.relname, tc.relname, pg_get_indexdef(i.indexrelid)
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS tc ON tc.oid = to_regclass(t.name)
              JOIN pg_index AS i ON i.indrelid = tc.oid
              JOIN pg_class AS ic ON ic.oid = i.indexrelid""", [sorted(present)]):
        match = _INDEX_KEYS.search(definition)
        live[name] = (table, match.group("keys") if match else definition)
    for index in contract.indexes:
        if index.table not in present:
            continue  # reported with its table
        have = live.get(index.name)
        if have is None:
            found.append(Drift("indexes", index.name, msg.DRIFT_INDEX_MISSING.format(
                name=index.name, table=index.table, keys=index.keys), WARN, index.source))
        elif have != (index.table, index.keys):
            found.append(Drift("indexes", index.name, msg.DRIFT_INDEX_DIFFERENT.format(
                name=index.name, expected=f"{index.table} ({index.keys})", actual=f"{have[0]} ({have[1]})"),
                WARN, index.source))
    return found


def _foreign_key_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str]) -> list[Drift]:
    found: list[Drift] = []
    live = _rows(conn, """
        SELECT c.conname, src.relname, dst.relname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
               c.confdeltype, c.convalidated
          FROM unnest(%s::text[]) AS t(name)
          JOIN pg_constraint AS c ON c.conrelid = to_regclass(t.name) AND c.contype = 'f'
          JOIN pg_class AS src ON src.oid = c.conrelid
          JOIN pg_class AS dst ON dst.oid = c.confrelid""", [sorted(present)])
    for fk in contract.foreign_keys:
        if fk.table not in present or fk.ref_table not in present:
            continue
        candidates = [row for row in live if row[1] == fk.table and tuple(row[3]) == fk.columns]
        if fk.name is not None:
            named = [row for row in candidates if row[0] == fk.name]
            candidates = named or [row for row in live if row[0] == fk.name]
        if not candidates:
            found.append(Drift("constraints", fk.label, msg.DRIFT_FK_MISSING.format(
                name=fk.label, table=fk.table, columns=", ".join(fk.columns), ref=fk.ref_table),
                fk.severity_missing, fk.source))
            continue
        name, _src, ref_table, _cols, ref_cols, on_delete, validated = candidates[0]
        if ref_table != fk.ref_table or tuple(ref_cols) != fk.ref_columns or tuple(_cols) != fk.columns:
            found.append(Drift("constraints", name, msg.DRIFT_FK_TARGET.format(
                name=name, expected=f"{fk.ref_table}({', '.join(fk.ref_columns)})",
                actual=f"{ref_table}({', '.join(ref_cols)})"), FAIL, fk.source))
            continue
        if on_delete != "c":
            found.append(Drift("constraints", name, msg.DRIFT_FK_NO_CASCADE.format(name=name, ref=fk.ref_table),
                               WARN, fk.source))
        if not validated:
            found.append(Drift("constraints", name, msg.DRIFT_FK_NOT_VALID.format(name=name), WARN, fk.source))
    return found


def _trigger_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str]) -> list[Drift]:
    found: list[Drift] = []
    live: dict[tuple[str, str], tuple[int, str, str]] = {}
    for name, table, tgtype, enabled, function in _rows(conn, """
            SELECT tg.tgname, c.relname, tg.tgtype, tg.tgenabled, p.proname
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = to_regclass(t.name)
              JOIN pg_trigger AS tg ON tg.tgrelid = c.oid AND NOT tg.tgisinternal
              JOIN pg_proc AS p ON p.oid = tg.tgfoid""", [sorted(present)]):
        live[(table, name)] = (int(tgtype), str(enabled), function)
    for trigger in contract.triggers:
        if trigger.table not in present:
            continue
        have = live.get((trigger.table, trigger.name))
        if have is None:
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_MISSING.format(
                name=trigger.name, table=trigger.table), FAIL, trigger.source))
            continue
        tgtype, enabled, function = have
        timing = "BEFORE" if tgtype & _TG_BEFORE else "AFTER"
        missing_events = [e for e in trigger.events if not tgtype & _TG_EVENTS[e]]
        if function != trigger.function or timing != trigger.timing or missing_events or not tgtype & _TG_ROW:
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_DIFFERENT.format(
                name=trigger.name, expected=f"{trigger.timing} {' OR '.join(trigger.events)} → {trigger.function}()",
                actual=f"{timing} → {function}()"), FAIL, trigger.source))
        if enabled == "D":
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_DISABLED.format(name=trigger.name),
                               FAIL, trigger.source))
    if contract.counting_table in present:
        # The same test 0003 uses to drop duplicates: a trigger whose function maintains message_count.
        counting = [r[0] for r in _rows(conn, """
            SELECT tg.tgname FROM pg_trigger AS tg JOIN pg_proc AS p ON p.oid = tg.tgfoid
             WHERE tg.tgrelid = to_regclass(%s) AND NOT tg.tgisinternal AND tg.tgenabled <> 'D'
               AND (p.proname = 'update_session_message_count' OR p.prosrc ILIKE '%%message_count%%')
             ORDER BY 1""", [contract.counting_table])]
        if len(counting) > 1:
            found.append(Drift("triggers", ", ".join(counting), msg.DRIFT_COUNTING_TWICE.format(
                count=len(counting), names=", ".join(counting)), FAIL, P3))
    return found


def find_drift(conn: psycopg.Connection[Any], contract: Contract = CONTRACT) -> list[Drift]:
    """Every difference between the database and the contract, table by table. Read-only."""
    present = present_tables(conn, contract)
    return [
        *_table_drift(conn, contract, present),
        *_index_drift(conn, contract, present),
        *_foreign_key_drift(conn, contract, present),
        *_trigger_drift(conn, contract, present),
    ]


def object_counts(contract: Contract = CONTRACT) -> dict[str, int]:
    """How many objects each kind covers, for the "all as expected" lines."""
    return {
        "tables": len(contract.tables),
        "columns": sum(len(t.columns) for t in contract.tables),
        "indexes": len(contract.indexes),
        "constraints": len(contract.foreign_keys) + len(contract.tables),
        "triggers": len(contract.triggers),
    }
