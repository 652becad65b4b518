"""What pending migrations will do to this particular database, and what the server said after.

Both are declared by the files themselves (database/migration_files.py), not by code here:
`describe_pending` tries each pending file's `-- setup_wizard:plan-when:` queries (read-only, with the
search_path the file itself will run with) and returns its first `plan:` sentence that applies;
`summarise_notices` turns each `setup_wizard:<tag> key=value ...` notice a file raises into the Korean
sentence the file declares for that tag. A file that declares nothing gets PLAN_GENERIC.
Notices the server itself sends (e.g. "already exists, skipping") arrive in the server's language,
so they are only counted by kind; `-v` shows the originals.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from setup_wizard.database.limits import bounded_transaction
from setup_wizard.database.live_schema import contract_schema
from setup_wizard.database.migration_files import NOTICE_PREFIX, Migration, load_migrations
from setup_wizard.messages import migrations as msg

if TYPE_CHECKING:
    import psycopg


def _shown(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _describe(conn: psycopg.Connection[Any], migration: Migration) -> str:
    """The first of the file's declared cases that applies here. A query that cannot run here (a table it
    reads is missing) or a sentence its columns do not fill is the file's mistake: the file is then only
    named, as a file without a plan is."""
    import psycopg

    try:
        with conn.transaction():  # a savepoint: a failed query leaves the other files' queries their turn
            return _first_case(conn, migration)
    except (psycopg.errors.ProgrammingError, psycopg.errors.DataError, KeyError, IndexError, ValueError):
        return msg.PLAN_GENERIC.format(name=migration.name)


def _first_case(conn: psycopg.Connection[Any], migration: Migration) -> str:
    for case in migration.plan:
        if case.when is None:
            return case.text
        cursor = conn.execute(case.when.encode("utf-8"))
        row = cursor.fetchone()
        if row is not None:
            names = [column.name for column in cursor.description or ()]
            return case.text.format(**{name: _shown(value) for name, value in zip(names, row, strict=True)})
    return msg.PLAN_GENERIC.format(name=migration.name)


def describe_pending(conn: psycopg.Connection[Any], names: Iterable[str],
                     migrations: Sequence[Migration] | None = None) -> list[tuple[str, str]]:
    """(file name, what it will do here) for each pending file, in order. Read-only: the files' queries
    run in one read-only transaction, with the search_path the files run with (the contract's schema)."""
    by_name = {m.name: m for m in (load_migrations() if migrations is None else migrations)}
    wanted = [by_name.get(name, Migration(name, "", None)) for name in names]
    if not any(m.plan for m in wanted):
        return [(m.name, msg.PLAN_GENERIC.format(name=m.name)) for m in wanted]
    from psycopg import pq

    schema = contract_schema(conn)
    outermost = conn.info.transaction_status == pq.TransactionStatus.IDLE
    with bounded_transaction(conn):
        if outermost:
            conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SELECT set_config('search_path', quote_ident(%s), true)", [schema])
        return [(m.name, _describe(conn, m)) for m in wanted]


_FIELD = re.compile(r"(?:^|\s)(?P<key>[a-z_]+)=")


def _fields(payload: str, keys: Iterable[str]) -> dict[str, str]:
    """`key=value` fields of a notice: each value runs to the next wanted key (the last one to the end,
    so a value may hold spaces, like a trigger's definition)."""
    wanted = set(keys)
    starts: list[tuple[int, int, str]] = []  # (where the key starts, where its value starts, key)
    for match in _FIELD.finditer(payload):
        key = match.group("key")
        if key in wanted and all(key != seen for _, _, seen in starts):
            starts.append((match.start(), match.end(), key))
    ends = [start for start, _, _ in starts[1:]] + [len(payload)] if starts else []
    return {key: payload[value:end].strip() for (_, value, key), end in zip(starts, ends, strict=True)}


def _ours(notice: str, declared: dict[str, str]) -> str | None:
    """One of our own notices (`setup_wizard:<tag> key=value ...`) in the Korean its file declares."""
    if not notice.startswith(NOTICE_PREFIX):
        return None
    tag, _, payload = notice[len(NOTICE_PREFIX):].partition(" ")
    text = declared.get(tag)
    if text is None:
        return None
    keys = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    values = _fields(payload, keys)
    if set(keys) - set(values):  # the SQL and its declaration disagree: shown as a notice among the others
        return None
    return text.format(**{key: _shown(int(value)) if value.isdigit() else value for key, value in values.items()})


# The server's own notices arrive in its language (lc_messages): English or Korean here.
_EXISTS_SKIPPING = ("already exists, skipping", "이미 있음")
_MISSING_SKIPPING = ("does not exist, skipping", "없음, 건너뜀")


def summarise_notices(notices: Iterable[str], verbose: bool = False,
                      migrations: Sequence[Migration] | None = None) -> list[str]:
    """Our own notices in the Korean their files declare; the server's own, counted by what they say
    ("already exists, skipping", "does not exist, skipping", other). Without -v, where to see the originals."""
    declared = {tag: text for m in (load_migrations() if migrations is None else migrations)
                for tag, text in m.notices}
    summary: list[str] = []
    exists = missing = others = 0
    for notice in notices:
        ours = _ours(notice, declared)
        if ours is not None:
            summary.append(ours)
        elif any(words in notice for words in _EXISTS_SKIPPING):
            exists += 1
        elif any(words in notice for words in _MISSING_SKIPPING):
            missing += 1
        else:
            others += 1
    for count, text in ((exists, msg.NOTICE_EXISTS_SKIPPED), (missing, msg.NOTICE_MISSING_SKIPPED),
                        (others, msg.NOTICE_OTHER)):
        if count:
            summary.append(text.format(count=count))
    if exists + missing + others and not verbose:
        summary.append(msg.NOTICE_SEE_ORIGINALS)
    return summary
