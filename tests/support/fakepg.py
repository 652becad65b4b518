"""A tiny PostgreSQL look-alike on 127.0.0.1 that answers every login with a recorded ErrorResponse.

It stands in for a Korean Windows server, whose pre-login messages arrive in CP949: the reply bytes
are the recorded ones, unchanged. `ask_password=True` first requests a cleartext password (as a
server does before it can say the password is wrong), otherwise it lets the login in (trust) and
then refuses, as a server does for a missing role or database.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def _read_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError
        data += chunk
    return data


def _serve_one(conn: socket.socket, error_payload: bytes, ask_password: bool) -> None:
    with conn:
        conn.settimeout(5)
        while True:
            (length,) = struct.unpack("!i", _read_exact(conn, 4))
            body = _read_exact(conn, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.sendall(b"N")
                continue
            break
        if ask_password:
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            kind = _read_exact(conn, 1)
            (length,) = struct.unpack("!i", _read_exact(conn, 4))
            _read_exact(conn, length - 4)
            if kind != b"p":
                return
        else:
            conn.sendall(b"R" + struct.pack("!ii", 8, 0))  # AuthenticationOk (trust), then the refusal
        conn.sendall(b"E" + struct.pack("!i", 4 + len(error_payload)) + error_payload)


@contextlib.contextmanager
def fake_server(error_payload: bytes, ask_password: bool) -> Iterator[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(OSError, ConnectionError, struct.error):
                _serve_one(conn, error_payload, ask_password)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
