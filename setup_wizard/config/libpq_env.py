"""The variables libpq reads from the process environment itself, and how a connection gets only ours.

libpq fills every connection parameter the caller leaves out from PG* variables (PGSSLMODE, PGSERVICE,
PGTARGETSESSIONATTRS, PGTZ, …) and finds ~/.pgpass through HOME (APPDATA on Windows), reading them
with getenv at connect time: from the process, not from anything we hand it. The program's one view
of its environment is `Environment.environ` (cli.py), and the settings are loaded from it, so every
connection (database/connect.libpq_connect, and the service's ping) runs inside
`libpq_environment(settings.libpq_environ)`: for its duration the process's libpq variables are
exactly the ones the settings were loaded from, then they are put back.

In a real run `Environment.environ` is `os.environ`, the two already agree and nothing is touched.
Only a caller of `cli.main` with another environment (the tests' in-process door, a program embedding
the wizard) sees a change, and only while libpq connects. The wizard connects from one thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping

# Besides PG*: where libpq looks for the password file (pqGetHomeDirectory).
_OTHER_KEYS = frozenset({"HOME", "APPDATA"})


def is_libpq_key(key: str) -> bool:
    return key.upper().startswith("PG") or key.upper() in _OTHER_KEYS


def libpq_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that libpq reads on its own."""
    return {key: value for key, value in environ.items() if is_libpq_key(key)}


@contextlib.contextmanager
def libpq_environment(wanted: Mapping[str, str], omit: Iterable[str] = ()) -> Iterator[None]:
    """Run the body with the process's libpq variables equal to `wanted` (less `omit`), then restore."""
    skipped = set(omit)
    target = {key: value for key, value in wanted.items() if key not in skipped}
    before = libpq_variables(os.environ)
    if before == target:
        yield
        return
    try:
        _make(target)
        yield
    finally:
        _make(before)


def _make(variables: Mapping[str, str]) -> None:
    for key in libpq_variables(os.environ):
        if key not in variables:
            del os.environ[key]
    for key, value in variables.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
