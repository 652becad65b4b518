"""The history table (setup_wizard_migrations): what was applied, and the plan read from it.

Each applied file is recorded (name, checksum, kind, applied_at, duration) in the same transaction as
the file itself (database/migrate.py); database/repair.py records its repairs there with kind
'repair'. `read_plan` compares the files with the history, read-only and before the table exists:
each file is applied, pending, or changed after it was applied (`changed_files_problem` explains the
last, for the run and for `check`). `ensure_history` and `accept_repair_kind` create or widen the
table, writing nothing when it is already right.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.database.migration_files import Migration
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

HISTORY_TABLE = "setup_wizard_migrations"


@record
class PlanItem:
    migration: Migration
    state: str  # "applied", "pending", "changed"
    kind: str | None = None
    applied_at: datetime | None = None


def is_baseline(conn: psycopg.Connection[Any], migration: Migration) -> bool:
    """Was this pending file's work done by hand before it was ever recorded (its baseline-when query
    is true)? The runner records it as a baseline; `check` says so beside the pending file."""
    if not migration.baseline_when:
        return False
    row = conn.execute(migration.baseline_when.encode("utf-8")).fetchone()
    return bool(row and row[0])


def history_name(schema: str | None = None) -> str:
    """The history table's name, qualified when a schema is given (quoted as an identifier)."""
    if schema is None:
        return HISTORY_TABLE
    return '"' + schema.replace('"', '""') + '".' + HISTORY_TABLE


def history_exists(conn: psycopg.Connection[Any], schema: str | None = None) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [history_name(schema)]).fetchone()
    return bool(row and row[0])


def read_plan(conn: psycopg.Connection[Any], migrations: list[Migration],
              schema: str | None = None, exists: bool | None = None) -> list[PlanItem]:
    """Where each file stands. Read-only: works when the history table does not exist yet. `exists`: whether
    it does, when the caller has just read it (else asked here)."""
    recorded: dict[str, tuple[str, str, datetime]] = {}
    if exists if exists is not None else history_exists(conn, schema):
        for name, checksum, kind, applied_at in conn.execute(
            f"SELECT name, checksum, kind, applied_at FROM {history_name(schema)} WHERE kind <> 'repair'"
        ):
            recorded[name] = (checksum, kind, applied_at)
    plan = []
    for migration in migrations:
        if migration.name not in recorded:
            plan.append(PlanItem(migration, "pending"))
            continue
        checksum, kind, applied_at = recorded[migration.name]
        state = "applied" if checksum == migration.checksum or checksum in migration.replaces else "changed"
        plan.append(PlanItem(migration, state, kind, applied_at))
    return plan


def changed_files_problem(changed: list[PlanItem]) -> tuple[str, str]:
    """The `checksum_mismatch` explanation (detail, fix) for files changed after they were applied."""
    lines = [
        problems.cause(
            "checksum_mismatch",
            name=item.migration.name,
            applied_at=item.applied_at.strftime("%Y-%m-%d %H:%M") if item.applied_at else "?",
        )
        for item in changed
    ]
    return "\n".join(lines), problems.fix("checksum_mismatch", name=changed[0].migration.name)


def ensure_history(conn: psycopg.Connection[Any], schema: str | None = None) -> None:
    """Create the history table (in `schema`) when it is missing."""
    # Checked first so that a rerun writes nothing at all, not even the table's comment.
    table = history_name(schema)
    if history_exists(conn, schema):
        return
    with conn.transaction():
        conn.execute(
            f"""
            CREATE TABLE {table} (
                name            text        PRIMARY KEY,
                checksum        text        NOT NULL,
                kind            text        NOT NULL DEFAULT 'applied'
                                            CONSTRAINT setup_wizard_migrations_kind_check
                                            CHECK (kind IN ('applied', 'baseline', 'repair')),
                applied_at      timestamptz NOT NULL DEFAULT now(),
                duration_ms     integer     NOT NULL,
                wizard_version  text
            )
            """
        )
        conn.execute(f"COMMENT ON TABLE {table} IS 'setup_wizard: applied sql/ migrations and schema repairs'")


def accept_repair_kind(conn: psycopg.Connection[Any], schema: str | None = None) -> None:
    """Widen an older history table's kind check to 'repair'. Idempotent; writes nothing when done.

    Tables made before repairs existed carry CHECK (kind IN ('applied', 'baseline')) under
    PostgreSQL's name setup_wizard_migrations_kind_check; it is replaced in one transaction.
    """
    table = history_name(schema)
    checks = [str(r[0]) for r in conn.execute(
        """SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'c'
              AND pg_get_constraintdef(oid) LIKE '%%kind%%' AND pg_get_constraintdef(oid) NOT LIKE '%%repair%%'""",
        [table]).fetchall()]
    if not checks:
        return
    with conn.transaction():
        for name in checks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT setup_wizard_migrations_kind_check "
                     "CHECK (kind IN ('applied', 'baseline', 'repair'))")
