"""The backend's settings loader, with the backend's pinned libraries (tests/backend-requirements.txt).

Run it with the separate venv's python and cwd = the backend folder, as the backend starts:

    .venv-backend/bin/python tests/support/backend_loader.py

It does what app/service_agent/foundation/config.py, app/core/config.py and app/db/postgre_db.py do at
import time (load_dotenv(backend/.env), the pydantic-settings Settings, both engines), then asks libpq
where the sync engine would connect, without connecting: PQconnectStart resolves every parameter
(URL, then PG* variables, then libpq's defaults) and is finished at once. Prints one JSON object:
{ok, url (password masked), error_class, missing_module, target {host, port, user, dbname, password_set}}.
This file runs under the backend's libraries only; it imports nothing from setup_wizard.

`--batch` (every platform) answers a list of cases per request line in one process, for the differential
tests of DATABASE_URL (tests/config/test_backend_url.py): thousands of .env texts and environments per second.

`--serve` (POSIX only) is the same loader for many layouts at once, as the test matrix uses it: the
libraries are imported once, then each request line {"cwd": ..., "environ": {...}} is answered by a
forked child that takes exactly that environment and folder and runs main(), so every layout still
starts from a fresh process state (its own environment, nothing loaded from the previous .env) but
without paying the interpreter start and the imports again (about 0.9 s each).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from pathlib import Path
from typing import List  # noqa: UP035  (as the backend writes it)


def redact(url: str) -> str:
    head, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, hostport = authority.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{head}://{user}{':***' if colon else ''}@{hostport}{slash}{tail}"


def main() -> None:
    sys.stdout.write(json.dumps(load()) + "\n")


@functools.lru_cache(maxsize=1)
def settings_class() -> type:
    """app/core/config.py's Settings (the fields that can stop it). Made once: pydantic builds a class
    slowly, and it reads nothing until it is instantiated."""
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):  # app/core/config.py, the fields that can stop it
        PROJECT_NAME: str = "HolmesNyangz"
        SECRET_KEY: str = ""
        DATABASE_URL: str = ""
        ALLOWED_HOSTS: List[str] = ["http://localhost:3000", "http://127.0.0.1:3000"]  # noqa: UP006
        POSTGRES_HOST: str = "localhost"
        POSTGRES_PORT: int = 5432
        POSTGRES_USER: str = "postgres"
        POSTGRES_PASSWORD: str = "root1234"
        POSTGRES_DB: str = "real_estate"

        class Config:
            env_file = ".env"
            env_file_encoding = "utf-8"
            extra = "allow"

    return Settings


def load(full: bool = False) -> dict[str, object]:
    """What the backend does at start-up in this folder and environment. full=True adds, for the batch
    mode, the raw URL, the keyword arguments psycopg.connect receives, libpq's resolved options and
    whether libpq refuses the parameters whatever the network (see refusal())."""
    warnings.simplefilter("ignore")
    out: dict[str, object] = {"ok": False, "url": None, "error_class": None, "missing_module": None,
                              "target": None}
    try:
        from dotenv import load_dotenv

        # foundation/config.py: backend_dir / ".env", never overriding the environment.
        before = dict(os.environ)
        load_dotenv(dotenv_path=Path.cwd() / ".env")
        if full:  # every value load_dotenv set, interpolated: the whole file as the backend reads it
            out["dotenv"] = {key: value for key, value in os.environ.items() if key not in before}

        settings = settings_class()()
        url = settings.DATABASE_URL
        out["url"] = redact(url)
        if full:
            out["raw_url"] = url

        # app/db/postgre_db.py
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_engine(url, pool_pre_ping=True)
        async_url = url.replace("postgresql+psycopg://", "postgresql+psycopg_async://")
        create_async_engine(async_url, pool_pre_ping=True, echo=False)

        # Where the sync engine's psycopg connection would go: libpq resolves, nothing is sent.
        from psycopg import pq
        from psycopg.conninfo import make_conninfo

        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        out["driver"] = engine.url.drivername
        out["async_dialect"] = bool(engine.dialect.is_async)  # psycopg_async: the sync engine cannot connect
        # psycopg.connect takes `context` beside the libpq parameters; libpq only sees the rest, each
        # as str(value) (make_conninfo), None left out.
        params = {k: str(v) for k, v in cparams.items() if k != "context" and v is not None}
        if full:
            out["params"] = params
            out["libpq_refusal"] = refusal(params)
        out["ok"] = True  # both engines made: the backend starts
        try:
            conninfo = make_conninfo(*cargs, **params)
        except Exception as exc:  # libpq's conninfo parser refuses: every connection will
            out["target_error"] = type(exc).__name__
            return out
        pgconn = pq.PGconn.connect_start(conninfo.encode())
        try:
            out["target"] = {
                "host": (pgconn.host or b"").decode(),
                "port": (pgconn.port or b"").decode(),
                "user": (pgconn.user or b"").decode(),
                "dbname": (pgconn.db or b"").decode(),
                "password_set": bool(pgconn.password),
            }
            if full:
                out["libpq"] = {o.keyword.decode(): o.val.decode("utf-8", "replace")
                                for o in pgconn.info if o.val is not None}
        finally:
            pgconn.finish()
    except BaseException as exc:  # what the backend would die of, by class
        out["error_class"] = type(exc).__name__
        if isinstance(exc, ModuleNotFoundError):
            out["missing_module"] = exc.name
    return out


PROBE_HOST = "/nonexistent-setup-wizard"


def refusal(params: dict[str, str]) -> str | None:
    """libpq's own judgement of these parameters, the network left out: the same conninfo with every
    host replaced by a socket folder that does not exist, so that libpq walks through all of them (each
    fails at once) and reports only what it refuses before connecting. None: nothing refused."""
    from psycopg import ProgrammingError, pq
    from psycopg.conninfo import make_conninfo

    hosts = params["host"] if "host" in params else os.environ.get("PGHOST", "")
    probe = {key: value for key, value in params.items() if key != "hostaddr"}
    probe["host"] = ",".join(PROBE_HOST for _ in hosts.split(","))
    try:
        conninfo = make_conninfo("", **probe)
    except ProgrammingError as exc:
        return f"conninfo: {exc}"
    hostaddr = os.environ.pop("PGHOSTADDR", None)
    pgconn = pq.PGconn.connect_start(conninfo.encode())
    try:
        message = (pgconn.error_message or b"").decode("utf-8", "replace")
    finally:
        pgconn.finish()
        if hostaddr is not None:
            os.environ["PGHOSTADDR"] = hostaddr
    refused = [line for line in message.splitlines()
               if line.strip() and not line[0].isspace() and PROBE_HOST not in line]
    return "; ".join(refused) or None


def batch() -> None:
    """Many cases per request, in this one process: each request line is a JSON list of
    {"env": base64 bytes of backend/.env or null, "environ": {...}}; the answer line is the list of
    load(full=True) results. Each case gets a fresh folder, exactly its environment (what load_dotenv
    added is gone before the next case) and a fresh Settings class: nothing carries over."""
    import base64
    import logging
    import tempfile

    preload()
    logging.getLogger("dotenv").setLevel(logging.ERROR)  # "could not parse statement": a case, not news
    base = {key: os.environ[key] for key in ("PATH", "SYSTEMROOT") if key in os.environ}
    for line in sys.stdin:
        results = []
        with tempfile.TemporaryDirectory() as folder:
            for number, case in enumerate(json.loads(line)):
                here = Path(folder) / str(number)
                here.mkdir()
                if case.get("env") is not None:
                    (here / ".env").write_bytes(base64.b64decode(case["env"]))
                os.chdir(here)
                os.environ.clear()
                os.environ.update({**base, **case["environ"]})
                results.append(load(full=True))
            os.chdir(folder + "/..")
        sys.stdout.write(json.dumps(results) + "\n")
        sys.stdout.flush()


def preload() -> None:
    """Import what main() imports, without reading any setting: none of these reads the environment
    or a .env at import time (pydantic-settings and python-dotenv read when called, libpq when
    connecting), so a child forked afterwards behaves as a fresh process would."""
    import dotenv  # noqa: F401
    import psycopg.conninfo
    import psycopg.pq  # noqa: F401
    import pydantic_settings  # noqa: F401
    import sqlalchemy
    import sqlalchemy.dialects.postgresql.psycopg
    import sqlalchemy.ext.asyncio  # noqa: F401


def serve() -> None:
    preload()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: this layout's folder and environment only
            code = 1
            try:
                os.chdir(request["cwd"])
                os.environ.clear()
                os.environ.update(request["environ"])
                main()
                sys.stdout.flush()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:  # never leave the reader waiting for a line
            sys.stdout.write(json.dumps({"ok": False, "error_class": f"loader child died ({status})"}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif sys.argv[1:] == ["--batch"]:
        batch()
    else:
        main()
