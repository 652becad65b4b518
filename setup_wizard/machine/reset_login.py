"""Logging in during a password reset (steps 4 and 6 of machine/password_reset.py).

Through the temporary trust rules, `set_password` logs in without a password and stores a SCRAM
verifier computed here by libpq (`PQencryptPasswordConn`): the password itself never reaches the
server, its logs or a command line. Once the rules are back, `verify` waits until the server asks for
a password again and logs in with the new one. Neither ever reads ~/.pgpass.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from setup_wizard.config.settings import Settings
from setup_wizard.machine.trust_rules import ResetFailed
from setup_wizard.messages import login as msg

RELOAD_WAIT = 10.0  # seconds for a reload to take effect
NO_PASSFILE = os.path.join(tempfile.gettempdir(), "setup_wizard-no-passfile")


def _wait_for(settings: Settings, wanted: str, seconds: float = RELOAD_WAIT) -> str:
    """The server's first answer without a password until it is `wanted` ("ready": trust is in force;
    "password": it asks again), an error, or time runs out. Returns the last kind seen."""
    from setup_wizard.database.connect import startup_probe

    deadline = time.monotonic() + seconds
    while True:
        reply = startup_probe(settings.host, settings.port, settings.user, "postgres")
        if reply.kind == wanted or reply.kind == "error":
            if reply.kind == "error" and reply.sqlstate == "28000":
                raise ResetFailed(msg.RESET_REASON_ROLE_MISSING.format(user=settings.user))
            if reply.kind == "error" and reply.sqlstate == "3D000":  # logged in; no such database
                return wanted
            if reply.kind == "error":
                raise ResetFailed(msg.RESET_REASON_CONNECT.format(error=reply.message or reply.sqlstate))
            return reply.kind
        if time.monotonic() >= deadline:
            return reply.kind
        time.sleep(0.2)


def _params(settings: Settings, password: str) -> dict[str, Any]:
    params = settings.conninfo_params("postgres")
    # A passfile that does not exist: libpq then reads no ~/.pgpass (os.devnull would make it warn).
    params.update(password=password, passfile=NO_PASSFILE, connect_timeout=5, application_name="setup_wizard")
    return params


def set_password(settings: Settings, new_password: str) -> None:
    """Log in without a password (the temporary rules) and store a SCRAM verifier made here."""
    import psycopg
    from psycopg import sql

    from setup_wizard.database.connect import libpq_connect

    if _wait_for(settings, "ready") != "ready":
        raise ResetFailed(msg.RESET_REASON_CONNECT.format(error="trust"))
    try:
        with libpq_connect(settings, _params(settings, ""), autocommit=True) as conn:
            verifier = conn.pgconn.encrypt_password(new_password.encode("utf-8"), settings.user.encode("utf-8"))
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(settings.user), sql.Literal(verifier.decode("ascii"))))
    except psycopg.Error as exc:
        raise ResetFailed(msg.RESET_REASON_ALTER.format(error=type(exc).__name__)) from exc


def verify(settings: Settings, new_password: str) -> None:
    """The rules are back (the server asks for a password again) and the new password logs in."""
    import psycopg

    from setup_wizard.database.connect import libpq_connect

    if _wait_for(settings, "password") == "ready":  # still no password asked: the rules were not read back
        raise ResetFailed(msg.RESET_REASON_VERIFY.format(error="trust"), changed=True)
    try:
        with libpq_connect(settings, _params(settings, new_password)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ResetFailed(msg.RESET_REASON_VERIFY.format(error=type(exc).__name__), changed=True) from exc
