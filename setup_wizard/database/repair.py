"""Bringing the live schema back to the contract without losing a row.

The history table records what the wizard applied, not what the database holds: other tools drop
`chat_sessions` CASCADE, make `sessions` without `request_count`, or add foreign keys without ON DELETE
CASCADE. `plan_repairs` turns drift.find_drift's result into repairs (read-only); `apply_repairs`
applies the chosen ones, each in one transaction under the migrations' advisory lock, lock_timeout and
search_path (migrate.Runner), recorded in setup_wizard_migrations with kind 'repair'.

A repair is safe when it cannot lose or change a row: re-running an idempotent sql/ file that creates
what is missing, adding a nullable column or one with a default, a default, an index, a unique key with
no duplicates, a foreign key added NOT VALID and then validated (left NOT VALID when rows point
nowhere, never deleting them), ON DELETE CASCADE (drop and re-add in one transaction), a redundant
second foreign key dropped. Everything else is a manual repair: the SQL that fixes it, never run by us.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database import contract as c
from setup_wizard.database.drift import Drift, find_drift, live_foreign_keys
from setup_wizard.database.live_schema import contract_schema, has_session_link, present_tables
from setup_wizard.database.migrate import MigrationError, Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.database.migration_history import accept_repair_kind, ensure_history
from setup_wizard.messages import schema as msg
from setup_wizard.record import record
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.run_lock import Progress


@record(eq=True)
class Repair:
    """One change that brings part of the schema back to the contract."""

    id: str  # stable across runs for the same difference, e.g. "add_column:sessions.request_count"
    description: str  # Korean, for the plan screen
    safe: bool  # True: --yes applies it; False: `sql` is for a person to run after checking
    sql: str  # what runs (safe) or what to run by hand (manual)
    drift: tuple[str, ...]  # the Drift names it resolves
    validate: tuple[str, str] | None = field(default=None, compare=False)  # (table, constraint) to validate

    @property
    def fix(self) -> str:
        """The text `check` shows: the description, then the SQL."""
        return f"{self.description}\n{self.sql}"


@record
class RepairOutcome:
    id: str
    description: str
    status: str  # "applied", "not_valid" (applied; the key stays NOT VALID), "failed", "gone" (nothing to do)
    seconds: float = 0.0
    notices: tuple[str, ...] = ()
    detail: str | None = None  # Korean, for "not_valid" and "failed"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "seconds": round(self.seconds, 3),
                "notices": list(self.notices), "detail": self.detail}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(_q(col) for col in columns)


def _scalar(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _qualified(schema: str, table: str) -> str:
    return f"{_q(schema)}.{_q(table)}"


def _file_objects(drift: list[Drift]) -> str:
    return ", ".join(dict.fromkeys(d.name for d in drift))


# --- planning (read-only) ---------------------------------------------------------------------------------

_RERUN_CODES = {"table_missing", "trigger_missing", "trigger_different", "trigger_disabled", "counting_twice",
                "counters_disagree"}


def _reruns(drift: list[Drift]) -> list[Repair]:
    """Missing tables, the 0003 link column and trigger problems: the idempotent file that makes them."""
    by_file: dict[str, list[Drift]] = {}
    for d in drift:
        column_with_file = d.code == "column_missing" and d.target[1].source is not None
        if d.code in _RERUN_CODES or column_with_file:
            by_file.setdefault(d.source, []).append(d)
    texts = {m.name: m.text for m in load_migrations()}

    def describe(name: str, items: list[Drift]) -> str:
        # Only counters to bring in line (0003 recounts every time it runs): say that, not "what is missing".
        text = (msg.REPAIR_RERUN_RECOUNT if all(d.code == "counters_disagree" for d in items)
                else msg.REPAIR_RERUN_FILE)
        return text.format(name=name, objects=_file_objects(items))

    return [Repair(f"rerun:{name}", describe(name, items), True, texts[name], tuple(d.name for d in items))
            for name, items in sorted(by_file.items()) if name in texts]


def _column_repair(conn: psycopg.Connection[Any], d: Drift, schema: str) -> Repair | None:
    table, col = d.target
    t, name = _q(table.name), _q(col.name)
    where = _qualified(schema, table.name)
    if d.code == "column_missing":
        if col.source is not None:
            return None  # made by its file (_reruns)
        if col.not_null and col.default is None:
            text = msg.MANUAL_COLUMN_NO_DEFAULT.format(table=table.name, column=col.name)
            return Repair(f"add_column:{d.name}", text, False, f"ALTER TABLE {t} ADD COLUMN {name} {col.type};\n"
                                 f"UPDATE {t} SET {name} = <value>;\n"
                                 f"ALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;", (d.name,))
        definition = (col.type + (f" DEFAULT {col.default}" if col.default else "")
                      + (" NOT NULL" if col.not_null else ""))
        return Repair(f"add_column:{d.name}", msg.REPAIR_ADD_COLUMN.format(
            table=table.name, column=col.name, definition=definition), True,
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {name} {definition};", (d.name,))
    if d.code == "column_type":
        actual = _scalar(conn, """SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                                   WHERE attrelid = to_regclass(%s) AND attname = %s""", [where, col.name])
        return Repair(f"column_type:{d.name}", msg.MANUAL_COLUMN_TYPE.format(
            table=table.name, column=col.name, actual=actual, expected=col.type), False,
            f"ALTER TABLE {t} ALTER COLUMN {name} TYPE {col.type} USING {name}::{col.type};", (d.name,))
    if d.code == "column_nullable":
        nulls = int(_scalar(conn, f"SELECT count(*) FROM {where} WHERE {name} IS NULL") or 0)
        if nulls == 0:
            return Repair(f"set_not_null:{d.name}", msg.REPAIR_SET_NOT_NULL.format(table=table.name, column=col.name),
                          True, f"ALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;", (d.name,))
        if col.default is not None:
            fill = f"UPDATE {t} SET {name} = {col.default} WHERE {name} IS NULL;"
        elif (table.name, col.name) == ("chat_sessions", "user_id"):
            fill = f"UPDATE {t} SET {name} = 1 WHERE {name} IS NULL;  -- the backend's dev user owns every chat"
        else:
            fill = f"SELECT * FROM {t} WHERE {name} IS NULL;\nUPDATE {t} SET {name} = <value> WHERE {name} IS NULL;"
        return Repair(f"set_not_null:{d.name}", msg.MANUAL_NOT_NULL_HAS_NULLS.format(
            table=table.name, column=col.name, count=nulls), False,
            f"{fill}\nALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;", (d.name,))
    if d.code == "column_not_null":
        return Repair(f"drop_not_null:{d.name}", msg.REPAIR_DROP_NOT_NULL.format(table=table.name, column=col.name),
                      True, f"ALTER TABLE {t} ALTER COLUMN {name} DROP NOT NULL;", (d.name,))
    if d.code == "column_default":
        return Repair(f"set_default:{d.name}", msg.REPAIR_SET_DEFAULT.format(
            table=table.name, column=col.name, default=col.default), True,
            f"ALTER TABLE {t} ALTER COLUMN {name} SET DEFAULT {col.default};", (d.name,))
    return None


def _primary_key_repair(conn: psycopg.Connection[Any], d: Drift, schema: str) -> Repair:
    table: c.Table = d.target
    current = _scalar(conn, "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
                      [_qualified(schema, table.name)])
    drop = f"ALTER TABLE {_q(table.name)} DROP CONSTRAINT {_q(current)};\n" if current else ""
    return Repair(f"primary_key:{table.name}", msg.MANUAL_PRIMARY_KEY.format(table=table.name), False,
                  f"{drop}ALTER TABLE {_q(table.name)} ADD PRIMARY KEY ({_cols(table.primary_key)});", (d.name,))


def _index_repair(conn: psycopg.Connection[Any], d: Drift, schema: str) -> Repair:
    index: c.Index = d.target
    create = f"CREATE INDEX IF NOT EXISTS {_q(index.name)} ON {_q(index.table)} ({index.keys});"
    if d.code == "index_missing":
        return Repair(f"index:{index.name}", msg.REPAIR_CREATE_INDEX.format(
            table=index.table, name=index.name, keys=index.keys), True, create, (d.name,))
    owner = _scalar(conn, """SELECT conname FROM pg_constraint
                              WHERE conindid = to_regclass(%s) AND contype IN ('p', 'u', 'x')""",
                    [_qualified(schema, index.name)])
    if owner:  # the index backs a constraint: dropping it would drop the constraint
        return Repair(f"index:{index.name}", msg.REPAIR_REPLACE_INDEX.format(
            name=index.name, table=index.table, keys=index.keys), False,
            f"CREATE INDEX {_q(index.name + '_wizard')} ON {_q(index.table)} ({index.keys});", (d.name,))
    return Repair(f"index:{index.name}", msg.REPAIR_REPLACE_INDEX.format(
        name=index.name, table=index.table, keys=index.keys), True,
        f"DROP INDEX {_q(index.name)};\n{create}", (d.name,))


def _unique_repair(conn: psycopg.Connection[Any], d: Drift, schema: str) -> Repair:
    unique: c.Unique = d.target
    cols = _cols(unique.columns)
    name = unique.name or f"{unique.table}_{'_'.join(unique.columns)}_key"
    add = f"ALTER TABLE {_q(unique.table)} ADD CONSTRAINT {_q(name)} UNIQUE ({cols});"
    groups = int(_scalar(conn, f"""SELECT count(*) FROM (SELECT 1 FROM {_qualified(schema, unique.table)}
                                     GROUP BY {cols} HAVING count(*) > 1) AS dup""") or 0)
    if groups == 0:
        return Repair(f"unique:{unique.label}", msg.REPAIR_ADD_UNIQUE.format(
            table=unique.table, columns=", ".join(unique.columns)), True, add, (d.name,))
    return Repair(f"unique:{unique.label}", msg.MANUAL_UNIQUE_DUPLICATES.format(
        table=unique.table, columns=", ".join(unique.columns), count=groups), False,
        f"SELECT {cols}, count(*) FROM {_q(unique.table)} GROUP BY {cols} HAVING count(*) > 1;\n{add}", (d.name,))


def _add_foreign_key(fk: c.ForeignKey, name: str) -> str:
    return (f"ALTER TABLE {_q(fk.table)} ADD CONSTRAINT {_q(name)} FOREIGN KEY ({_cols(fk.columns)}) "
            f"REFERENCES {_q(fk.ref_table)} ({_cols(fk.ref_columns)}) ON DELETE CASCADE NOT VALID;")


def _orphans(conn: psycopg.Connection[Any], fk: c.ForeignKey, schema: str) -> int:
    on = " AND ".join(f"r.{_q(rc)} = t.{_q(col)}" for col, rc in zip(fk.columns, fk.ref_columns, strict=True))
    not_null = " AND ".join(f"t.{_q(col)} IS NOT NULL" for col in fk.columns)
    return int(_scalar(conn, f"""SELECT count(*) FROM {_qualified(schema, fk.table)} AS t
                                  WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {_qualified(schema, fk.ref_table)}
                                                                    AS r WHERE {on})""") or 0)


def _orphans_query(fk: c.ForeignKey) -> str:
    on = " AND ".join(f"r.{_q(rc)} = t.{_q(col)}" for col, rc in zip(fk.columns, fk.ref_columns, strict=True))
    not_null = " AND ".join(f"t.{_q(col)} IS NOT NULL" for col in fk.columns)
    return (f"SELECT t.* FROM {_q(fk.table)} AS t WHERE {not_null}\n"
            f"   AND NOT EXISTS (SELECT 1 FROM {_q(fk.ref_table)} AS r WHERE {on});")


SESSION_FK = c.CONTRACT.foreign_keys[0]


def _restore_sessions(conn: psycopg.Connection[Any], schema: str, drift_names: tuple[str, ...]) -> Repair | None:
    """Sessions for memories whose session is gone (e.g. chat_sessions dropped CASCADE and recreated)."""
    row = conn.execute(f"""
        SELECT count(*), count(DISTINCT m.session_id) FROM {_qualified(schema, 'conversation_memories')} AS m
         WHERE m.session_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM {_qualified(schema, 'chat_sessions')} AS s
                            WHERE s.session_id = m.session_id)""").fetchone()
    memories, sessions = (int(row[0]), int(row[1])) if row else (0, 0)
    if not memories:
        return None
    sql = f"""INSERT INTO chat_sessions (session_id, user_id, title, last_message, message_count,
                           created_at, updated_at)
SELECT DISTINCT ON (m.session_id) m.session_id, m.user_id, {_lit(msg.RESTORED_SESSION_TITLE)}, left(m.query, 100),
       count(*) OVER w, min(m.created_at) OVER w, max(m.created_at) OVER w
  FROM conversation_memories AS m
 WHERE m.session_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM chat_sessions AS s WHERE s.session_id = m.session_id)
WINDOW w AS (PARTITION BY m.session_id)
 ORDER BY m.session_id, m.created_at DESC
ON CONFLICT (session_id) DO NOTHING;"""
    return Repair("restore_sessions", msg.REPAIR_RESTORE_SESSIONS.format(
        memories=f"{memories:,}", sessions=f"{sessions:,}"), True, sql, drift_names)


def _foreign_key_repairs(conn: psycopg.Connection[Any], d: Drift, schema: str) -> list[Repair]:
    fk: c.ForeignKey = d.target
    label = f"{fk.table}({', '.join(fk.columns)})"
    if d.code == "fk_missing":
        name = fk.name or f"{fk.table}_{'_'.join(fk.columns)}_fkey"
        repairs = []
        if fk == SESSION_FK and (restore := _restore_sessions(conn, schema, (d.name,))):
            repairs.append(restore)
        repairs.append(Repair(f"fk:{label}", msg.REPAIR_ADD_FK.format(
            table=fk.table, columns=", ".join(fk.columns), ref=fk.ref_table), True,
            _add_foreign_key(fk, name), (d.name,), (fk.table, name)))
        return repairs
    name = d.live[0]
    if d.code == "fk_target":
        return [Repair(f"fk_target:{name}", msg.MANUAL_FK_TARGET.format(name=name), False,
                       f"ALTER TABLE {_q(fk.table)} DROP CONSTRAINT {_q(name)};\n{_add_foreign_key(fk, name)}\n"
                       f"ALTER TABLE {_q(fk.table)} VALIDATE CONSTRAINT {_q(name)};", (d.name,))]
    if d.code == "fk_no_cascade":
        return [Repair(f"fk_cascade:{name}", msg.REPAIR_FK_CASCADE.format(
            name=name, table=fk.table, columns=", ".join(fk.columns), ref=fk.ref_table), True,
            f"ALTER TABLE {_q(fk.table)} DROP CONSTRAINT {_q(name)};\n{_add_foreign_key(fk, name)}",
            (d.name,), (fk.table, name))]
    if d.code == "fk_duplicate":
        live = {k.name: k for k in live_foreign_keys(conn, [fk.table], schema)}
        # Keep the one that already does the whole job; among equals the backend's own (not our name).
        ranked = sorted((live[n] for n in d.live if n in live),
                        key=lambda k: (not k.validated, k.on_delete != "c", k.name == fk.name, k.name))
        keep, drops = ranked[0].name, [k.name for k in ranked[1:]]
        return [Repair(f"fk_duplicate:{label}", msg.REPAIR_FK_DUPLICATE.format(keep=keep, drops=", ".join(drops)),
                       True, "\n".join(f"ALTER TABLE {_q(fk.table)} DROP CONSTRAINT {_q(n)};" for n in drops),
                       (d.name,))]
    if d.code == "fk_not_valid":
        orphans = _orphans(conn, fk, schema)
        if orphans == 0:
            return [Repair(f"validate:{name}", msg.REPAIR_VALIDATE_FK.format(name=name), True,
                           f"ALTER TABLE {_q(fk.table)} VALIDATE CONSTRAINT {_q(name)};", (d.name,))]
        if fk == SESSION_FK and (restore := _restore_sessions(conn, schema, (d.name,))):
            return [restore]
        return [Repair(f"validate:{name}", msg.MANUAL_FK_ORPHANS.format(
            table=fk.table, count=orphans, ref=fk.ref_table, name=name), False,
            f"{_orphans_query(fk)}\nALTER TABLE {_q(fk.table)} VALIDATE CONSTRAINT {_q(name)};", (d.name,))]
    return []


def _after_chat_sessions_recreated(conn: psycopg.Connection[Any], schema: str) -> list[Repair]:
    """chat_sessions dropped CASCADE under linked memories: re-running 0003 makes the table and adds the
    key NOT VALID; these two (the ids the plan will hold then) bring the sessions back and validate it."""
    if not has_session_link(conn, schema):
        return []
    memories_table = _qualified(schema, "conversation_memories")
    row = conn.execute(f"""SELECT count(*), count(DISTINCT session_id)
                             FROM {memories_table} WHERE session_id IS NOT NULL""").fetchone()
    memories, sessions = (int(row[0]), int(row[1])) if row else (0, 0)
    if not memories:
        return []
    name = SESSION_FK.name or ""
    return [Repair("restore_sessions", msg.REPAIR_RESTORE_SESSIONS.format(
                memories=f"{memories:,}", sessions=f"{sessions:,}"), True, "", ("chat_sessions",)),
            Repair(f"validate:{name}", msg.REPAIR_VALIDATE_FK.format(name=name), True, "", ("chat_sessions",))]


def _keys_into_recreated(drift: list[Drift], present: set[str]) -> list[Repair]:
    """A table dropped CASCADE took the foreign keys into it with it (chat_messages' key into chat_sessions):
    re-running its file makes the table, and these (the ids the plan will hold then) add the keys again."""
    missing = {d.name for d in drift if d.code == "table_missing"}
    return [Repair(f"fk:{fk.table}({', '.join(fk.columns)})", msg.REPAIR_ADD_FK.format(
                table=fk.table, columns=", ".join(fk.columns), ref=fk.ref_table), True, "", (fk.ref_table,))
            for fk in c.CONTRACT.foreign_keys
            if fk.ref_table in missing and fk.table in present and fk != SESSION_FK]


def plan_repairs(conn: psycopg.Connection[Any], drift: list[Drift] | None = None,
                 schema: str | None = None) -> list[Repair]:
    """Repairs for the live schema's drift, in the order they apply; safe and manual ones. Read-only.

    `drift`: find_drift's result when the caller has it already.
    """
    where = schema if schema is not None else contract_schema(conn)
    found = drift if drift is not None else find_drift(conn, schema=where)
    repairs = _reruns(found)
    if any(d.code == "table_missing" and d.name == "chat_sessions" for d in found):
        repairs.extend(_after_chat_sessions_recreated(conn, where))
    if any(d.code == "table_missing" for d in found):
        repairs.extend(_keys_into_recreated(found, present_tables(conn, schema=where)))
    for d in found:
        if d.code.startswith("column_"):
            if (repair := _column_repair(conn, d, where)) is not None:
                repairs.append(repair)
        elif d.code == "primary_key":
            repairs.append(_primary_key_repair(conn, d, where))
        elif d.code == "enum_labels":
            labels: tuple[str, ...] = d.target
            repairs.append(Repair(f"enum:{d.name}", msg.REPAIR_ADD_ENUM.format(name=d.name, labels=", ".join(labels)),
                                  True, "\n".join(f"ALTER TYPE {_q(d.name)} ADD VALUE IF NOT EXISTS {_lit(label)};"
                                                  for label in labels), (d.name,)))
        elif d.code.startswith("index_"):
            repairs.append(_index_repair(conn, d, where))
        elif d.code == "unique_missing":
            repairs.append(_unique_repair(conn, d, where))
        elif d.code.startswith("fk_"):
            repairs.extend(_foreign_key_repairs(conn, d, where))
    unique: dict[str, Repair] = {}
    for repair in repairs:
        unique.setdefault(repair.id, repair)
    return list(unique.values())


def drift_step(covering: list[Repair], step_id: str, status: Status, title: str, detail: str) -> Step:
    """The failing item for drift these repairs cover, for `check` and the run's last pass alike:
    `--yes` for what repairs safely (and the file it re-runs, which a person may run too), the SQL for
    the rest; `schema_drift_manual` when nothing of it repairs safely."""
    manual = [r for r in covering if not r.safe]
    parts = [msg.FIX_SCHEMA_REPAIRABLE] if any(r.safe for r in covering) else []
    # A file re-run by --yes may as well be run by hand (counters brought in line by 0003, say).
    parts += [msg.FIX_SCHEMA_RERUN_BY_HAND.format(name=r.id.split(":", 1)[1])
              for r in covering if r.safe and r.id.startswith("rerun:")]
    if manual:
        parts.append("\n".join([msg.FIX_SCHEMA_MANUAL_HEAD, *(r.fix for r in manual)]))
    code = "schema_drift_manual" if manual and len(manual) == len(covering) else "schema_drift"
    return problems.step(code, step_id, status, title, detail=detail, fix="\n".join(parts))


# --- applying ------------------------------------------------------------------------------------------

def _apply_one(runner: Runner, repair: Repair) -> RepairOutcome:
    import psycopg

    conn = runner.conn
    started = time.perf_counter()
    runner.progress(msg.REPAIRING.format(description=repair.description))
    status, detail = "applied", None
    with runner.transaction(f"repair {repair.id}", []) as notices:
        conn.execute(repair.sql.encode("utf-8"))
        if repair.validate is not None:
            table, name = repair.validate
            try:
                with conn.transaction():  # a savepoint: a failed validation keeps the NOT VALID key
                    conn.execute(f"ALTER TABLE {_q(table)} VALIDATE CONSTRAINT {_q(name)}")
            except psycopg.errors.ForeignKeyViolation:
                status, detail = "not_valid", msg.REPAIR_LEFT_NOT_VALID.format(name=name)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        seconds = runner.record(f"repair:{repair.id}@{stamp}", hashlib.sha256(repair.sql.encode()).hexdigest(),
                                "repair", started)
    return RepairOutcome(repair.id, repair.description, status, seconds, tuple(notices), detail)


def apply_repairs(conn: psycopg.Connection[Any], repairs: list[Repair], lock_timeout: float = 10.0,
                  progress: Progress | None = None, advisory_wait: float = 300.0) -> list[RepairOutcome]:
    """Apply the safe repairs among `repairs` (manual ones are skipped), one transaction each.

    Under the wizard's advisory lock the plan is read again before each repair, so a repair made
    unnecessary by an earlier one (a re-run file creates indexes too) or by another tool meanwhile is
    reported "gone", not applied twice. A repair that fails is rolled back and reported "failed"
    (code schema_repair_failed in its detail); the others still run. A lock held by another session
    raises MigrationError("lock_timeout"), as migrations do. `conn` must be in autocommit.
    """
    runner = Runner(conn, [], lock_timeout=lock_timeout, advisory_wait=advisory_wait, progress=progress)
    wanted = [r.id for r in repairs if r.safe]
    outcomes: list[RepairOutcome] = []
    if not wanted:
        return outcomes
    from setup_wizard.database.run_lock import advisory_lock  # only when a repair is applied

    descriptions = {r.id: r.description for r in repairs}
    with advisory_lock(conn, advisory_wait, runner.progress):
        schema = runner.find_schema()
        ensure_history(conn, schema)
        accept_repair_kind(conn, schema)
        for repair_id in wanted:
            current = {r.id: r for r in plan_repairs(conn, schema=schema) if r.safe}
            repair = current.get(repair_id)
            if repair is None:
                outcomes.append(RepairOutcome(repair_id, descriptions[repair_id], "gone"))
                continue
            try:
                outcomes.append(_apply_one(runner, repair))
            except MigrationError as exc:
                if exc.code == "lock_timeout":
                    raise
                detail = problems.cause("schema_repair_failed", description=repair.description) + "\n" + exc.detail
                outcomes.append(RepairOutcome(repair_id, repair.description, "failed", detail=detail))
    return outcomes
