"""The one place that states what must exist, and how the live catalog differs from it.

`CONTRACT` describes the objects sql/0001-0004 create and the backend relies on: tables with their
columns, the enum, primary keys, unique keys, indexes, foreign keys, triggers, and the LangGraph
checkpoint tables the backend makes itself. `find_drift` reads the catalog of one schema (the one
`contract_schema` finds) and names every object that is missing or different.

A database made by the backend's own models satisfies the contract: an index counts by its columns
(ascending or descending alike, under any name), a foreign key by what it links (under any name),
and defaults that the models set in Python are not required of the database.

The two questions several modules ask are answered here once: `has_session_link` (does
conversation_memories.session_id exist) and `counting_triggers` (which triggers count messages
into chat_sessions). Read-only throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from setup_wizard import messages as msg
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

FAIL = "fail"
WARN = "warn"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() shows it
    not_null: bool | None = None  # None: the backend's ORM decides, not checked
    default: str | None = None  # as pg_get_expr() shows it; used when the column is added
    check_default: bool = True  # False: the models set it in Python, the database need not
    source: str | None = None  # the file that adds the column, when not the table's own


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # the sql/ file that creates it
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    keys: str  # the key list as pg_get_indexdef() shows it, e.g. "user_id, updated_at DESC"
    source: str

    @property
    def columns(self) -> tuple[str, ...]:
        return index_columns(self.keys)


@dataclass(frozen=True)
class Unique:
    table: str
    columns: tuple[str, ...]
    name: str | None  # None: any name (the models' user_preferences_user_id_key, or ours)
    source: str

    @property
    def label(self) -> str:
        return self.name or f"{self.table}({', '.join(self.columns)}) UNIQUE"


@dataclass(frozen=True)
class ForeignKey:
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
    uniques: tuple[Unique, ...]
    foreign_keys: tuple[ForeignKey, ...]
    triggers: tuple[Trigger, ...]
    counting_table: str  # exactly one trigger on it may count messages into chat_sessions

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


P1, P2, P3, P4 = "0001_prerequisites.sql", "0002_sessions.sql", "0003_chat_sessions.sql", "0004_memory_tables.sql"
TZ = "timestamp with time zone"

# LangGraph's PostgresSaver makes these itself (database/checkpoints.py can run its setup() early).
CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")

# What makes a trigger function "count messages into chat_sessions": an UPDATE of chat_sessions whose
# SET list (up to the statement's end) writes message_count. A POSIX regular expression for `~*`,
# so the catalog answers it; sql/0003_chat_sessions.sql carries the same text (a test keeps them equal).
COUNTING_PATTERN = r'update\s+(only\s+)?("?\w+"?\.)?"?chat_sessions"?\s+(as\s+\w+\s+)?set\s[^;]*message_count'
COUNTING_TRIGGER = "trigger_update_session_message_count"

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
    ),
    triggers=(
        Trigger("trigger_update_chat_session_timestamp", "chat_sessions", "update_chat_session_timestamp",
                "BEFORE", ("UPDATE",), P3),
        Trigger(COUNTING_TRIGGER, "conversation_memories", "update_session_message_count",
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
    # What exactly differs, for database/repair.py: e.g. "column_missing", "fk_no_cascade".
    code: str = field(default="", compare=False)
    target: Any = field(default=None, compare=False)  # the contract object (Table, Column, Index, ...)
    live: tuple[str, ...] = field(default=(), compare=False)  # the live objects' names involved


# pg_trigger.tgtype bits
_TG_ROW, _TG_BEFORE = 1, 2
_TG_EVENTS = {"INSERT": 4, "DELETE": 8, "UPDATE": 16}
_INDEX_KEYS = re.compile(r"USING \w+ \((?P<keys>.*)\)(?: WHERE .*)?$")
_KEY_ORDER = re.compile(r"\s+(ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?$|\s+NULLS\s+(FIRST|LAST)$", re.IGNORECASE)


def index_columns(keys: str) -> tuple[str, ...]:
    """The key list without ASC/DESC: a B-tree serves either order, so both satisfy the contract."""
    return tuple(_KEY_ORDER.sub("", key.strip()).strip('"') for key in keys.split(","))


def _rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


# --- where the contract lives -------------------------------------------------------------------------

def contract_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema the backend's tables are in: where `users` (else `conversation_memories`) resolves
    through the search_path, as the backend's unqualified queries resolve it; else current_schema()."""
    row = conn.execute("""
        SELECT coalesce(
            (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
              WHERE c.oid = coalesce(to_regclass('users'), to_regclass('conversation_memories'))),
            current_schema(), 'public')""").fetchone()
    return str(row[0]) if row else "public"


def _schema(conn: psycopg.Connection[Any], schema: str | None) -> str:
    return schema if schema is not None else contract_schema(conn)


@dataclass(frozen=True)
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
    """`check`'s search_path item: OK, or a warning naming each shadowed table and the fix."""
    schema = contract_schema(conn)
    shadows = shadowed_tables(conn)
    path_row = conn.execute("SELECT current_setting('search_path')").fetchone()
    path = str(path_row[0]) if path_row else ""
    if not shadows:
        return Step("search_path", Status.OK, msg.STEP_SEARCH_PATH, msg.SEARCH_PATH_OK.format(schema=schema, path=path))
    lines = [msg.SEARCH_PATH_SHADOW.format(table=s.table, schemas=", ".join(s.schemas), first=s.schemas[0])
             for s in shadows]
    path = quote_ident(schema) if schema == "public" else f"{quote_ident(schema)}, public"
    fix = msg.FIX_SEARCH_PATH.format(user=quote_ident(user), path=path)
    return Step("search_path", Status.WARN, msg.STEP_SEARCH_PATH, "\n".join(lines), "search_path_shadow", fix)


def quote_ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


# --- the two shared questions ---------------------------------------------------------------------------

def has_session_link(conn: psycopg.Connection[Any], schema: str | None = None) -> bool:
    """Does conversation_memories.session_id exist (in the contract's schema)?"""
    row = conn.execute("""
        SELECT EXISTS (SELECT 1 FROM pg_attribute
                        WHERE attrelid = to_regclass(format('%%I.%%I', %s::text, 'conversation_memories'))
                          AND attname = 'session_id' AND NOT attisdropped)""", [_schema(conn, schema)]).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
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


# --- drift ------------------------------------------------------------------------------------------------

_QUAL = "to_regclass(format('%%I.%%I', %s::text, t.name))"


def present_tables(conn: psycopg.Connection[Any], contract: Contract = CONTRACT, schema: str | None = None) -> set[str]:
    names = [t.name for t in contract.tables]
    return {r[0] for r in _rows(conn, """
        SELECT t.name FROM unnest(%s::text[]) AS t(name)
         WHERE to_regclass(format('%%I.%%I', %s::text, t.name)) IS NOT NULL""", [names, _schema(conn, schema)])}


def _table_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str], schema: str) -> list[Drift]:
    found: list[Drift] = []
    live: dict[tuple[str, str], tuple[str, bool, str | None]] = {}
    for table, column, type_, not_null, default in _rows(conn, f"""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = {_QUAL}
              JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum""",
                                                         [sorted(present), schema]):
        live[(table, column)] = (type_, not_null, default)
    pkeys: dict[str, tuple[str, ...]] = {}
    for table, columns in _rows(conn, f"""
            SELECT c.relname, array_agg(a.attname ORDER BY k.ord)
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = {_QUAL}
              JOIN pg_constraint AS p ON p.conrelid = c.oid AND p.contype = 'p'
              CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
             GROUP BY c.relname""", [sorted(present), schema]):
        pkeys[table] = tuple(columns)

    for table in contract.tables:
        if table.name not in present:
            found.append(Drift("tables", table.name, msg.DRIFT_TABLE_MISSING.format(name=table.name), FAIL,
                               table.source, "table_missing", table))
            continue
        for col in table.columns:
            name = f"{table.name}.{col.name}"
            have = live.get((table.name, col.name))
            if have is None:
                found.append(Drift("tables", name, msg.DRIFT_COLUMN_MISSING.format(name=name), FAIL,
                                   col.source or table.source, "column_missing", (table, col)))
                continue
            type_, not_null, default = have
            # A domain or the enum in another schema shows qualified; compare the bare name.
            if type_.rsplit(".", 1)[-1].strip('"') != col.type:
                found.append(Drift("tables", name, msg.DRIFT_COLUMN_TYPE.format(
                    name=name, expected=col.type, actual=type_), FAIL, table.source, "column_type", (table, col)))
            if col.not_null is not None and not_null != col.not_null:
                text, code = ((msg.DRIFT_COLUMN_NULLABLE, "column_nullable") if col.not_null
                              else (msg.DRIFT_COLUMN_NOT_NULL, "column_not_null"))
                found.append(Drift("tables", name, text.format(name=name), WARN, table.source, code, (table, col)))
            if col.default is not None and col.check_default and default != col.default:
                text = msg.DRIFT_COLUMN_DEFAULT if default else msg.DRIFT_COLUMN_NO_DEFAULT
                found.append(Drift("tables", name, text.format(expected=col.default, actual=default), WARN,
                                   table.source, "column_default", (table, col)))
        if pkeys.get(table.name) != table.primary_key:
            found.append(Drift("constraints", f"{table.name} PRIMARY KEY", msg.DRIFT_PRIMARY_KEY.format(
                name=table.name, expected=", ".join(table.primary_key),
                actual=", ".join(pkeys.get(table.name, ())) or msg.DRIFT_NONE), FAIL, table.source,
                "primary_key", table))

    labels = [r[0] for r in _rows(conn, """
        SELECT e.enumlabel FROM pg_enum AS e
         WHERE e.enumtypid = coalesce(to_regtype(format('%%I.%%I', %s::text, %s::text)), to_regtype(%s))""",
                                  [schema, contract.enum_name, contract.enum_name])]
    missing_labels = [label for label in contract.enum_labels if label not in labels]
    if missing_labels and "users" in present:
        found.append(Drift("tables", contract.enum_name, msg.DRIFT_ENUM_LABELS.format(
            name=contract.enum_name, labels=", ".join(missing_labels)), FAIL, P1, "enum_labels",
            tuple(missing_labels)))
    return found


def _live_indexes(conn: psycopg.Connection[Any], present: set[str], schema: str
                  ) -> list[tuple[str, str, str, bool, bool]]:
    """(index, table, key list, unique, plain) for every index on the present tables."""
    rows = []
    for name, table, definition, unique, plain in _rows(conn, f"""
            SELECT ic.relname, tc.relname, pg_get_indexdef(i.indexrelid), i.indisunique,
                   i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS tc ON tc.oid = {_QUAL}
              JOIN pg_index AS i ON i.indrelid = tc.oid
              JOIN pg_class AS ic ON ic.oid = i.indexrelid""", [sorted(present), schema]):
        match = _INDEX_KEYS.search(definition)
        rows.append((name, table, match.group("keys") if match else definition, bool(unique), bool(plain)))
    return rows


def _index_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str], schema: str) -> list[Drift]:
    found: list[Drift] = []
    live = _live_indexes(conn, present, schema)
    by_name = {name: (table, keys) for name, table, keys, _u, _p in live}
    for index in contract.indexes:
        if index.table not in present:
            continue  # reported with its table
        # Any plain index on the same columns serves the backend's queries (the models' are ascending).
        if any(table == index.table and index_columns(keys) == index.columns and plain
               for _n, table, keys, _u, plain in live):
            continue
        have = by_name.get(index.name)
        if have is None:
            found.append(Drift("indexes", index.name, msg.DRIFT_INDEX_MISSING.format(
                name=index.name, table=index.table, keys=index.keys), WARN, index.source, "index_missing", index))
        else:
            found.append(Drift("indexes", index.name, msg.DRIFT_INDEX_DIFFERENT.format(
                name=index.name, expected=f"{index.table} ({index.keys})", actual=f"{have[0]} ({have[1]})"),
                WARN, index.source, "index_different", index))
    for unique in contract.uniques:
        if unique.table not in present:
            continue
        if any(table == unique.table and is_unique and plain and set(index_columns(keys)) == set(unique.columns)
               for _n, table, keys, is_unique, plain in live):
            continue
        found.append(Drift("constraints", unique.label, msg.DRIFT_UNIQUE_MISSING.format(
            table=unique.table, columns=", ".join(unique.columns)), WARN, unique.source, "unique_missing", unique))
    return found


@dataclass(frozen=True)
class LiveForeignKey:
    name: str
    table: str
    ref_table: str
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    on_delete: str  # pg_constraint.confdeltype: "c" is CASCADE
    validated: bool


def live_foreign_keys(conn: psycopg.Connection[Any], tables: list[str], schema: str) -> list[LiveForeignKey]:
    return [LiveForeignKey(name, src, dst, tuple(cols), tuple(ref_cols), on_delete, validated)
            for name, src, dst, cols, ref_cols, on_delete, validated in _rows(conn, f"""
        SELECT c.conname, src.relname, dst.relname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
               c.confdeltype, c.convalidated
          FROM unnest(%s::text[]) AS t(name)
          JOIN pg_constraint AS c ON c.conrelid = {_QUAL} AND c.contype = 'f'
          JOIN pg_class AS src ON src.oid = c.conrelid
          JOIN pg_class AS dst ON dst.oid = c.confrelid
         ORDER BY c.conname""", [sorted(tables), schema])]


def matching_foreign_keys(fk: ForeignKey, live: list[LiveForeignKey]) -> list[LiveForeignKey]:
    """The live keys that do this key's job, whatever their names."""
    return [row for row in live if row.table == fk.table and row.columns == fk.columns
            and row.ref_table == fk.ref_table and row.ref_columns == fk.ref_columns]


def _foreign_key_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str],
                       schema: str) -> list[Drift]:
    found: list[Drift] = []
    live = live_foreign_keys(conn, sorted(present), schema)
    for fk in contract.foreign_keys:
        if fk.table not in present or fk.ref_table not in present:
            continue
        matching = matching_foreign_keys(fk, live)
        if not matching:
            elsewhere = [row for row in live if row.table == fk.table and row.columns == fk.columns]
            if elsewhere:
                row = elsewhere[0]
                found.append(Drift("constraints", row.name, msg.DRIFT_FK_TARGET.format(
                    name=row.name, expected=f"{fk.ref_table}({', '.join(fk.ref_columns)})",
                    actual=f"{row.ref_table}({', '.join(row.ref_columns)})"), FAIL, fk.source, "fk_target", fk,
                    (row.name,)))
            else:
                found.append(Drift("constraints", fk.label, msg.DRIFT_FK_MISSING.format(
                    name=fk.label, table=fk.table, columns=", ".join(fk.columns), ref=fk.ref_table),
                    fk.severity_missing, fk.source, "fk_missing", fk))
            continue
        if len(matching) > 1:
            names = tuple(row.name for row in matching)
            found.append(Drift("constraints", ", ".join(names), msg.DRIFT_FK_DUPLICATE.format(
                count=len(names), names=", ".join(names), table=fk.table, columns=", ".join(fk.columns),
                ref=fk.ref_table), WARN, fk.source, "fk_duplicate", fk, names))
        for row in matching:
            if row.on_delete != "c":
                found.append(Drift("constraints", row.name, msg.DRIFT_FK_NO_CASCADE.format(
                    name=row.name, ref=fk.ref_table), WARN, fk.source, "fk_no_cascade", fk, (row.name,)))
            if not row.validated:
                found.append(Drift("constraints", row.name, msg.DRIFT_FK_NOT_VALID_ROWS.format(
                    table=fk.table, ref=fk.ref_table), WARN, fk.source, "fk_not_valid", fk, (row.name,)))
    return found


def _trigger_drift(conn: psycopg.Connection[Any], contract: Contract, present: set[str], schema: str) -> list[Drift]:
    found: list[Drift] = []
    live: dict[tuple[str, str], tuple[int, str, str]] = {}
    for name, table, tgtype, enabled, function in _rows(conn, f"""
            SELECT tg.tgname, c.relname, tg.tgtype, tg.tgenabled, p.proname
              FROM unnest(%s::text[]) AS t(name)
              JOIN pg_class AS c ON c.oid = {_QUAL}
              JOIN pg_trigger AS tg ON tg.tgrelid = c.oid AND NOT tg.tgisinternal
              JOIN pg_proc AS p ON p.oid = tg.tgfoid""", [sorted(present), schema]):
        live[(table, name)] = (int(tgtype), str(enabled), function)
    for trigger in contract.triggers:
        if trigger.table not in present:
            continue
        have = live.get((trigger.table, trigger.name))
        if have is None:
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_MISSING.format(
                name=trigger.name, table=trigger.table), FAIL, trigger.source, "trigger_missing", trigger))
            continue
        tgtype, enabled, function = have
        timing = "BEFORE" if tgtype & _TG_BEFORE else "AFTER"
        missing_events = [e for e in trigger.events if not tgtype & _TG_EVENTS[e]]
        if function != trigger.function or timing != trigger.timing or missing_events or not tgtype & _TG_ROW:
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_DIFFERENT.format(
                name=trigger.name, expected=f"{trigger.timing} {' OR '.join(trigger.events)} → {trigger.function}()",
                actual=f"{timing} → {function}()"), FAIL, trigger.source, "trigger_different", trigger))
        if enabled == "D":
            found.append(Drift("triggers", trigger.name, msg.DRIFT_TRIGGER_DISABLED.format(name=trigger.name),
                               FAIL, trigger.source, "trigger_disabled", trigger))
    if contract.counting_table in present and "chat_sessions" in present:
        counting = [t.name for t in counting_triggers(conn, schema, contract) if t.enabled]
        if len(counting) > 1:
            found.append(Drift("triggers", ", ".join(counting), msg.DRIFT_COUNTING_TWICE.format(
                count=len(counting), names=", ".join(counting)), FAIL, P3, "counting_twice", None, tuple(counting)))
    return found


def find_drift(conn: psycopg.Connection[Any], contract: Contract = CONTRACT, schema: str | None = None) -> list[Drift]:
    """Every difference between the database and the contract, table by table. Read-only.

    `schema`: where to look; by default where the backend's tables are (`contract_schema`).
    """
    where = _schema(conn, schema)
    present = present_tables(conn, contract, where)
    return [
        *_table_drift(conn, contract, present, where),
        *_index_drift(conn, contract, present, where),
        *_foreign_key_drift(conn, contract, present, where),
        *_trigger_drift(conn, contract, present, where),
    ]


def object_counts(contract: Contract = CONTRACT) -> dict[str, int]:
    """How many objects each kind covers, for the "all as expected" lines."""
    return {
        "tables": len(contract.tables),
        "columns": sum(len(t.columns) for t in contract.tables),
        "indexes": len(contract.indexes),
        "constraints": len(contract.foreign_keys) + len(contract.tables) + len(contract.uniques),
        "triggers": len(contract.triggers),
    }
