"""What pending migrations will do to this particular database, and what the server said after.

Both are computed, not drawn: `describe_pending` reads the database (read-only) and returns one
Korean sentence per pending file; `summarise_notices` turns the notices our SQL raises into Korean.
Notices the server itself sends (e.g. "already exists, skipping") arrive in the server's language,
so they are only counted by kind; `-v` shows the originals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from setup_wizard import messages as msg
from setup_wizard.database.contract import COUNTING_TRIGGER
from setup_wizard.database.live_schema import counting_triggers, has_session_link

if TYPE_CHECKING:
    import psycopg

# What one file will do to this database, read from it (read-only).
Describe: TypeAlias = Callable[["psycopg.Connection[Any]"], str]


def _exists(conn: psycopg.Connection[Any], regclass: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [regclass]).fetchone()
    return bool(row and row[0])


def _describe_0001(conn: psycopg.Connection[Any]) -> str:
    missing = []
    row = conn.execute("SELECT to_regtype('usertype') IS NOT NULL").fetchone()
    if not (row and row[0]):
        missing.append("usertype")
    missing += [name for name in ("users", "conversation_memories") if not _exists(conn, name)]
    return msg.PLAN_0001_CREATE.format(names=", ".join(missing)) if missing else msg.PLAN_0001_PRESENT


def _describe_0003(conn: psycopg.Connection[Any]) -> str:
    if _exists(conn, "chat_sessions") and has_session_link(conn):
        text = msg.PLAN_0003_HAND
        # What 0003 removes before creating its own: every other trigger that counts into chat_sessions.
        duplicates = [t.name for t in counting_triggers(conn) if t.name != COUNTING_TRIGGER]
        if duplicates:
            text += " " + msg.PLAN_0003_DUPLICATES.format(count=len(duplicates), names=", ".join(duplicates))
        return text
    if not _exists(conn, "conversation_memories"):
        return msg.PLAN_0003_EMPTY
    row = conn.execute("SELECT count(DISTINCT user_id), count(*) FROM conversation_memories").fetchone()
    users, memories = (int(row[0]), int(row[1])) if row else (0, 0)
    if memories == 0:
        return msg.PLAN_0003_EMPTY
    return msg.PLAN_0003_LINK.format(users=f"{users:,}", memories=f"{memories:,}")



def _present_or_create(tables: tuple[str, ...], present: str, create: str) -> Describe:
    """A file that creates `tables` when missing: `present` when all of them are there, else `create`."""
    return lambda conn: present if all(_exists(conn, table) for table in tables) else create


# What each file will do here, by file name; a file not listed gets PLAN_GENERIC. A new migration the
# contract depends on adds its line here (and its PLAN_ texts in messages.py).
DESCRIBE: dict[str, Describe] = {
    "0001_prerequisites.sql": _describe_0001,
    "0002_sessions.sql": _present_or_create(("sessions",), msg.PLAN_0002_PRESENT, msg.PLAN_0002_CREATE),
    "0003_chat_sessions.sql": _describe_0003,
    "0004_memory_tables.sql": _present_or_create(("user_preferences", "entity_memories"),
                                                 msg.PLAN_0004_PRESENT, msg.PLAN_0004_CREATE),
    "0005_chat_messages.sql": _present_or_create(("chat_messages",), msg.PLAN_0005_PRESENT, msg.PLAN_0005_CREATE),
}


def describe_pending(conn: psycopg.Connection[Any], names: Iterable[str]) -> list[tuple[str, str]]:
    """(file name, what it will do here) for each pending file, in order. Read-only."""
    return [(name, DESCRIBE[name](conn) if name in DESCRIBE else msg.PLAN_GENERIC.format(name=name))
            for name in names]


_MIGRATED = re.compile(r"^Migrated memories of (?P<users>\d+) users into (?P<sessions>\d+) sessions$")
_DUPLICATE = re.compile(r"^Dropped duplicate counting trigger (?P<name>.+)$")  # 0003's first release
# sql/0003_chat_sessions.sql: stable prefixes, one line each.
_DROPPED = re.compile(r"^setup_wizard:dropped-counting-trigger name=(?P<name>\S+) restore=(?P<restore>.+)$")
_FK_KEPT = re.compile(r"^setup_wizard:session-fk-kept name=(?P<name>\S+)$")


# The server's own notices arrive in its language (lc_messages): English or Korean here.
_EXISTS_SKIPPING = ("already exists, skipping", "이미 있음")
_MISSING_SKIPPING = ("does not exist, skipping", "없음, 건너뜀")


def _ours(notice: str) -> str | None:
    """One of our own notices (sql/*.sql RAISE NOTICE/WARNING, always English) in Korean."""
    if match := _MIGRATED.match(notice):
        users = int(match.group("users"))
        return (msg.NOTICE_MIGRATED.format(users=f"{users:,}", sessions=f"{int(match.group('sessions')):,}")
                if users else msg.NOTICE_MIGRATED_NONE)
    if notice.startswith("conversation_memories.session_id already exists"):
        return msg.NOTICE_LINKS_KEPT
    if match := _DROPPED.match(notice):
        return msg.NOTICE_DROPPED_COUNTING_TRIGGER.format(name=match.group("name"), restore=match.group("restore"))
    if match := _FK_KEPT.match(notice):
        return msg.NOTICE_SESSION_FK_KEPT.format(name=match.group("name"))
    if match := _DUPLICATE.match(notice):
        return msg.NOTICE_DUPLICATE_TRIGGER.format(name=match.group("name"))
    if notice.startswith("fk_conv_mem_session left NOT VALID"):
        return msg.NOTICE_FK_NOT_VALID
    return None


def summarise_notices(notices: Iterable[str], verbose: bool = False) -> list[str]:
    """Our own notices in Korean; the server's own, counted by what they say ("already exists,
    skipping", "does not exist, skipping", other). Without -v, where to see the originals."""
    summary: list[str] = []
    exists = missing = others = 0
    for notice in notices:
        ours = _ours(notice)
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
