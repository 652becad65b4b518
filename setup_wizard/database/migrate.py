"""Applying the plain SQL files in sql/ safely: once each, recorded, locked, all-or-nothing.

- Each applied file is recorded (name, checksum, kind, applied_at, duration) in
  `setup_wizard_migrations` (database/migration_history.py), in the same transaction as the file itself.
- A file whose content changed after it was applied is reported, never silently re-run.
- A session-level advisory lock (database/run_lock.py) serialises concurrent runs; each file's
  transaction sets lock_timeout, so a table held by another session fails fast with `lock_timeout`.
- A file may declare `-- setup_wizard:baseline-when: <query>`: when the query is true before the
  file was ever recorded, the database was migrated by hand; the (idempotent) file still runs to add
  what is missing, and is recorded as a baseline.
- A file may declare `-- setup_wizard:replaces-checksum: <sha256>` for each earlier release of itself
  whose result needs nothing more from the new text: a database recorded with that checksum counts as
  applied (database/repair.py brings what differs in line with the contract). Both markers are read by
  database/migration_files.py.
- Every file runs with `SET LOCAL search_path` to the schema where the backend's tables are
  (live_schema.contract_schema), so a role whose search_path starts with another schema never gets a
  second set of tables there; the files themselves stay plain.
- database/repair.py records its repairs in the same table, with kind 'repair', through `Runner`.
- `--recreate` is the seed's Clean Install made recoverable: chat_sessions and the memories' links are
  copied into a timestamped backup schema with the SQL that restores them, then dropped and re-made.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from setup_wizard import __version__, problems
from setup_wizard.database.contract import CONTRACT
from setup_wizard.database.limits import MIGRATION_STATEMENT_TIMEOUT, lock_timeout_error, statement_timeout_error
from setup_wizard.database.migration_files import Migration
from setup_wizard.database.migration_history import (
    changed_files_problem,
    ensure_history,
    history_exists,
    history_name,
    is_baseline,
    read_plan,
)
from setup_wizard.errors import WizardError
from setup_wizard.messages import migrations as msg
from setup_wizard.record import record
from setup_wizard.results import MigrationOutcome

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.run_lock import Progress

# The file whose seed counterpart is the destructive "Clean Install" (--recreate).
RECREATABLE = "0003_chat_sessions.sql"
# Tables whose locks a migration waits for (every table the migrations make, by the contract); their
# holders are named in the lock_timeout message.
TOUCHED_TABLES = tuple(table.name for table in CONTRACT.tables)


@record(frozen=False)
class RecreateInfo:
    """The schema --recreate kept the old sessions in, and the SQL that restores them."""

    schema: str
    restore_sql: str


@record(frozen=False)
class ApplyResult:
    """What one `Runner.apply` did: an outcome per file, and the recreate's details when there was one."""

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
        from setup_wizard.database.run_lock import advisory_lock  # only when something may be applied

        result = ApplyResult()
        with advisory_lock(self.conn, self.advisory_wait, self.progress):
            schema = self.find_schema()
            plan = read_plan(self.conn, self.migrations, schema)
            if recreate or not history_exists(self.conn, schema) or any(i.state == "pending" for i in plan):
                from setup_wizard.database.writable import write_problem

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
            if any(o.action == "applied" for o in result.outcomes):
                self.settle(schema)
        return result

    # The table a migration may rewrite (0003 rewrites every memory to link it to its session).
    SETTLED_TABLES = ("conversation_memories",)

    def settle(self, schema: str) -> None:
        """VACUUM the tables the files may have rewritten: a rewritten table's pages are not marked
        all-visible until a vacuum, so until autovacuum comes by every index-only scan also reads the heap
        (the next run's counters and verification took 1-2 s instead of 0.3 s at 1M memories). 0003 ends
        with its own ANALYZE; pages already all-visible are skipped, so a table no file touched costs
        little. Only an optimisation: waits no longer than --lock-timeout, and anything in the way (not
        the owner: the server only warns; a statement_timeout) leaves it to autovacuum, silently."""
        import psycopg

        from setup_wizard.database.live_schema import quote_ident

        try:
            row = self.conn.execute("SELECT current_setting('lock_timeout')").fetchone()
            self.conn.execute("SELECT set_config('lock_timeout', %s, false)", [f"{int(self.lock_timeout * 1000)}ms"])
            try:
                for table in self.SETTLED_TABLES:
                    exists = self.conn.execute("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
                                               [schema, table]).fetchone()
                    if exists and exists[0]:
                        self.conn.execute(f"VACUUM {quote_ident(schema)}.{quote_ident(table)}")
            finally:
                self.conn.execute("SELECT set_config('lock_timeout', %s, false)", [row[0] if row else "0"])
        except (psycopg.Error, WizardError):
            pass

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
            from setup_wizard.database.writable import write_problem

            sqlstate, message = _error_detail(exc)
            known = None if self.conn.closed else write_problem(
                self.conn, schema=self.find_schema(), history=history_name(self.find_schema()))
            if known is not None and sqlstate in ("25006", "3F000", "42501"):
                raise MigrationError(known.code, known.detail, known.fix,
                                     [*done, MigrationOutcome(name, "failed")]) from exc
            code = "permission_denied" if sqlstate == "42501" else "migration_failed"
            detail = problems.cause("migration_failed", name=name) + f"\nSQLSTATE {sqlstate or '-'}: {message}"
            from setup_wizard.database.server_facts import explain_sqlstate  # the seed guide's known errors

            explained = explain_sqlstate(sqlstate)
            fix = problems.fix("migration_failed") + (f"\n{explained}" if explained else "")
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
            kind = "baseline" if is_baseline(self.conn, migration) else "applied"
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


def _backup_and_drop(conn: psycopg.Connection[Any], schema_of_tables: str) -> RecreateInfo:
    """Copy chat_sessions and the memories' links into a timestamped schema, then drop them."""
    from psycopg import sql

    from setup_wizard.database.live_schema import has_session_link

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    schema = f"setup_wizard_backup_{stamp}"
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
    restore: list[str] = ["BEGIN;"]
    has_sessions = conn.execute("SELECT to_regclass('chat_sessions') IS NOT NULL").fetchone()
    has_link = has_session_link(conn, schema_of_tables)
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
