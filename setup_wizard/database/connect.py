"""Connecting, and telling why a connection failed without trusting the server's language.

A failed connect carries no SQLSTATE, and a Korean Windows server's text arrives in CP949 before a
database is chosen. So the classification uses signals that do not depend on language: name
resolution, libpq's ping (needs no credentials), a TCP probe, libpq's own needs_password flag, and
after logging in to the maintenance database, pg_database. Message text is only shown, never parsed.
"""

from __future__ import annotations

import errno
import re
import socket
import struct
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from setup_wizard import problems
from setup_wizard.config.libpq_env import libpq_environment
from setup_wizard.config.settings import Settings
from setup_wizard.database.limits import SessionLimits, cursor_class, merge_options
from setup_wizard.errors import WizardError
from setup_wizard.machine.system import running_platform
from setup_wizard.messages import login as msg
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 5  # seconds; a closed port on Windows takes ~2 s to refuse
APPLICATION_NAME = "setup_wizard"
MAINTENANCE_DATABASES = ("postgres", "template1")


def decode_server_bytes(raw: bytes) -> str:
    """Server text as sent: UTF-8, or CP949 from a Korean Windows server before login."""
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding).strip()
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace").strip()


def error_text(exc: BaseException) -> str:
    """The failure's message, decoded correctly. Never the repr: libpq's includes the password."""
    pgconn = getattr(exc, "pgconn", None)
    raw = getattr(pgconn, "error_message", None)
    if isinstance(raw, bytes) and raw:
        return decode_server_bytes(raw)
    return str(exc)


def connect(settings: Settings, dbname: str | None = None, autocommit: bool = True,
            limits: SessionLimits | None = None) -> psycopg.Connection[Any]:
    """Every session is bounded (lock_timeout, statement_timeout): see database/limits.py."""
    return libpq_connect(settings, connect_params(settings, dbname, limits), autocommit=autocommit,
                         cursor_factory=cursor_class())


def libpq_connect(settings: Settings, params: Mapping[str, Any], omit: Iterable[str] = (),
                  **options: Any) -> psycopg.Connection[Any]:
    """psycopg.connect(**params, **options), every connection's one door: libpq sees the environment the
    settings were loaded from and nothing else (config/libpq_env.py), less the variables in `omit`."""
    import psycopg

    with libpq_environment(settings.libpq_environ, omit):
        return psycopg.connect(**params, **options)


def connect_params(settings: Settings, dbname: str | None = None,
                   limits: SessionLimits | None = None) -> dict[str, Any]:
    """The settings' parameters for psycopg. The URL's own connect_timeout, sslmode or options win
    (our timeout only fills in: passed beside them, psycopg got the same keyword twice, a TypeError);
    application_name stays ours, so that our sessions are recognisable in pg_stat_activity.
    Every session carries lock_timeout and statement_timeout in libpq's `options` (database/limits.py):
    ours first, the person's own options after them, so a value they chose wins."""
    params = settings.conninfo_params(dbname, connect_timeout=CONNECT_TIMEOUT)
    params["application_name"] = APPLICATION_NAME
    params["options"] = merge_options((limits or SessionLimits()).options(), params.get("options"))
    return params


@record
class Reachability:
    state: str  # "ok", "refused", "unresolved", "timeout"


def probe(host: str, port: int, timeout: float = 3.0) -> Reachability:
    """A TCP probe: does anything listen there? Unix socket paths count as reachable here."""
    if host.startswith("/"):
        return Reachability("ok")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return Reachability("unresolved")
    outcome = "refused"
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
                return Reachability("ok")
            except TimeoutError:
                outcome = "timeout"
            except OSError as exc:
                if exc.errno not in (errno.ECONNREFUSED, getattr(errno, "WSAECONNREFUSED", -1)):
                    outcome = "timeout"
    return Reachability(outcome)


@record
class StartupReply:
    """The server's first answer to a startup packet, read off the wire (no password sent).

    kind: "ready" (trust: logged in), "password" (it asks for one), "error" (it refused at once,
    with a SQLSTATE), or "none" (no usable answer).
    """

    kind: str
    sqlstate: str | None = None
    message: str = ""


PROTOCOL_3_0 = 196608


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def parse_error_fields(payload: bytes) -> dict[str, bytes]:
    """The fields of an ErrorResponse: one type byte, then a NUL-terminated value, until a NUL."""
    fields: dict[str, bytes] = {}
    position = 0
    while position < len(payload) and payload[position] != 0:
        kind = chr(payload[position])
        end = payload.find(b"\0", position + 1)
        if end < 0:
            break
        fields[kind] = payload[position + 1:end]
        position = end + 1
    return fields


def startup_probe(host: str, port: int, user: str, dbname: str, timeout: float = 3.0) -> StartupReply:
    """Send a startup packet and read the first reply: its SQLSTATE is language-independent, and its
    text arrives as raw bytes (CP949 from a Korean Windows server), decoded here correctly."""
    body = b"".join(
        key.encode() + b"\0" + value.encode("utf-8") + b"\0"
        for key, value in (("user", user), ("database", dbname), ("application_name", APPLICATION_NAME))
    ) + b"\0"
    packet = struct.pack("!ii", 8 + len(body), PROTOCOL_3_0) + body
    try:
        if host.startswith("/"):
            if running_platform().is_windows:
                raise OSError(errno.EAFNOSUPPORT, "no Unix-domain sockets on Windows")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # type: ignore[attr-defined,unused-ignore]
            address: str | None = f"{host}/.s.PGSQL.{port}"
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
            address = None
        with sock:
            sock.settimeout(timeout)
            if address is not None:
                sock.connect(address)
            sock.sendall(packet)
            # Without a password (trust) the server says AuthenticationOk first, then checks the
            # role and the database: read on until it is ready, refuses, or asks for a password.
            for _ in range(64):
                kind = _read_exact(sock, 1)
                (length,) = struct.unpack("!i", _read_exact(sock, 4))
                payload = _read_exact(sock, max(0, min(length - 4, 65536)))
                if kind == b"R" and len(payload) >= 4 and struct.unpack("!i", payload[:4])[0] != 0:
                    return StartupReply("password")
                if kind == b"E":
                    fields = parse_error_fields(payload)
                    sqlstate = fields.get("C", b"").decode("ascii", errors="replace") or None
                    return StartupReply("error", sqlstate, decode_server_bytes(fields.get("M", b"")))
                if kind == b"Z":
                    return StartupReply("ready")
    except (OSError, ConnectionError, struct.error):
        return StartupReply("none")
    return StartupReply("none")


def looks_like_missing_role(message: str, user: str) -> bool:
    """Last resort, for SQLSTATE 28000 (shared by a missing role and a pg_hba.conf refusal): the
    server's English or Korean wording, e.g. 'role "x" does not exist' / '"x" 롤(role) 없음'."""
    if "pg_hba" in message or f'"{user}"' not in message:
        return False
    return bool(re.search(r"\brole\b", message, re.IGNORECASE)) or "롤" in message


# PostgreSQL's own wording (English, and its Korean translation in postgres-15.mo), for failures that
# come after the password: the connection limits (53300) and a role without LOGIN (28000).
FULL_TEXTS = (
    "too many clients already", "remaining connection slots are reserved", "too many connections for",
    "최대 동시 접속자 수를 초과", "최대 동시 접속수를 초과", "최대 접속수를 초과", "남은 연결 슬롯은",
)
NOLOGIN_TEXTS = ("is not permitted to log in", "롤은 접속을 허용하지 않음")


def _matches(message: str, texts: tuple[str, ...]) -> bool:
    return any(text in message for text in texts)


def _session_attrs_unmet(settings: Settings) -> WizardError | None:
    """target_session_attrs that this server does not satisfy, told without reading libpq's text:
    the same login without the parameter works, and the server says what it is."""
    import psycopg

    wanted = str(settings.conninfo_params().get("target_session_attrs") or "any")
    if wanted == "any":
        return None
    params = connect_params(settings)
    params.pop("target_session_attrs", None)
    try:
        with libpq_connect(settings, params, omit={"PGTARGETSESSIONATTRS"}, autocommit=True) as conn:
            row = conn.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").fetchone()
    except psycopg.Error:
        return None
    standby, read_only = (bool(row[0]), str(row[1])) if row else (False, "?")
    state = msg.SERVER_STATE_STANDBY if standby else (
        msg.SERVER_STATE_READ_ONLY if read_only == "on" else msg.SERVER_STATE_PRIMARY)
    return problems.error("session_attrs_unmet", **_where(settings), wanted=wanted, state=state)


def psql_line(conn: psycopg.Connection[Any], user: str | None = None, dbname: str | None = None) -> str:
    """`psql -h … -p … -U … -d …` for the server this connection talks to: a command shown in a fix goes
    to this server, not to psql's default one."""
    import shlex

    info = conn.info
    host = info.host if not info.host.startswith("/") else info.hostaddr or info.host
    parts = ["psql", "-h", host, "-p", str(info.port), "-U", user or info.user, "-d", dbname or info.dbname]
    return " ".join(shlex.quote(part) for part in parts)


class _Where(TypedDict):
    host: str
    port: int
    user: str
    dbname: str


def _where(settings: Settings) -> _Where:
    """The values every connection failure's text names: the server, the user, the database."""
    return {"host": settings.host, "port": settings.port, "user": settings.user, "dbname": settings.dbname}


_REPLY_CODES = {"3D000": "database_missing", "28P01": "auth_failed", "53300": "server_full"}


def _from_reply(settings: Settings, reply: StartupReply) -> WizardError | None:
    """A refusal in the server's first reply: its SQLSTATE first, its text only to split 28000."""
    if reply.kind != "error":
        return None
    code = _REPLY_CODES.get(reply.sqlstate or "")
    if code is not None:
        return problems.error(code, **_where(settings), message=reply.message)
    if reply.sqlstate == "28000" and looks_like_missing_role(reply.message, settings.user):
        return problems.error("role_missing", **_where(settings))
    if reply.sqlstate == "28000" and _matches(reply.message, NOLOGIN_TEXTS):
        return problems.error("role_cannot_login", **_where(settings))
    return None


def _after_password(settings: Settings, message: str) -> WizardError | None:
    """Refusals that come after the password, which libpq reports as text only (no SQLSTATE survives a
    failed connect): target_session_attrs is told without text; the rest is the last resort, in the
    server's English or Korean wording."""
    unmet = _session_attrs_unmet(settings)
    if unmet is not None:
        return unmet
    if _matches(message, FULL_TEXTS):
        return problems.error("server_full", **_where(settings), message=message)
    if _matches(message, NOLOGIN_TEXTS):
        return problems.error("role_cannot_login", **_where(settings))
    return None


def _database_exists_elsewhere(settings: Settings) -> bool | None:
    """Log in to a maintenance database: does the target database exist? None: no login there either."""
    import psycopg

    for maintenance in MAINTENANCE_DATABASES:
        if maintenance == settings.dbname:
            continue
        try:
            with connect(settings, maintenance) as conn:
                row = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)", [settings.dbname]
                ).fetchone()
        except psycopg.OperationalError:
            continue
        return bool(row and row[0])
    return None


def classify_connect_failure(settings: Settings, exc: Exception) -> WizardError:
    """Turn a failed connect to the target database into a known problem."""
    pgconn = getattr(exc, "pgconn", None)
    message = error_text(exc)
    if pgconn is not None and getattr(pgconn, "needs_password", False) and not settings.password:
        return problems.error("password_missing", **_where(settings))

    reach = probe(settings.host, settings.port)
    if reach.state == "unresolved" or reach.state == "timeout":
        return problems.error("host_unreachable", **_where(settings))
    if reach.state == "refused":
        return problems.error("server_not_running", **_where(settings))

    # Something listens. Its first answer to a startup packet needs no password and carries a
    # SQLSTATE when it refuses at once (trust or peer setups, a missing database or role, no slot).
    reply = startup_probe(settings.host, settings.port, settings.user, settings.dbname)
    known = _from_reply(settings, reply) or _after_password(settings, message)
    if known is not None:
        return known
    if reply.kind == "error" and reply.message:
        message = f"{reply.message} (SQLSTATE {reply.sqlstate or '-'})"

    # Can these credentials log in anywhere?
    exists = _database_exists_elsewhere(settings)
    if exists is False:
        return problems.error("database_missing", **_where(settings))
    if exists:
        # The database exists and the login works: something else (CONNECT privilege, pg_hba...).
        return problems.error("connection_failed", **_where(settings), message=message)
    if pgconn is not None and getattr(pgconn, "used_password", False):
        return problems.error("auth_failed", **_where(settings))
    return problems.error("connection_failed", **_where(settings), message=message)


def open_database(settings: Settings, limits: SessionLimits | None = None) -> psycopg.Connection[Any]:
    """Connect to the target database, or raise the classified problem."""
    import psycopg

    try:
        return connect(settings, limits=limits)
    except psycopg.OperationalError as exc:
        raise classify_connect_failure(settings, exc) from None


def create_database(settings: Settings) -> None:
    """CREATE DATABASE with a quoted identifier, UTF8, from the maintenance database."""
    import psycopg
    from psycopg import sql

    last: Exception | None = None
    for maintenance in MAINTENANCE_DATABASES:
        try:
            conn = connect(settings, maintenance)
        except psycopg.OperationalError as exc:
            last = exc
            continue
        with conn:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                        sql.Identifier(settings.dbname)
                    )
                )
            except psycopg.errors.DuplicateDatabase:
                return
            except psycopg.errors.InsufficientPrivilege as exc:
                raise problems.error("permission_denied", **_where(settings)) from exc
        return
    raise classify_connect_failure(settings, last or RuntimeError("no maintenance database"))


def server_version(conn: psycopg.Connection[Any]) -> str:
    """The server's version ("15.10"): what SHOW server_version says, without asking it again. The
    server reports server_version (a read-only setting) to libpq when the session starts."""
    text = conn.info.parameter_status("server_version")
    return text.split()[0] if text else "?"
