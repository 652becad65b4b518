"""What the server says once logged in: its version, this role's privileges, and the seed guide's known
errors told in Korean. Each check returns a `Step`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setup_wizard import problems
from setup_wizard.config.settings import Settings
from setup_wizard.database.connect import server_version
from setup_wizard.machine.discovery import MINIMUM_SERVER_VERSION, PREFERRED_VERSION, Discovery
from setup_wizard.messages import locks as locks_msg
from setup_wizard.messages import login as login_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.results import Status, Step

if TYPE_CHECKING:
    import psycopg



def version_step(conn: psycopg.Connection[Any], discovery: Discovery | None) -> Step:
    from psycopg import pq

    # server_version_num and server_version as the server reported them at login (no round trip).
    number, text = conn.info.server_version, server_version(conn)
    libpq = pq.version()
    client = discovery.chosen.version if discovery and discovery.chosen else "-"
    detail = login_msg.SERVER_VERSION_DETAIL.format(server=text, client=client,
                                              libpq=f"{libpq // 10000}.{libpq % 100}")
    status = version_status(number // 10000)
    if status is Status.FAIL:
        return problems.step("server_version_unsupported", "server_version", Status.FAIL, login_msg.STEP_SERVER_VERSION,
                             detail=detail + "\n" + problems.cause("server_version_unsupported", server=text),
                             server=text)
    if status is Status.WARN:
        return problems.step("server_version_not_17", "server_version", Status.WARN, login_msg.STEP_SERVER_VERSION,
                             detail=detail + "\n" + login_msg.SERVER_VERSION_NOT_17.format(server=text), server=text)
    return Step("server_version", Status.OK, login_msg.STEP_SERVER_VERSION, detail)


def version_status(major: int) -> Status:
    """The verdict on a server's major version (server_version_num // 10000): below 13 unsupported
    (fail), not 17 a warning. The one judgment of it, for `check` and the run."""
    if major < MINIMUM_SERVER_VERSION:
        return Status.FAIL
    return Status.OK if str(major) == PREFERRED_VERSION else Status.WARN


def privileges_step(conn: psycopg.Connection[Any], settings: Settings) -> Step:
    """Can this role create the tables? (PostgreSQL 15+ no longer lets everyone create in public.)"""
    row = conn.execute("SELECT has_schema_privilege('public', 'CREATE'), "
                       "has_database_privilege(current_database(), 'CREATE')").fetchone()
    if row and row[0]:
        return Step(
            "privileges", Status.OK, locks_msg.STEP_PRIVILEGES, locks_msg.PRIVILEGES_OK.format(user=settings.user)
        )
    return problems.step("permission_denied", "privileges", Status.FAIL, locks_msg.STEP_PRIVILEGES,
                         user=settings.user, dbname=settings.dbname, host=settings.host, port=settings.port)


def explain_sqlstate(sqlstate: str | None) -> str | None:
    """The seed's known errors (already exists, does not exist, rolled back, FK) explained in Korean."""
    code = migrations_msg.SEED_ERRORS.get(sqlstate or "")
    if code is None:
        return None
    return problems.explain(code)
