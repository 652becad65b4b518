"""The backend's settings loader, with the backend's pinned libraries (tests/backend-requirements.txt).

Run it with the separate venv's python and cwd = the backend folder, as the backend starts:

    .venv-backend/bin/python tests/backend_loader.py

It does what app/service_agent/foundation/config.py, app/core/config.py and app/db/postgre_db.py do at
import time (load_dotenv(backend/.env), the pydantic-settings Settings, both engines), then asks libpq
where the sync engine would connect, without connecting: PQconnectStart resolves every parameter
(URL, then PG* variables, then libpq's defaults) and is finished at once. Prints one JSON object:
{ok, url (password masked), error_class, missing_module, target {host, port, user, dbname, password_set}}.
This file runs under the backend's libraries only; it imports nothing from setup_wizard.
"""

from __future__ import annotations

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
    warnings.simplefilter("ignore")
    out: dict[str, object] = {"ok": False, "url": None, "error_class": None, "missing_module": None,
                              "target": None}
    try:
        from dotenv import load_dotenv

        # foundation/config.py: backend_dir / ".env", never overriding the environment.
        load_dotenv(dotenv_path=Path.cwd() / ".env")

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

        settings = Settings()
        url = settings.DATABASE_URL
        out["url"] = redact(url)

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
        # psycopg.connect takes `context` beside the libpq parameters; libpq only sees the rest.
        params = {k: str(v) for k, v in cparams.items() if isinstance(v, (str, int))}
        conninfo = make_conninfo(*cargs, **params)
        pgconn = pq.PGconn.connect_start(conninfo.encode())
        try:
            out["target"] = {
                "host": (pgconn.host or b"").decode(),
                "port": (pgconn.port or b"").decode(),
                "user": (pgconn.user or b"").decode(),
                "dbname": (pgconn.db or b"").decode(),
                "password_set": bool(pgconn.password),
            }
        finally:
            pgconn.finish()
        out["ok"] = True
    except BaseException as exc:  # what the backend would die of, by class
        out["error_class"] = type(exc).__name__
        if isinstance(exc, ModuleNotFoundError):
            out["missing_module"] = exc.name
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main()
