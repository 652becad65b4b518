"""Applying the plain SQL files in sql/ safely: once each, recorded, locked, all-or-nothing.

- Each applied file is recorded (name, checksum, kind, applied_at, duration) in
  `setup_wizard_migrations`, in the same transaction as the file itself.
- A file whose content changed after it was applied is reported, never silently re-run.
- A session-level advisory lock serialises concurrent runs; each file's transaction sets
  lock_timeout, so a table held by another session fails fast with `lock_timeout`.
- A file may declare `-- setup_wizard:baseline-when: <query>`: when the query is true before the
  file was ever recorded, the database was migrated by hand; the (idempotent) file still runs to add
  what is missing, and is recorded as a baseline.
- A file may declare `-- setup_wizard:replaces-checksum: <sha256>` for each earlier release of itself
  whose result needs nothing more from the new text: a database recorded with that checksum counts as
  applied (database/repair.py brings what differs in line with the contract).
- Every file runs with `SET LOCAL search_path` to the schema where the backend's tables are
  (contract.contract_schema), so a role whose search_path starts with another schema never gets a
  second set of tables there; the files themselves stay plain.
- database/repair.py records its repairs in the same table, with kind 'repair'.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard import __version__, problems
from setup_wizard import messages as msg
from setup_wizard.database.limits import MIGRATION_STATEMENT_TIMEOUT, lock_timeout_error, statement_timeout_error
from setup_wizard.database.writable import write_problem
from setup_wizard.errors import WizardError
from setup_wizard.results import MigrationOutcome

if TYPE_CHECKING:
    import psycopg

HISTORY_TABLE = "setup_wizard_migrations"
# Any fixed 64-bit number: the same for every run of the wizard against one database.
ADVISORY_LOCK_KEY = 7_263_544_331_020_917
# The file whose seed counterpart is the destructive "Clean Install" (--recreate).
RECREATABLE = "0003_chat_sessions.sql"
# Tables whose locks a migration waits for; named in the lock_timeout message.
TOUCHED_TABLES = ("users", "conversation_memories", "sessions", "chat_sessions")

_BASELINE = re.compile(r"^--\s*setup_wizard:baseline-when:\s*(?P<query>.+)$", re.MULTILINE)
_REPLACES = re.compile(r"^--\s*setup_wizard:replaces-checksum:\s*(?P<checksum>[0-9a-f]{64})\s*$", re.MULTILINE)
KINDS = ("applied", "baseline", "repair")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Migration:
    name: str
    text: str
    baseline_when: str | None
    replaces: tuple[str, ...] = ()  # checksums of earlier releases that count as applied

    @property
    def checksum(self) -> str:
        # Line endings normalised: a Windows checkout (autocrlf) must not look "changed".
        normalised = self.text.replace("\r\n", "\n").encode("utf-8")
        return hashlib.sha256(normalised).hexdigest()


@dataclass(frozen=True)
class PlanItem:
    migration: Migration
    state: str  # "applied", "pending", "changed"
    kind: str | None = None
    applied_at: datetime | None = None


@dataclass
class RecreateInfo:
    schema: str
    restore_sql: str


@dataclass
class ApplyResult:
    outcomes: list[MigrationOutcome] = field(default_factory=list)
    recreated: RecreateInfo | None = None

    @property
    def applied(self) -> int:
        return sum(o.action in ("applied", "baseline") for o in self.outcomes)


class MigrationError(WizardError):
    """A migration failed and was rolled back; carries what happened before it."""

    def __init__(self, code: str, detail: str, fix: str | None, outcomes: list[MigrationOutcome]) -> None:
        super().__init__(code, detail, fix)
        self.outcomes = outcomes


def sql_dir() -> Path:
    """The migrations: setup_wizard/sql in an installed package, else sql/ beside the source tree."""
    package = Path(__file__).resolve().parent.parent  # setup_wizard/
    packaged = package / "sql"
    if any(packaged.glob("*.sql")):
        return packaged
    return package.parent / "sql"


def load_migrations(directory: Path | None = None) -> list[Migration]:
    folder = directory or sql_dir()
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        match = _BASELINE.search(text)
        migrations.append(
            Migration(
                name=path.name,
                text=text,
                baseline_when=match.group("query").strip() if match else None,
                replaces=tuple(m.group("checksum") for m in _REPLACES.finditer(text)),
            )
        )
    return migrations


def history_name(schema: str | None = None) -> str:
    """The history table's name, qualified when a schema is given (quoted as an identifier)."""
    if schema is None:
        return HISTORY_TABLE
    return '"' + schema.replace('"', '""') + '".' + HISTORY_TABLE


def history_exists(conn: psycopg.Connection[Any], schema: str | None = None) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [history_name(schema)]).fetchone()
    return bool(row and row[0])


def read_plan(conn: psycopg.Connection[Any], migrations: list[Migration],
              schema: str | None = None) -> list[PlanItem]:
    """Where each file stands. Read-only: works when the history table does not exist yet."""
    recorded: dict[str, tuple[str, str, datetime]] = {}
    if history_exists(conn, schema):
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
    problem = msg.CATALOGUE["checksum_mismatch"]
    lines = [
        problem.cause.format(
            name=item.migration.name,
            applied_at=item.applied_at.strftime("%Y-%m-%d %H:%M") if item.applied_at else "?",
        )
        for item in changed
    ]
    return "\n".join(lines), problem.fix_text(name=changed[0].migration.name)


@dataclass(frozen=True)
class OtherRun:
    pid: int
    application: str
    client: str
    since: datetime | None
    query: str


def other_run(conn: psycopg.Connection[Any]) -> OtherRun | None:
    """The session holding the wizard's advisory lock (a bigint key: classid high, objid low, objsubid 1)."""
    row = conn.execute(
        """SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'),
                  coalesce(a.xact_start, a.backend_start),
                  left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 160)
             FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid::bigint = (%s::bigint >> 32) AND l.objid::bigint = (%s::bigint & 4294967295)
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            LIMIT 1""",
        [ADVISORY_LOCK_KEY, ADVISORY_LOCK_KEY],
    ).fetchone()
    if row is None:
        return None
    return OtherRun(int(row[0]), str(row[1]), str(row[2]), row[3], str(row[4]))


def _describe_run(run: OtherRun | None) -> str:
    if run is None:
        return msg.OTHER_RUN_UNKNOWN
    since = run.since.astimezone().strftime("%H:%M:%S") if run.since else "?"
    return msg.OTHER_RUN.format(pid=run.pid, application=run.application or "?", client=run.client,
                                since=since)


@contextmanager
def advisory_lock(conn: psycopg.Connection[Any], wait_seconds: float, progress: Progress) -> Iterator[None]:
    """Hold the wizard's lock for the duration; wait (at most wait_seconds) for another run to finish."""
    deadline = time.monotonic() + wait_seconds
    said = False
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()
        if row and row[0]:
            break
        if not said:
            progress(msg.WAITING_FOR_RUN.format(who=_describe_run(other_run(conn)),
                                                seconds=f"{wait_seconds:g}"))
            said = True
        if time.monotonic() >= deadline:
            run = other_run(conn)
            raise problems.error("run_in_progress", seconds=f"{wait_seconds:g}", who=_describe_run(run),
                                 pid=run.pid if run else "pid")
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


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


_ensure_history = ensure_history


def _error_detail(exc: Exception) -> tuple[str | None, str]:
    import psycopg

    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        message = diag.message_primary or str(exc)
        if diag.message_detail:
            message += f" ({diag.message_detail})"
        return exc.sqlstate, message
    return None, str(exc)


class Runner:
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        migrations: list[Migration],
        *,
        lock_timeout: float = 10.0,
        advisory_wait: float | None = None,
        statement_timeout: float = MIGRATION_STATEMENT_TIMEOUT,
        progress: Progress | None = None,
    ) -> None:
        if not conn.autocommit:
            raise ValueError("the runner needs an autocommit connection")
        self.conn = conn
        self.migrations = migrations
        self.lock_timeout = lock_timeout
        # Another run's lock is waited for within the same bound as a table's (--lock-timeout).
        self.advisory_wait = lock_timeout if advisory_wait is None else advisory_wait
        self.statement_timeout = statement_timeout
        self.progress: Progress = progress or (lambda _text: None)
        self.schema: str | None = None  # where the backend's tables are; found under the lock

    def find_schema(self) -> str:
        from setup_wizard.database.live_schema import contract_schema

        if self.schema is None:
            self.schema = contract_schema(self.conn)
        return self.schema

    def apply(self, recreate: bool = False) -> ApplyResult:
        result = ApplyResult()
        with advisory_lock(self.conn, self.advisory_wait, self.progress):
            schema = self.find_schema()
            plan = read_plan(self.conn, self.migrations, schema)
            if recreate or not history_exists(self.conn, schema) or any(i.state == "pending" for i in plan):
                problem = write_problem(self.conn, schema=schema, history=history_name(schema))
                if problem is not None:
                    raise MigrationError(problem.code, problem.detail, problem.fix, [])
            ensure_history(self.conn, schema)
            plan = read_plan(self.conn, self.migrations, schema)
            changed = [item for item in plan if item.state == "changed"]
            if changed:
                result.outcomes = [
                    MigrationOutcome(i.migration.name, "changed" if i.state == "changed" else
                                     ("skipped" if i.state == "applied" else "pending"))
                    for i in plan
                ]
                detail, fix = changed_files_problem(changed[:1])
                raise MigrationError("checksum_mismatch", detail, fix, result.outcomes)
            for item in plan:
                name = item.migration.name
                if recreate and name == RECREATABLE:
                    outcome, result.recreated = self._recreate(item.migration, result.outcomes)
                    result.outcomes.append(outcome)
                elif item.state == "applied":
                    result.outcomes.append(MigrationOutcome(name, "skipped"))
                else:
                    result.outcomes.append(self._apply_one(item.migration, result.outcomes))
        return result

    def _is_baseline(self, migration: Migration) -> bool:
        if not migration.baseline_when:
            return False
        row = self.conn.execute(migration.baseline_when.encode("utf-8")).fetchone()
        return bool(row and row[0])

    @contextmanager
    def transaction(self, name: str, done: list[MigrationOutcome]) -> Iterator[list[str]]:
        """One transaction with lock_timeout and the contract's schema as its search_path; notices
        collected; any error rolls everything back (MigrationError). Used by repairs too."""
        import psycopg

        notices: list[str] = []

        def on_notice(diag: psycopg.errors.Diagnostic) -> None:
            if diag.message_primary:
                notices.append(diag.message_primary)

        self.conn.add_notice_handler(on_notice)
        try:
            with self.conn.transaction():
                # Both limits set for this transaction only: the lock wait is --lock-timeout, and the
                # statement limit is the wizard's own (a role's tiny statement_timeout does not apply).
                # A longer limit the person chose (PGOPTIONS="-c statement_timeout=0") is kept.
                self.conn.execute(
                    """SELECT set_config('lock_timeout', %(lock)s, true),
                              set_config('statement_timeout',
                                         CASE WHEN current_setting('statement_timeout')::interval = '0'
                                                OR current_setting('statement_timeout')::interval
                                                   > %(statement)s::text::interval
                                              THEN current_setting('statement_timeout')
                                              ELSE %(statement)s::text END, true),
                              set_config('search_path', quote_ident(%(schema)s), true)""",
                    {"lock": f"{int(self.lock_timeout * 1000)}ms",
                     "statement": f"{int(self.statement_timeout * 1000)}ms", "schema": self.find_schema()},
                )
                yield notices
        except psycopg.errors.LockNotAvailable as exc:
            # Rolled back by now: the session can read pg_locks again.
            error = lock_timeout_error(self.conn, f"{self.lock_timeout:g}", TOUCHED_TABLES)
            raise MigrationError(error.code, error.detail, error.fix,
                                 [*done, MigrationOutcome(name, "failed")]) from exc
        except psycopg.errors.QueryCanceled as exc:
            error = statement_timeout_error(self.conn, self.conn.info.user,
                                            limit=f"{int(self.statement_timeout * 1000)}ms")
            raise MigrationError(error.code, error.detail, error.fix,
                                 [*done, MigrationOutcome(name, "failed")]) from exc
        except psycopg.Error as exc:
            sqlstate, message = _error_detail(exc)
            known = None if self.conn.closed else write_problem(
                self.conn, schema=self.find_schema(), history=history_name(self.find_schema()))
            if known is not None and sqlstate in ("25006", "3F000", "42501"):
                raise MigrationError(known.code, known.detail, known.fix,
                                     [*done, MigrationOutcome(name, "failed")]) from exc
            code = "permission_denied" if sqlstate == "42501" else "migration_failed"
            problem = msg.CATALOGUE["migration_failed"]
            detail = problem.cause.format(name=name) + f"\nSQLSTATE {sqlstate or '-'}: {message}"
            from setup_wizard.database.inspect import explain_sqlstate  # issue 3: the seed's known errors

            explained = explain_sqlstate(sqlstate)
            fix = problem.fix_text() + (f"\n{explained}" if explained else "")
            raise MigrationError(
                code, detail, fix, [*done, MigrationOutcome(name, "failed")]
            ) from exc
        finally:
            self.conn.remove_notice_handler(on_notice)

    def _record(self, migration: Migration, kind: str, started: float) -> float:
        return self.record(migration.name, migration.checksum, kind, started)

    def record(self, name: str, checksum: str, kind: str, started: float) -> float:
        """One history row, inside the caller's transaction; returns the seconds since `started`."""
        seconds = time.perf_counter() - started
        self.conn.execute(
            f"""
            INSERT INTO {history_name(self.find_schema())} (name, checksum, kind, duration_ms, wizard_version)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (name) DO UPDATE
               SET checksum = EXCLUDED.checksum, kind = EXCLUDED.kind, applied_at = now(),
                   duration_ms = EXCLUDED.duration_ms, wizard_version = EXCLUDED.wizard_version
            """,
            [name, checksum, kind, int(seconds * 1000), __version__],
        )
        return seconds

    def _apply_one(self, migration: Migration, done: list[MigrationOutcome]) -> MigrationOutcome:
        self.progress(msg.APPLYING.format(name=migration.name))
        started = time.perf_counter()
        with self.transaction(migration.name, done) as notices:
            kind = "baseline" if self._is_baseline(migration) else "applied"
            self.conn.execute(migration.text.encode("utf-8"))
            seconds = self._record(migration, kind, started)
        return MigrationOutcome(migration.name, kind, seconds, tuple(notices))

    def _recreate(
        self, migration: Migration, done: list[MigrationOutcome]
    ) -> tuple[MigrationOutcome, RecreateInfo]:
        """The seed's Clean Install, made recoverable: back up, drop, re-apply, in one transaction."""
        self.progress(msg.APPLYING.format(name=migration.name))
        started = time.perf_counter()
        with self.transaction(migration.name, done) as notices:
            info = _backup_and_drop(self.conn, self.find_schema())
            self.conn.execute(migration.text.encode("utf-8"))
            seconds = self._record(migration, "applied", started)
        return MigrationOutcome(migration.name, "applied", seconds, tuple(notices)), info


def _column_exists(conn: psycopg.Connection[Any], table: str, column: str) -> bool:
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM pg_attribute
                           WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped)""",
        [table, column],
    ).fetchone()
    return bool(row and row[0])


def _backup_and_drop(conn: psycopg.Connection[Any], schema_of_tables: str) -> RecreateInfo:
    """Copy chat_sessions and the memories' links into a timestamped schema, then drop them."""
    from psycopg import sql

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    schema = f"setup_wizard_backup_{stamp}"
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
    restore: list[str] = ["BEGIN;"]
    has_sessions = conn.execute("SELECT to_regclass('chat_sessions') IS NOT NULL").fetchone()
    has_link = _column_exists(conn, "conversation_memories", "session_id")
    columns: list[str] = []
    if has_sessions and has_sessions[0]:
        conn.execute(sql.SQL("CREATE TABLE {}.chat_sessions AS TABLE chat_sessions").format(ident))
        columns = [
            r[0]
            for r in conn.execute(
                """SELECT attname FROM pg_attribute WHERE attrelid = 'chat_sessions'::regclass
                   AND attnum > 0 AND NOT attisdropped ORDER BY attnum"""
            )
        ]
    if has_link:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.conversation_memories_session AS "
                "SELECT id, session_id FROM conversation_memories WHERE session_id IS NOT NULL"
            ).format(ident)
        )
    # The restore keeps every memory: links are cleared before the sessions they point at go.
    restore += [
        "ALTER TABLE conversation_memories DISABLE TRIGGER trigger_update_session_message_count;",
        "UPDATE conversation_memories SET session_id = NULL WHERE session_id IS NOT NULL;",
        "DELETE FROM chat_sessions;",
    ]
    if columns:
        cols = ", ".join(f'"{c}"' for c in columns)
        restore.append(f'INSERT INTO chat_sessions ({cols}) SELECT {cols} FROM "{schema}".chat_sessions;')
    if has_link:
        restore.append(
            "UPDATE conversation_memories AS m SET session_id = b.session_id "
            f'FROM "{schema}".conversation_memories_session AS b WHERE b.id = m.id;'
        )
    restore += [
        "ALTER TABLE conversation_memories ENABLE TRIGGER trigger_update_session_message_count;",
        "COMMIT;",
    ]
    restore_sql = "\n".join(restore)
    conn.execute(
        sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
            ident, sql.Literal("setup_wizard --recreate backup. Restore with:\n" + restore_sql)
        )
    )
    # What the seed's Clean Install drops, and nothing more.
    conn.execute("DROP TRIGGER IF EXISTS trigger_update_session_message_count ON conversation_memories")
    conn.execute("ALTER TABLE conversation_memories DROP CONSTRAINT IF EXISTS fk_conv_mem_session")
    conn.execute("ALTER TABLE conversation_memories DROP COLUMN IF EXISTS session_id")
    conn.execute("DROP TABLE IF EXISTS chat_sessions CASCADE")
    conn.execute(f"DELETE FROM {history_name(schema_of_tables)} WHERE name = %s", [RECREATABLE])
    return RecreateInfo(schema=schema, restore_sql=restore_sql)
