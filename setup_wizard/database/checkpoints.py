"""LangGraph's checkpoint tables: what is there, and creating them through the library itself.

The backend's PostgresSaver creates `checkpoint_migrations`, `checkpoints`, `checkpoint_blobs` and
`checkpoint_writes` when the server first starts. With the optional extra installed
(`pip install .[checkpoints]`, which brings langgraph-checkpoint-postgres) the wizard can run the
library's own `setup()` ahead of time: in autocommit (it uses CREATE INDEX CONCURRENTLY) and under the
wizard's advisory lock (setup() is not safe to run twice at once). We never write its SQL ourselves.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard.config.settings import Settings
from setup_wizard.database.connect import connect_params, libpq_connect
from setup_wizard.database.contract import CHECKPOINT_TABLES
from setup_wizard.database.limits import MIGRATION_STATEMENT_TIMEOUT, SessionLimits, session_lock_timeout
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

    from setup_wizard.database.run_lock import Progress

TABLES = CHECKPOINT_TABLES  # stated once, in the contract
PACKAGE = "langgraph-checkpoint-postgres"
# As long as the migration runner waits for another run of the wizard.
LOCK_WAIT_SECONDS = 300.0


def library_installed() -> bool:
    try:
        return importlib.util.find_spec("langgraph.checkpoint.postgres") is not None
    except ModuleNotFoundError:  # the parent package "langgraph" is missing
        return False


def library_version() -> str | None:
    """The installed library's package version, for the report."""
    if not library_installed():
        return None
    from setup_wizard.packages import installed_version

    return installed_version(PACKAGE)


@functools.cache
def _migrations_in_source() -> int | None:
    """len(MIGRATIONS), read from the installed library's base.py without importing it (once a process).

    Importing langgraph pulls in langchain_core (~0.5 s), which alone would break the target of a
    rerun under 1 s; the list is a literal, so reading it statically gives the same number.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        files = distribution(PACKAGE).files or []
    except PackageNotFoundError:
        return None
    source = next((f for f in files if str(f).replace("\\", "/") == "langgraph/checkpoint/postgres/base.py"), None)
    if source is None:
        return None
    try:
        text = Path(source.locate()).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return _count_migrations(text)


_MIGRATIONS_START = re.compile(r"^MIGRATIONS\s*=\s*\[", re.MULTILINE)


def _count_migrations(text: str) -> int | None:
    """The number of items of the module-level `MIGRATIONS = [...]` literal. Only that statement is
    parsed (up to a `]` that starts a line and closes it): the whole module takes ~10 ms to parse."""
    import ast

    found = _MIGRATIONS_START.search(text)
    start = found.start() if found is not None else len(text)
    for end in re.finditer(r"^\]", text[start:], re.MULTILINE):
        try:
            body = ast.parse(text[start:start + end.end()]).body
        except SyntaxError:
            continue
        return _literal_length(body)
    try:
        return _literal_length(ast.parse(text).body)
    except (SyntaxError, ValueError):
        return None


def _literal_length(body: list[Any]) -> int | None:
    import ast

    for node in body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.List)
                and any(isinstance(t, ast.Name) and t.id == "MIGRATIONS" for t in node.targets)):
            return len(node.value.elts)
    return None


def expected_migration() -> int | None:
    if not library_installed():
        return None
    count = _migrations_in_source()
    if count is None:  # a layout we do not know: ask the library itself
        from langgraph.checkpoint.postgres import PostgresSaver

        count = len(PostgresSaver.MIGRATIONS)
    return count - 1


@record
class CheckpointState:
    present: tuple[str, ...]
    missing: tuple[str, ...]
    version: int | None  # max(v) in checkpoint_migrations; None when the table is absent or empty
    expected: int | None  # what the installed library would bring it to; None without the library

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def absent(self) -> bool:
        return not self.present

    @property
    def behind(self) -> bool:
        return self.expected is not None and (self.version is None or self.version < self.expected)

    @property
    def ahead(self) -> bool:
        return self.expected is not None and self.version is not None and self.version > self.expected

    @property
    def settable(self) -> bool:
        """The installed library's setup() would create, complete or bring them up to its version (the
        run's fix; `check` says how)."""
        return self.expected is not None and (not self.complete or self.behind)


def present_tables(conn: psycopg.Connection[Any]) -> set[str]:
    """LangGraph's tables that exist where the backend's PostgresSaver finds them: its queries are
    unqualified, so through the search_path. The one reading of them, for `check` and the run. Read-only."""
    return {r[0] for r in conn.execute(
        "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NOT NULL", [list(TABLES)]).fetchall()}


def read_state(conn: psycopg.Connection[Any]) -> CheckpointState:
    """Read-only."""
    present = present_tables(conn)
    version: int | None = None
    if "checkpoint_migrations" in present:
        row = conn.execute("SELECT max(v) FROM checkpoint_migrations").fetchone()
        version = int(row[0]) if row and row[0] is not None else None
    return CheckpointState(
        present=tuple(t for t in TABLES if t in present),
        missing=tuple(t for t in TABLES if t not in present),
        version=version,
        expected=expected_migration(),
    )


def create_tables(conn: psycopg.Connection[Any], settings: Settings, progress: Progress,
                  wait_seconds: float | None = None) -> CheckpointState:
    """Run PostgresSaver.setup() on its own autocommit connection, holding our lock on `conn`.

    Waits (for another run's lock, and setup()'s own lock waits) as long as `conn`'s lock_timeout, which
    is --lock-timeout for the wizard's sessions."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    from setup_wizard.database.run_lock import advisory_lock

    if wait_seconds is None:
        wait_seconds = session_lock_timeout(conn) or LOCK_WAIT_SECONDS
    # Bounded like every wizard session; CREATE INDEX CONCURRENTLY waits for open transactions.
    limits = SessionLimits(lock_timeout=wait_seconds, statement_timeout=MIGRATION_STATEMENT_TIMEOUT)
    with advisory_lock(conn, wait_seconds, progress), libpq_connect(
            # The connection PostgresSaver.from_conn_string would open, through our one door.
            settings, connect_params(settings, limits=limits), autocommit=True, prepare_threshold=0,
            row_factory=dict_row) as own:
        PostgresSaver(own).setup()
    return read_state(conn)
