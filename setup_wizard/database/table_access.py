"""May this role use the tables? The backend connects as the same role, so a table it may not read or write
fails the backend as it fails the wizard.

A teammate who migrated as `postgres` leaves tables the backend's own role (often the database's owner,
not the tables') may not even read. `access` finds each table (and the id sequences the tables own) the
role lacks a privilege on, with their owners; `problem_for` gives the fix: the owner hands the tables over
(`ALTER TABLE ... OWNER TO`, which also lets the wizard apply later migrations) or grants what the backend
needs. Read-only: the catalogue's privilege functions, no table is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database.contract import CHECKPOINT_TABLES, CONTRACT
from setup_wizard.database.live_schema import quote_ident
from setup_wizard.database.migration_history import HISTORY_TABLE
from setup_wizard.errors import WizardError
from setup_wizard.messages import locks as msg
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

# The backend reads and writes every one of these; the wizard its history too.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


def wanted_tables() -> list[str]:
    return [t.name for t in CONTRACT.tables] + list(CHECKPOINT_TABLES) + [HISTORY_TABLE]


@record
class Denied:
    name: str  # schema-qualified, as SQL writes it
    kind: str  # "table" or "sequence"
    owner: str
    missing: tuple[str, ...]
    table: str  # the table itself, or the table that owns the sequence


# How many of the wanted tables there are in the schema (any relation by that name).
_COUNT_SQL = """SELECT count(*) FROM unnest(%(names)s::text[]) AS t(name)
            WHERE to_regclass(format('%%I.%%I', %(schema)s::text, t.name)) IS NOT NULL"""

# The wanted tables that exist in the schema, then the sequences they own (serial or identity columns:
# the backend's inserts call nextval), each with the privileges this role lacks; with every row (and in
# one row when there is none) the count above, so `check` asks both in one statement.
_ACCESS_SQL = f"""
WITH tables AS (
    SELECT c.oid, format('%%I.%%I', n.nspname, c.relname) AS name, c.relowner, t.pos
      FROM unnest(%(names)s::text[]) WITH ORDINALITY AS t(name, pos)
      JOIN pg_namespace AS n ON n.nspname = %(schema)s
      JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p')
), objects AS (
    SELECT oid, 'table' AS kind, name, relowner, name AS owning, pos, 0 AS sub FROM tables
    UNION ALL
    SELECT s.oid, 'sequence', format('%%I.%%I', sn.nspname, s.relname), s.relowner, t.name, t.pos, 1
      FROM tables AS t
      JOIN pg_depend AS d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid
                         AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_namespace AS sn ON sn.oid = s.relnamespace
)
SELECT kind, name, pg_get_userbyid(relowner), owning,
       CASE kind
         WHEN 'table' THEN array_remove(ARRAY[
              CASE WHEN NOT has_table_privilege(oid, 'SELECT') THEN 'SELECT' END,
              CASE WHEN NOT has_table_privilege(oid, 'INSERT') THEN 'INSERT' END,
              CASE WHEN NOT has_table_privilege(oid, 'UPDATE') THEN 'UPDATE' END,
              CASE WHEN NOT has_table_privilege(oid, 'DELETE') THEN 'DELETE' END], NULL)
         ELSE array_remove(ARRAY[CASE WHEN NOT has_sequence_privilege(oid, 'USAGE') THEN 'USAGE' END], NULL)
       END,
       counted.n
  FROM ({_COUNT_SQL}) AS counted(n) LEFT JOIN objects ON true
 ORDER BY pos, sub, name
"""


def access(conn: psycopg.Connection[Any], schema: str) -> tuple[list[Denied], int]:
    """What this role may not use among the wanted tables in `schema` (and their sequences), and how many of
    the wanted tables are there: one statement."""
    rows = conn.execute(_ACCESS_SQL, {"names": wanted_tables(), "schema": schema}).fetchall()
    found = [Denied(str(name), str(kind), str(owner), tuple(missing), str(owning))
             for kind, name, owner, owning, missing, _count in rows if missing]
    return found, int(rows[0][5]) if rows else 0


def problem_for(conn: psycopg.Connection[Any], found: list[Denied]) -> WizardError | None:
    """`table_access_denied` for what `access` found, or None when it found nothing."""
    if not found:
        return None
    row = conn.execute("SELECT current_user").fetchone()
    user = quote_ident(str(row[0]) if row else "?")
    owners = ", ".join(dict.fromkeys(d.owner for d in found))
    tables = list(dict.fromkeys(d.table for d in found))
    sequences = [d.name for d in found if d.kind == "sequence"]
    lines = "\n".join(msg.TABLE_ACCESS_LINE.format(name=d.name, owner=d.owner, missing=", ".join(d.missing))
                      for d in found)
    # A sequence owned by a table changes owner with it.
    alter = "\n".join(f"ALTER TABLE {table} OWNER TO {user};" for table in tables)
    grant = f"GRANT {', '.join(TABLE_PRIVILEGES)} ON {', '.join(tables)} TO {user};"
    if sequences:
        grant += f"\nGRANT USAGE, SELECT ON SEQUENCE {', '.join(sequences)} TO {user};"
    return problems.error("table_access_denied", user=user, owners=owners, lines=lines, alter=alter, grant=grant)
