"""The migration files themselves: the plain SQL in sql/, found, read and fingerprinted.

`sql_dir` finds the files (shipped inside the installed package as setup_wizard/sql, else sql/ beside
the source tree); `load_migrations` reads them in name order into `Migration`s with their checksum
and the two markers a file may declare in a comment: `-- setup_wizard:baseline-when: <query>` (true
when the database was migrated by hand before the file was ever recorded) and
`-- setup_wizard:replaces-checksum: <sha256>` (an earlier release of the file that counts as applied).
Nothing here touches a database; the history (database/migration_history.py) and the runner
(database/migrate.py) build on these.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

_BASELINE = re.compile(r"^--\s*setup_wizard:baseline-when:\s*(?P<query>.+)$", re.MULTILINE)
_REPLACES = re.compile(r"^--\s*setup_wizard:replaces-checksum:\s*(?P<checksum>[0-9a-f]{64})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    name: str
    text: str
    baseline_when: str | None
    replaces: tuple[str, ...] = ()  # checksums of earlier releases that count as applied

    @property
    def checksum(self) -> str:
        # Line endings normalised: a Windows checkout (autocrlf) must not look "changed".
        normalised = self.text.replace("\r\n", "\n").encode("utf-8")
        return hashlib.sha256(normalised).hexdigest()


def sql_dir() -> Path:
    """The migrations: setup_wizard/sql in an installed package, else sql/ beside the source tree."""
    package = Path(__file__).resolve().parent.parent  # setup_wizard/
    packaged = package / "sql"
    if any(packaged.glob("*.sql")):
        return packaged
    return package.parent / "sql"


def load_migrations(directory: Path | None = None) -> list[Migration]:
    folder = directory or sql_dir()
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        match = _BASELINE.search(text)
        migrations.append(
            Migration(
                name=path.name,
                text=text,
                baseline_when=match.group("query").strip() if match else None,
                replaces=tuple(m.group("checksum") for m in _REPLACES.finditer(text)),
            )
        )
    return migrations
