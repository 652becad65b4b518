"""One run at a time: the wizard's session-level advisory lock, and who holds it.

The migrations, the repairs and the creation of LangGraph's checkpoint tables all run under
`advisory_lock`, which waits a bounded time for another run of the wizard to finish, says once who it
is waiting for (`other_run` reads pg_locks and pg_stat_activity), and raises the catalogue's
`run_in_progress` when the wait runs out. `Progress` is the callback those runs report their lines to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.messages import locks as msg
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

# Any fixed 64-bit number: the same for every run of the wizard against one database.
ADVISORY_LOCK_KEY = 7_263_544_331_020_917

Progress = Callable[[str], None]


@record
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
