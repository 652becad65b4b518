"""`check` and an up-to-date `--yes` load only what their verdict needs (issue 20, "Speed").

A working connection to an up-to-date database needs none of the machine's fixes (starting a service,
resetting a password, installing PostgreSQL on Windows), no migration preview and no write-permission
diagnosis, and `check` without --report no `platform` module. What a process imported is read from
`python -X importtime` (one line per module on stderr), so no timing is asserted: only which modules
the run loaded.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
from dataclasses import field
from pathlib import Path

import pytest
from support.databases import Database
from support.program import clean_environ

from setup_wizard.database.migrate import Runner
from setup_wizard.database.migration_files import load_migrations
from setup_wizard.messages import finish as finish_msg
from setup_wizard.record import is_record, record, replace, values

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


def test_no_class_of_the_package_is_built_by_dataclasses() -> None:
    """dataclass() compiles each class's methods with exec at import (0.13-0.55 ms a class); the package's
    value classes are `@record`s, whose methods are shared (setup_wizard/record.py)."""
    import dataclasses
    import importlib
    import pkgutil

    import setup_wizard

    built_by_dataclasses, records = [], 0
    for info in pkgutil.walk_packages(setup_wizard.__path__, "setup_wizard."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == info.name:
                if dataclasses.is_dataclass(value):
                    built_by_dataclasses.append(f"{info.name}.{name}")
                records += is_record(value)
    assert built_by_dataclasses == []
    assert records > 60


@record
class _Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


@record(eq=True)
class _Key:
    name: str
    note: str = field(default="", compare=False)


@record(eq=True)
class _Named(_Key):
    number: int = 1


@dataclasses.dataclass
class _PointAsDataclass:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


@pytest.mark.parametrize(("args", "kwargs"), [
    ((1,), {}), ((1, 2), {}), ((), {"x": 1, "y": 2}), ((1,), {"tags": ["a"]}),
    ((), {}), ((1, 2, [], 4), {}), ((1,), {"x": 2}), ((1,), {"z": 2}),
])
def test_a_record_is_built_as_a_dataclass_is(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    def build(cls: type) -> object:
        try:
            return values(cls(*args, **kwargs)) if cls is _Point else dataclasses.asdict(cls(*args, **kwargs))
        except TypeError:
            return TypeError

    assert build(_Point) == build(_PointAsDataclass)


def test_record_defaults_factories_equality_and_replace() -> None:
    first, second = _Point(1), _Point(1)
    first.tags.append("a")
    assert second.tags == [] and _Point.y == 0 and not hasattr(_Point, "tags")  # a fresh list each time
    assert first != second and len({first, second}) == 2  # by identity
    assert _Key("a", "one") == _Key("a", "two") and hash(_Key("a", "one")) == hash(_Key("a", "two"))
    assert _Key("a") != _Key("b") and _Key("a") != _Named("a")
    assert repr(_Key("a")) == "_Key(name='a', note='')"
    assert values(_Named("a", number=3)) == {"name": "a", "note": "", "number": 3}
    moved = replace(first, y=5)
    assert (moved.x, moved.y, moved.tags) == (1, 5, ["a"]) and (first.x, first.y) == (1, 0)
    with pytest.raises(TypeError):
        replace(first, z=1)


# `python -m setup_wizard ARGS` that writes, on its way out, whether the cyclic garbage collector was on.
GC_PROBE = """
import gc, runpy, sys
state = sys.argv[1]
sys.argv = ["setup_wizard", *sys.argv[2:]]
try:
    runpy.run_module("setup_wizard", run_name="__main__", alter_sys=True)
finally:
    open(state, "w").write(str(gc.isenabled()))
"""


@slow
def test_a_short_run_goes_without_the_cyclic_collector(migrated: Database, tmp_path: Path) -> None:
    state = tmp_path / "gc.txt"
    done = subprocess.run([sys.executable, "-c", GC_PROBE, str(state), "check", "--json", "--dsn", migrated.url],
                          cwd=tmp_path, env=clean_environ(), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=120)
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")[-2000:]
    assert state.read_text(encoding="utf-8") == "False"


@slow
def test_the_interactive_walk_turns_the_collector_back_on(tmp_path: Path) -> None:
    import pexpect

    from setup_wizard.messages import backend_settings

    state = tmp_path / "gc.txt"
    child = pexpect.spawn(sys.executable, ["-c", GC_PROBE, str(state)], cwd=str(tmp_path),
                          env=clean_environ(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="200", LINES="50"),
                          encoding="utf-8", codec_errors="replace", timeout=30, dimensions=(50, 200))
    child.expect(backend_settings.ASK_CONTINUE_WITHOUT_BACKEND.split("?")[0][:20])
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert state.read_text(encoding="utf-8") == "True"


# `python -m setup_wizard ARGS` beside an object whose destructor only the interpreter's teardown calls, and
# an atexit function registered while the run is under way (as a library does on first use).
TEARDOWN_PROBE = """
import atexit, runpy, sys
import setup_wizard.cli as cli

class TornDown:
    def __del__(self):
        sys.stderr.write("torn down\\n")

kept = TornDown()
state, real_main = sys.argv[1], cli.main

def main(*args):
    atexit.register(lambda: open(state, "w").write("atexit ran"))
    return real_main(*args)

cli.main = main
sys.argv = ["setup_wizard", *sys.argv[2:]]
runpy.run_module("setup_wizard", run_name="__main__", alter_sys=True)
"""


@slow
@pytest.mark.parametrize("args", [("check", "--json"), ("--yes",)])
def test_the_process_leaves_without_the_interpreters_teardown(migrated: Database, tmp_path: Path,
                                                             args: tuple[str, ...]) -> None:
    """Every atexit function runs and the whole result is written, with the run's exit code; the
    interpreter's teardown (clearing every module, freeing every object) is skipped."""
    state = tmp_path / "atexit.txt"
    done = subprocess.run([sys.executable, "-c", TEARDOWN_PROBE, str(state), *args, "--dsn", migrated.url],
                          cwd=tmp_path, env=clean_environ(), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert state.read_text(encoding="utf-8") == "atexit ran"
    assert "torn down" not in done.stderr
    if "--json" in args:
        assert json.loads(done.stdout)["ok"] is (done.returncode == 0)
    else:
        assert done.returncode == 0 and finish_msg.SUMMARY_OK in done.stdout  # the last screen, whole
