"""`check` and an up-to-date `--yes` load only what their verdict needs (issue 20, "Speed").

A working connection to an up-to-date database needs none of the machine's fixes (starting a service,
resetting a password, installing PostgreSQL on Windows), no migration preview and no write-permission
diagnosis, and `check` without --report no `platform` module. What a process imported is read from
`python -X importtime` (one line per module on stderr), so no timing is asserted: only which modules
the run loaded.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest
from support.databases import Database
from support.program import clean_environ

from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations

REPO = Path(__file__).resolve().parents[2]

slow = pytest.mark.slow  # real processes under -X importtime

# Loaded only when the connection fails, a migration is pending, the schema drifts or a write fails.
NOT_ON_THE_HAPPY_PATH = (
    "setup_wizard.machine.services",
    "setup_wizard.machine.password_reset",
    "setup_wizard.machine.reset_login",
    "setup_wizard.machine.trust_rules",
    "setup_wizard.machine.windows_install",
    "setup_wizard.database.preview",
    "setup_wizard.database.writable",
    "setup_wizard.database.repair",
    "questionary",
    "prompt_toolkit",
    "getpass",  # the OS login is libpq's default user: asked only when no source names one
)
# --dsn outside a backend folder: no backend .env to read as the backend does, no URL to parse, no .env
# planned or written; and an up-to-date database takes no run lock.
NOTHING_WRITTEN_WITH_DSN = ("setup_wizard.config.envfix", "setup_wizard.config.envwrite",
                            "setup_wizard.config.dotenv_backend", "setup_wizard.config.backend_url",
                            "setup_wizard.database.run_lock")
# `check` without --report: no run of the database phase (nor its migration runner), no report file, no
# operating system line.
NOT_IN_CHECK = ("setup_wizard.flow.database_phase", "setup_wizard.database.migrate", "setup_wizard.flow.agree",
                "setup_wizard.ui.reportfile", "platform")


@pytest.fixture
def migrated(database: Database) -> Database:
    with database.connect() as conn:
        conn.execute((REPO / "sql" / "0001_prerequisites.sql").read_text(encoding="utf-8").encode())
        Runner(conn, load_migrations()).apply()
    return database


def loaded_modules(*args: str, cwd: Path) -> tuple[int, set[str]]:
    """The exit code of `python -X importtime -m setup_wizard ARGS` and every module it imported."""
    env = clean_environ()
    env.pop("PYTHONIMPORTTIME", None)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "setup_wizard", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8", timeout=120)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "setup_wizard.cli" in names, done.stderr[-2000:]
    return done.returncode, names


@slow
def test_check_loads_no_fix_no_run_phase_and_no_platform(migrated: Database, tmp_path: Path) -> None:
    code, names = loaded_modules("check", "--json", "--dsn", migrated.url, cwd=tmp_path)
    assert code in (0, 1)
    assert "setup_wizard.flow.checks" in names  # the run did get as far as the checklist
    assert sorted(names.intersection(NOT_ON_THE_HAPPY_PATH + NOT_IN_CHECK + NOTHING_WRITTEN_WITH_DSN)) == []


@slow
def test_up_to_date_yes_loads_no_fix(migrated: Database, tmp_path: Path) -> None:
    env = clean_environ()
    first = subprocess.run([sys.executable, "-m", "setup_wizard", "--yes", "--json", "--dsn", migrated.url],
                           cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert first.returncode == 0, first.stderr.decode(errors="replace")[-2000:]
    code, names = loaded_modules("--yes", "--json", "--dsn", migrated.url, cwd=tmp_path)
    assert code == 0
    assert "setup_wizard.flow.database_phase" in names  # the run did reach the database
    assert sorted(names.intersection(NOT_ON_THE_HAPPY_PATH + NOTHING_WRITTEN_WITH_DSN)) == []


@slow
def test_check_report_still_lists_the_operating_system(migrated: Database, tmp_path: Path) -> None:
    """The lazy imports are still made where they are used: the --report file and its OS line."""
    report = tmp_path / "report.md"
    code, names = loaded_modules("check", "--report", str(report), "--dsn", migrated.url, cwd=tmp_path)
    assert code in (0, 1)
    assert {"platform", "setup_wizard.ui.reportfile"} <= names
    assert platform.system() in report.read_text(encoding="utf-8")


def test_only_classes_compared_by_value_are_frozen_at_run_time() -> None:
    """`frozen=True` generates __setattr__ and __delattr__ at import; a class compared and hashed by identity
    (eq=False) is a `@record`, whose fields mypy keeps read-only (setup_wizard/record.py)."""
    import dataclasses
    import importlib
    import pkgutil

    import setup_wizard

    frozen_by_identity = []
    for info in pkgutil.walk_packages(setup_wizard.__path__, "setup_wizard."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == info.name and dataclasses.is_dataclass(value):
                params = value.__dataclass_params__  # type: ignore[attr-defined]
                if params.frozen and not params.eq:
                    frozen_by_identity.append(f"{info.name}.{name}")
    assert frozen_by_identity == []
