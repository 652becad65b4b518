"""The migration files themselves: the plain SQL in sql/, found, read and fingerprinted.

`sql_dir` finds the files (shipped inside the installed package as setup_wizard/sql, else sql/ beside
the source tree); `load_migrations` reads them in name order into `Migration`s with their checksum
and what a file declares about itself in `-- setup_wizard:` comment lines, one line each:

- `baseline-when: <query>`: true when the database was migrated by hand before the file was ever recorded.
- `replaces-checksum: <sha256>`: an earlier release of the file that counts as applied.
- `plan-when: <query>` then `plan: <Korean sentence>`: what the file will do to this database, for the
  plan preview (database/preview.py). The cases are tried in order; a case applies when its query returns
  a row, whose columns fill the sentence's {placeholders}; a `plan:` without `plan-when:` always applies.
- `notice: <tag> <Korean sentence>`: what the notice `RAISE NOTICE 'setup_wizard:<tag> key=value ...'`
  means, its {placeholders} filled from the notice's key=value fields. `\\n` in a sentence is a line break.

The plan and notice lines are words about the file, not its SQL: they are left out of its checksum, so
rewording them never makes an applied file look changed.
A new migration is therefore its file here plus, when the backend depends on what it makes, its objects in
database/contract.py (which `check`, the repairs and the lock messages read); no code names the file.
Nothing here touches a database; the history (database/migration_history.py), the runner
(database/migrate.py) and the preview (database/preview.py) build on these.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from setup_wizard.record import record

_BASELINE = re.compile(r"^--\s*setup_wizard:baseline-when:\s*(?P<query>.+)$", re.MULTILINE)
_REPLACES = re.compile(r"^--\s*setup_wizard:replaces-checksum:\s*(?P<checksum>[0-9a-f]{64})\s*$", re.MULTILINE)
_DECLARATION = re.compile(r"^--[ \t]*setup_wizard:(?P<kind>plan-when|plan|notice):[ \t]*(?P<value>[^\n]*)\n?",
                          re.MULTILINE)
_NOTICE = re.compile(r"^(?P<tag>[a-z0-9][a-z0-9-]*)\s+(?P<text>.+)$")
NOTICE_PREFIX = "setup_wizard:"


@record
class PlanCase:
    """One thing a file may do to a database: `text` when `when` (a read-only query) returns a row."""

    when: str | None
    text: str


@record
class Migration:
    name: str
    text: str
    baseline_when: str | None
    replaces: tuple[str, ...] = ()  # checksums of earlier releases that count as applied
    plan: tuple[PlanCase, ...] = ()  # in order; the first that applies says what the file will do
    notices: tuple[tuple[str, str], ...] = ()  # (tag, Korean sentence) for each notice the file raises

    @property
    def checksum(self) -> str:
        # Line endings normalised: a Windows checkout (autocrlf) must not look "changed".
        normalised = self.text.replace("\r\n", "\n")
        return hashlib.sha256(_DECLARATION.sub("", normalised).encode("utf-8")).hexdigest()


def sql_dir() -> Path:
    """The migrations: setup_wizard/sql in an installed package, else sql/ beside the source tree."""
    package = Path(__file__).resolve().parent.parent  # setup_wizard/
    packaged = package / "sql"
    if any(packaged.glob("*.sql")):
        return packaged
    return package.parent / "sql"


def _sentence(declared: str) -> str:
    return declared.replace("\\n", "\n")


def _declared(text: str) -> tuple[tuple[PlanCase, ...], tuple[tuple[str, str], ...]]:
    """The plan cases and notices a file declares, in order."""
    plan: list[PlanCase] = []
    notices: list[tuple[str, str]] = []
    when: str | None = None
    for match in _DECLARATION.finditer(text.replace("\r\n", "\n")):
        kind, value = match.group("kind"), match.group("value").strip()
        if kind == "plan-when":
            when = value
        elif kind == "plan":
            plan.append(PlanCase(when, _sentence(value)))
            when = None
        elif notice := _NOTICE.match(value):
            notices.append((notice.group("tag"), _sentence(notice.group("text"))))
    return tuple(plan), tuple(notices)


def load_migrations(directory: Path | None = None) -> list[Migration]:
    folder = directory or sql_dir()
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        match = _BASELINE.search(text)
        plan, notices = _declared(text)
        migrations.append(
            Migration(
                name=path.name,
                text=text,
                baseline_when=match.group("query").strip() if match else None,
                replaces=tuple(m.group("checksum") for m in _REPLACES.finditer(text)),
                plan=plan,
                notices=notices,
            )
        )
    return migrations
