"""Bounded sessions: no statement the wizard runs may wait for ever, and a wait that ends says who held it.

Every connection the wizard opens carries `lock_timeout` and `statement_timeout` in libpq's startup
`options`, so read-only checks are bounded too, not only migrations. The values are the client's
(PGC_S_CLIENT), which beat `ALTER ROLE/DATABASE ... SET`: a role with `statement_timeout = 1ms` does not
break the wizard. Migrations raise statement_timeout for their own transaction (SET LOCAL), because
rewriting a big table legitimately takes minutes (1M memories: ~2.5-15 s measured) and cancelling it
halfway only wastes the work; the longer bound still ends a true hang.

A statement that hits one of those limits outside a transaction (checks, plans) is turned into a known
failure by the connection's cursor class: `lock_timeout` naming who holds the lock (pid, application,
since when, what it runs) or `statement_timeout` naming where the limit came from. Reads that need a
transaction (the verification) use `bounded_transaction`, which does the same after the rollback.

The lock timeout is a budget for the whole session, not for each statement: once a wait has run out,
the session's later statements wait at most SPENT_LOCK_TIMEOUT (`check` reads the same held table in
several items, and would otherwise wait the full timeout in each of them), and their failure says the
time was already spent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.errors import WizardError
from setup_wizard.messages import locks as msg
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

# Read-only statements (checks, plans, verification): 1M-row verification reads take about 1 s.
QUERY_STATEMENT_TIMEOUT = 60.0
# One migration file in its transaction: generous, but a hang still ends.
MIGRATION_STATEMENT_TIMEOUT = 30 * 60.0
DEFAULT_LOCK_TIMEOUT = 10.0
# What a session may still wait for a lock once its lock timeout ran out (see the module's docstring).
SPENT_LOCK_TIMEOUT = 0.2
# The session's own record of the wait that ran out (a custom setting: it lives and dies with the session).
_WAITED_SETTING = "setup_wizard.lock_waited"


@record
class SessionLimits:
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # seconds
    statement_timeout: float = QUERY_STATEMENT_TIMEOUT  # seconds

    def options(self) -> str:
        """The libpq `options` switches that set both limits for the whole session."""
        return (f"-c lock_timeout={_ms(self.lock_timeout)} "
                f"-c statement_timeout={_ms(self.statement_timeout)}")


def _ms(seconds: float) -> str:
    return f"{max(1, int(seconds * 1000))}ms"


def merge_options(ours: str, theirs: str | None) -> str:
    """Ours first, then the person's own (URL `options` or PGOPTIONS): a value they chose wins."""
    return f"{ours} {theirs}".strip() if theirs else ours


# --- who holds the lock ---------------------------------------------------------------------------------

@record
class LockHolder:
    pid: int
    application: str
    client: str
    state: str
    since: datetime | None
    seconds: float
    query: str
    tables: str
    mode: str

    def line(self) -> str:
        return msg.LOCK_HOLDER_LINE.format(
            pid=self.pid, application=self.application or "?", client=self.client,
            state=self.state or "?", seconds=int(self.seconds), tables=self.tables, mode=self.mode,
            query=self.query or "?")


# Other sessions holding a granted lock on a table in this database that could block us. For a read,
# only ACCESS EXCLUSIVE blocks; a migration (DDL) is blocked by any lock on the tables it touches.
_HOLDERS_SQL = """
SELECT a.pid,
       coalesce(a.application_name, ''),
       coalesce(host(a.client_addr), 'local'),
       coalesce(a.state, ''),
       coalesce(a.xact_start, a.backend_start),
       extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start)),
       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 160),
       string_agg(DISTINCT c.relname, ', '),
       string_agg(DISTINCT l.mode, ', ')
  FROM pg_locks AS l
  JOIN pg_class AS c ON c.oid = l.relation
  JOIN pg_stat_activity AS a ON a.pid = l.pid
 WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND c.relnamespace <> 'pg_catalog'::regnamespace
   AND (l.mode = 'AccessExclusiveLock' OR c.relname = ANY(%s))
 GROUP BY 1, 2, 3, 4, 5, 6, 7
 ORDER BY 6 DESC
 LIMIT 5
"""


def lock_holders(conn: psycopg.Connection[Any], tables: tuple[str, ...] = ()) -> list[LockHolder]:
    """Sessions that hold locks we may be waiting for; [] when that cannot be read."""
    import psycopg

    try:
        rows = conn.execute(_HOLDERS_SQL, [list(tables)]).fetchall()
    except (psycopg.Error, WizardError):
        return []
    return [LockHolder(int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], float(r[5] or 0), str(r[6]),
                       str(r[7]), str(r[8])) for r in rows]


def lock_timeout_error(conn: psycopg.Connection[Any] | None, seconds: float | str,
                       tables: tuple[str, ...] = ()) -> WizardError:
    holders = lock_holders(conn, tables) if conn is not None and not conn.closed else []
    base = problems.error("lock_timeout", seconds=seconds)
    detail, fix = base.detail, base.fix or ""
    if holders:
        detail += "\n" + msg.LOCK_HOLDERS_HEAD + "\n" + "\n".join(h.line() for h in holders)
        fix += "\n" + msg.LOCK_HOLDER_FIX.format(pids=", ".join(str(h.pid) for h in holders),
                                                 pid=holders[0].pid)
    return problems.error("lock_timeout", detail, fix)


def lock_wait_ran_out(conn: psycopg.Connection[Any], tables: tuple[str, ...] = ()) -> WizardError:
    """The known failure for a read whose lock wait ran out (outside a transaction, or after its
    rollback). The first one spends the session's budget: later waits are SPENT_LOCK_TIMEOUT long."""
    waited = _waited(conn)
    error = lock_timeout_error(conn, waited or _current_seconds(conn, "lock_timeout"), tables)
    if waited:
        error.detail += "\n" + msg.LOCK_ALREADY_WAITED.format(seconds=waited)
    else:
        _spend_budget(conn)
    return error


def _waited(conn: psycopg.Connection[Any]) -> str | None:
    import psycopg

    try:
        row = psycopg.Cursor(conn).execute("SELECT current_setting(%s, true)", [_WAITED_SETTING]).fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row and row[0] else None


def _spend_budget(conn: psycopg.Connection[Any]) -> None:
    import psycopg

    with suppress(psycopg.Error):
        psycopg.Cursor(conn).execute(
            """SELECT set_config(%s, ((setting::numeric / 1000)::float8)::text, false),
                      set_config('lock_timeout', %s, false)
                 FROM pg_settings WHERE name = 'lock_timeout'""", [_WAITED_SETTING, _ms(SPENT_LOCK_TIMEOUT)])


@contextmanager
def bounded_transaction(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """`conn.transaction()` for reads: a limit hit inside it is told, after the rollback, as the same known
    failure the cursor gives outside a transaction (who holds the lock, where the time limit came from)."""
    import psycopg
    from psycopg import pq

    try:
        with conn.transaction():
            yield
    except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
        if conn.closed or conn.info.transaction_status != pq.TransactionStatus.IDLE:
            raise
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            raise lock_wait_ran_out(conn) from exc
        raise statement_timeout_error(conn, conn.info.user) from exc


# --- where a statement_timeout came from -------------------------------------------------------------------

def statement_timeout_source(conn: psycopg.Connection[Any]) -> tuple[str, str, str | None]:
    """(value, pg_settings.source, the role's or database's own setting if any) for the session."""
    import psycopg

    try:
        row = conn.execute(
            """SELECT s.setting || coalesce(s.unit, ''), s.source,
                      (SELECT string_agg(cfg, ', ')
                         FROM pg_db_role_setting AS d, unnest(d.setconfig) AS cfg
                        WHERE cfg LIKE 'statement\\_timeout=%'
                          AND d.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
                          AND d.setdatabase IN (0, (SELECT oid FROM pg_database
                                                     WHERE datname = current_database())))
                 FROM pg_settings AS s WHERE s.name = 'statement_timeout'"""
        ).fetchone()
    except (psycopg.Error, WizardError):
        return "?", "?", None
    if row is None:
        return "?", "?", None
    return str(row[0]), str(row[1]), (str(row[2]) if row[2] else None)


def statement_timeout_error(conn: psycopg.Connection[Any] | None, user: str, limit: str | None = None) -> WizardError:
    value, source, stored = ("?", "?", None)
    if conn is not None and not conn.closed:
        value, source, stored = statement_timeout_source(conn)
    base = problems.error("statement_timeout", value=limit or value, source=msg.SETTING_SOURCES.get(source, source),
                          user=user)
    if stored:
        base.detail += "\n" + msg.STATEMENT_TIMEOUT_STORED.format(setting=stored, user=user)
    return base


# --- the cursor every wizard connection uses ----------------------------------------------------------------

def _make_cursor_class() -> type[Any]:
    import psycopg
    from psycopg import pq

    class BoundedCursor(psycopg.Cursor[Any]):
        """A limit hit outside a transaction becomes a known failure (in a transaction, the owner of the
        transaction explains it after rolling back: nothing can be read in an aborted transaction)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            try:
                return super().execute(query, params, **kwargs)
            except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
                conn = self.connection
                if conn.closed or conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    raise
                if isinstance(exc, psycopg.errors.LockNotAvailable):
                    raise lock_wait_ran_out(conn) from exc
                raise statement_timeout_error(conn, conn.info.user) from exc

    return BoundedCursor


def session_lock_timeout(conn: psycopg.Connection[Any]) -> float | None:
    """This session's lock_timeout in seconds (None when unset or unreadable)."""
    import psycopg

    try:
        row = conn.execute("SELECT setting::float8 / 1000 FROM pg_settings WHERE name = 'lock_timeout'").fetchone()
    except (psycopg.Error, WizardError):
        return None
    return float(row[0]) if row and row[0] else None


def _current_seconds(conn: psycopg.Connection[Any], name: str) -> str:
    import psycopg

    try:
        row = psycopg.Cursor(conn).execute(
            "SELECT (setting::numeric / 1000)::float8 FROM pg_settings WHERE name = %s", [name]).fetchone()
    except psycopg.Error:
        return "?"
    return f"{row[0]:g}" if row and row[0] is not None else "?"


_CURSOR: type[Any] | None = None


def cursor_class() -> type[Any]:
    global _CURSOR
    if _CURSOR is None:
        _CURSOR = _make_cursor_class()
    return _CURSOR


def known_failure(error: BaseException) -> WizardError | None:
    """The last net's chance (cli): a limit hit inside someone's transaction, told as a known failure."""
    import psycopg

    if isinstance(error, psycopg.errors.LockNotAvailable):
        return problems.error("lock_timeout", seconds="?")
    if isinstance(error, psycopg.errors.QueryCanceled):
        return statement_timeout_error(None, "?")
    return None
