"""One database on the suite's test server, as the `database` fixture (conftest.py) hands it to a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from support.pgserver import TestServer


@dataclass
class Database:
    server: TestServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.server.conninfo(self.name), autocommit=True, **kwargs)  # type: ignore[arg-type]

    def scalar(self, query: str, params: Any = None) -> Any:
        with self.connect() as conn:
            row = conn.execute(query, params).fetchone()
            return row[0] if row else None


def admin_connection(server: TestServer) -> psycopg.Connection[Any]:
    """The superuser on the server's `postgres` database, for creating and dropping test databases."""
    return psycopg.connect(**server.conninfo("postgres"), autocommit=True)  # type: ignore[arg-type]
