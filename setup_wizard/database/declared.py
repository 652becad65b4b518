"""Tables the backend's models declare beyond our contract, read without importing the backend.

The backend's SQLAlchemy models (backend/app/models/*.py) also declare its real-estate tables
(regions, real_estates, transactions, ...). They are made by
the backend's own tools, not by our migrations; `check` names the ones the database lacks, as
information, with the backend's way to make them. Importing the models would need the backend's
whole environment, so the `__tablename__` assignments are read with `ast`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setup_wizard.database.contract import CHECKPOINT_TABLES, CONTRACT
from setup_wizard.record import record

if TYPE_CHECKING:
    import psycopg

MODELS = Path("app") / "models"


@record
class Declared:
    table: str
    model: str  # the class that declares it
    file: str  # relative to the backend folder, with forward slashes


def find_backend(cwd: Path, env_file: Path | None = None) -> Path | None:
    """The backend folder: the .env's folder, ./backend or the current folder, whichever has app/models."""
    candidates = [env_file.parent] if env_file is not None else []
    candidates += [cwd / "backend", cwd]
    return next((folder for folder in candidates if (folder / MODELS).is_dir()), None)


def declared_tables(backend: Path) -> list[Declared]:
    """Every `__tablename__ = "..."` in app/models/*.py (not its subfolders, which hold old copies)."""
    found: dict[str, Declared] = {}
    for path in sorted((backend / MODELS).glob("*.py")):
        if path.stem.endswith("_old"):
            continue  # real_estate_old.py: a copy kept beside the live models
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if (isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant)
                        and isinstance(item.value.value, str)
                        and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in item.targets)):
                    name = item.value.value
                    found.setdefault(name, Declared(name, node.name, path.relative_to(backend).as_posix()))
    return sorted(found.values(), key=lambda d: d.table)


def missing_beyond_contract(conn: psycopg.Connection[Any], backend: Path, schema: str) -> list[Declared]:
    """Declared tables outside our contract that the database (in `schema`) does not have. Read-only."""
    ours = {t.name for t in CONTRACT.tables} | set(CHECKPOINT_TABLES)
    declared = [d for d in declared_tables(backend) if d.table not in ours]
    if not declared:
        return []
    present = {r[0] for r in conn.execute(
        "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(format('%%I.%%I', %s::text, n)) IS NOT NULL",
        [[d.table for d in declared], schema]).fetchall()}
    return [d for d in declared if d.table not in present]
