"""The contract check: every object the live catalog lacks or holds differently from the contract.

`find_drift` reads the catalog of one schema (the one live_schema.contract_schema finds) and returns a
`Drift` for each table, column, primary key, enum label, index, unique key, foreign key and trigger
that is missing or different, with a severity (contract.FAIL or WARN), the sql/ file that would make
it, and a code that database/repair.py turns into a repair. The live foreign keys are read here too,
since the repairs compare the same rows. Read-only throughout.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import TYPE_CHECKING, Any

from setup_wizard.database.contract import (
    CONTRACT,
    COUNTED_SESSIONS_OF,
    COUNTERS_DISAGREE,
    FAIL,
    P1,
    P3,
    SESSION_MEMORIES,
    WARN,
    Contract,
    ForeignKey,
    index_columns,
)
from setup_wizard.database.live_schema import LiveState, counting_triggers, has_session_link, live_state, present_tables
from setup_wizard.messages import schema as msg
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg


@record(eq=True)
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


def _rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


# Each contract table `t.name` in the schema passed as the query's second parameter.
_QUAL = "to_regclass(format('%%I.%%I', %s::text, t.name))"


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


@record
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


# How many sessions disagree, and one of them: one aggregate over conversation_memories (the text
# sql/0003_chat_sessions.sql uses to bring them in line), an index probe per session for last_message.
# The same aggregate also sums the memories that have a session: the verification's "with a session"
# row (database/verify.py) takes that number instead of counting every memory again.
COUNTERS_SQL = f"""WITH memories AS ({SESSION_MEMORIES})
SELECT (SELECT coalesce(sum(n), 0) FROM memories), count(s.session_id), min(s.session_id)
  FROM chat_sessions AS s
  JOIN ({COUNTED_SESSIONS_OF.format(memories="memories")}) AS c ON c.session_id = s.session_id
   AND {COUNTERS_DISAGREE}"""

# The state's fact (live_schema.LiveState) holding the scan's numbers, by schema.
SESSION_SCAN = "session_scan"


@record
class SessionScan:
    """What the one aggregate over the memories found."""

    linked: int  # memories with a session_id
    disagree: int  # sessions whose message_count / last_message disagree with their memories
    example: str | None  # one of them


# The columns the counters query reads: asked only when each is there with the contract's type.
_COUNTER_COLUMNS = {"chat_sessions.session_id", "chat_sessions.message_count", "chat_sessions.last_message",
                    "conversation_memories.session_id", "conversation_memories.query",
                    "conversation_memories.created_at"}


def _counter_drift(conn: psycopg.Connection[Any], present: set[str], schema: str,
                   table_drift: list[Drift]) -> tuple[list[Drift], SessionScan | None]:
    """Sessions whose message_count / last_message disagree with their memories (a create_all database
    whose counts were set in Python, memories saved before the counting trigger existed)."""
    if not {"chat_sessions", "conversation_memories"} <= present or not has_session_link(conn, schema):
        return [], None
    if any(d.code in ("column_missing", "column_type") and d.name in _COUNTER_COLUMNS for d in table_drift):
        return [], None  # reported as such; the counts are judged once the columns are right
    with conn.transaction():
        # The tables of `schema` by their plain names, as 0003 reads them; JIT costs more than it saves here.
        conn.execute("SELECT set_config('search_path', quote_ident(%s), true), set_config('jit', 'off', true)",
                     [schema])
        row = conn.execute(COUNTERS_SQL).fetchone()
    scan = SessionScan(int(row[0]), int(row[1]), row[2]) if row else SessionScan(0, 0, None)
    if not scan.disagree:
        return [], scan
    return [Drift("triggers", "chat_sessions.message_count", msg.DRIFT_COUNTERS.format(
        count=f"{scan.disagree:,}", example=scan.example), WARN, P3, "counters_disagree")], scan


def _catalog_drift(conn: psycopg.Connection[Any], contract: Contract, where: str
                   ) -> tuple[set[str], list[Drift], list[Drift]]:
    present = present_tables(conn, contract, where)
    tables = _table_drift(conn, contract, present, where)
    return present, tables, [
        *_index_drift(conn, contract, present, where),
        *_foreign_key_drift(conn, contract, present, where),
        *_trigger_drift(conn, contract, present, where),
    ]


def find_drift(conn: psycopg.Connection[Any], contract: Contract = CONTRACT, schema: str | None = None,
               counters: bool = True) -> list[Drift]:
    """Every difference between the database and the contract, table by table. Read-only.

    `schema`: where to look; by default where the backend's tables are (`contract_schema`).
    `counters`: also count the sessions whose counters disagree with their memories. That one reads every
    memory's index entry (about 0.25 s at 1M memories), so a run asks it once, when it plans its repairs.
    Both parts are read once per state of the database (live_schema.live_state): asked again when nothing
    changed since, the answer is the one already read.
    """
    state = live_state(conn)
    where = schema if schema is not None else state.schema
    if contract is not CONTRACT:
        state = LiveState(where, None)  # remembered for the backend's contract only
    present, tables, others = state.remember(("drift", where), lambda: _catalog_drift(conn, contract, where))
    found = [*tables, *others]
    if counters:
        found += state.remember(("counters", where), lambda: _remember_scan(conn, state, present, where, tables))
    return found


def _remember_scan(conn: psycopg.Connection[Any], state: LiveState, present: set[str], where: str,
                   tables: list[Drift]) -> list[Drift]:
    found, scan = _counter_drift(conn, present, where, tables)
    if scan is not None and state.token is not None:
        state.facts[(SESSION_SCAN, where)] = scan
    return found
