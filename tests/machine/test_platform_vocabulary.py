"""One vocabulary for the operating system, and where an installation was found, in Korean.

`Platform` (machine/system.py) is what the System, the Environment and the catalogue's platform-tagged
steps all speak; `running_platform()` is the only reader of the interpreter's `sys.platform`. `Origin`
(machine/discovery.py) says where an installation was found; every place that lists installations shows
its Korean name (messages.install.ORIGINS): the check's text, --json, the --report file and the wizard's table.
"""

from __future__ import annotations

import ast
import io
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console
from support.pgserver import free_port
from support.program import clean_environ, run_inprocess
from support.recorded import windows_two_versions
from support.recorded_system import RecordedSystem

from setup_wizard import problems
from setup_wizard.environment import Environment
from setup_wizard.flow.checks import run_all
from setup_wizard.flow.options import Options
from setup_wizard.machine.discovery import Origin, discover
from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.system import CommandResult, Platform, running_platform
from setup_wizard.messages import install as msg
from setup_wizard.problems import catalogue
from setup_wizard.ui.render import UNICODE_SYMBOLS, render_report, write_json
from setup_wizard.ui.screen import Screen

PACKAGE = Path(__file__).resolve().parents[2] / "setup_wizard"
SEAM = PACKAGE / "machine" / "system.py"
# What sys.platform, os.name and the old System vocabulary call an operating system.
PLATFORM_WORDS = {"win32", "windows", "linux", "darwin", "macos", "cygwin", "nt", "posix"}


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path != SEAM)


def _strings(node: ast.expr) -> list[str]:
    """The string constants a comparison operand holds (itself, or the items of a tuple, list or set)."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]


def interpreter_platform_reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in {("sys", "platform"), ("os", "name")}):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module in ("sys", "os") and any(
                alias.name in ("platform", "name") for alias in node.names):
            lines.append(node.lineno)
    return lines


def platform_string_compares(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Compare) and any(
        word.lower() in PLATFORM_WORDS for side in [node.left, *node.comparators] for word in _strings(side))]


# --- Platform: one vocabulary, one reader ---------------------------------------------------------------

def test_only_the_seam_reads_the_interpreters_platform() -> None:
    found = {str(path.relative_to(PACKAGE)): lines for path in modules()
             if (lines := interpreter_platform_reads(ast.parse(path.read_text(encoding="utf-8"))))}
    assert found == {}, "read sys.platform / os.name through machine.system.running_platform()"
    assert interpreter_platform_reads(ast.parse(SEAM.read_text(encoding="utf-8")))  # the scan sees the seam's


def test_no_platform_is_compared_as_a_string() -> None:
    found = {str(path.relative_to(PACKAGE)): lines for path in modules()
             if (lines := platform_string_compares(ast.parse(path.read_text(encoding="utf-8"))))}
    assert found == {}, "compare Platform members (system.platform is Platform.WINDOWS, .is_windows)"
    assert platform_string_compares(ast.parse('if platform == "windows": pass'))  # the scan finds one


@pytest.mark.parametrize(("interpreter", "expected"), [
    ("win32", Platform.WINDOWS), ("linux", Platform.LINUX), ("darwin", Platform.MACOS), ("freebsd14", Platform.LINUX)])
def test_environment_and_system_speak_one_vocabulary(monkeypatch: pytest.MonkeyPatch, interpreter: str,
                                                     expected: Platform) -> None:
    monkeypatch.setattr(sys, "platform", interpreter)
    environment = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    system = RealSystem(environ={})
    assert running_platform() is expected
    assert environment.platform is expected and system.platform is expected


def test_git_bash_is_known_by_the_enum() -> None:
    mintty = {"MSYSTEM": "MINGW64"}
    assert Environment(stdin=io.StringIO(), environ=mintty, platform=Platform.WINDOWS).git_bash
    assert not Environment(stdin=io.StringIO(), environ=mintty, platform=Platform.LINUX).git_bash


def test_catalogue_steps_are_tagged_with_the_enums_values() -> None:
    values = {platform.value for platform in Platform}
    tags = {step.partition(":")[0] for problem in catalogue().values() for step in problem.steps
            if step.partition(":")[0].isalpha() and step.partition(":")[0].islower()}
    assert tags and tags <= values, tags - values
    advice = {platform: problems.fix("postgres_not_found", platform) for platform in Platform}
    assert "winget" in advice[Platform.WINDOWS] and "apt" not in advice[Platform.WINDOWS]
    assert "apt install" in advice[Platform.LINUX] and "brew" not in advice[Platform.LINUX]
    assert "brew install" in advice[Platform.MACOS] and "winget" not in advice[Platform.MACOS]
    assert problems.fix("postgres_not_found") == advice[running_platform()]


# --- Origin: where an installation was found, in Korean -------------------------------------------------

def test_every_origin_has_a_korean_name() -> None:
    assert set(msg.ORIGINS) == {origin.value for origin in Origin}
    for origin in Origin:
        # A proper name (PATH, Homebrew, Postgres.app) may stay as is; never the internal value in lower case.
        assert origin.shown.strip() and (origin.shown != origin.value or origin is Origin.PATH), origin


def windows_machine() -> RecordedSystem:
    """The EDB installer's 16 and 17 (registry), a 15 under Program Files only, a 14 only on PATH."""
    system = windows_two_versions()
    system.files |= {r"C:\Program Files\PostgreSQL\15\bin\psql.exe", r"C:\tools\pgsql\bin\psql.exe"}
    system.environ["PATH"] = r"C:\tools\pgsql\bin;" + system.environ["PATH"]
    system.commands["psql.exe --version"] = CommandResult(0, b"psql (PostgreSQL) 14.12")
    return system


def linux_machine() -> RecordedSystem:
    return RecordedSystem(platform=Platform.LINUX, environ={"PATH": "/opt/pg/bin:/usr/bin"},
                          files={"/usr/lib/postgresql/15/bin/psql", "/usr/pgsql-16/bin/psql", "/opt/pg/bin/psql"},
                          commands={"psql --version": CommandResult(0, b"psql (PostgreSQL) 13.9")})


def mac_machine() -> RecordedSystem:
    return RecordedSystem(platform=Platform.MACOS, environ={"PATH": "/usr/bin"}, files={
        "/opt/homebrew/opt/postgresql@16/bin/psql", "/Applications/Postgres.app/Contents/Versions/17/bin/psql"})


MACHINES = {
    "windows": (windows_machine, {Origin.REGISTRY, Origin.PROGRAM_FILES, Origin.PATH}),
    "linux": (linux_machine, {Origin.DEBIAN, Origin.PGDG, Origin.PATH}),
    "macos": (mac_machine, {Origin.HOMEBREW, Origin.POSTGRES_APP}),
}


def assert_named_in_korean(text: str, origins: set[Origin]) -> None:
    for origin in origins:
        assert f"({origin.shown})" in text or f" {origin.shown} " in text, (origin, text)
        if origin.shown != origin.value:
            assert f"({origin.value})" not in text, (origin, text)


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_installations_are_listed_with_their_korean_origin_in_every_mode(machine: str, tmp_path: Path) -> None:
    make, origins = MACHINES[machine]
    system = make()
    assert {i.origin for i in discover(make()).installations} == origins
    target = tmp_path / "report.md"
    report = run_all(Options(command="check", dsn=f"postgresql://postgres:x@127.0.0.1:{free_port()}/db",
                             report=target),
                     Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                                 environ=clean_environ(), cwd=tmp_path),
                     lambda _text: None, system=system)
    # check (text) and -v
    for verbose in (False, True):
        text = io.StringIO()
        render_report(Console(file=text, width=200, highlight=False), report, UNICODE_SYMBOLS, check=True,
                      verbose=verbose)
        assert_named_in_korean(text.getvalue(), origins)
    # --json: the same detail, in the postgres step
    stream = io.StringIO()
    write_json(stream, report)
    (listed,) = [step for step in json.loads(stream.getvalue())["steps"] if step["id"] == "postgres"]
    assert_named_in_korean(listed["detail"], origins)
    # --report: the installations line of the facts
    assert_named_in_korean(target.read_text(encoding="utf-8"), origins)
    # the wizard's table of installations
    out = io.StringIO()
    Screen(Console(file=out, width=200, highlight=False), UNICODE_SYMBOLS).installations(discover(make()))
    assert_named_in_korean(out.getvalue(), origins)


def debian_installed() -> bool:
    return any(i.origin is Origin.DEBIAN for i in discover(RealSystem(clean_environ())).installations)


@pytest.mark.skipif(not debian_installed(), reason="needs a Debian/Ubuntu PostgreSQL package on this machine")
@pytest.mark.parametrize("args", [["check"], ["check", "-v"], ["check", "--json"], ["check", "--report", "r.md"]])
def test_this_machines_debian_package_is_named_in_korean_by_the_command(args: list[str], tmp_path: Path) -> None:
    result = run_inprocess(*args, "--dsn", f"postgresql://postgres:x@127.0.0.1:{free_port()}/db", cwd=tmp_path)
    text = (tmp_path / "r.md").read_text(encoding="utf-8") if "--report" in args else result.stdout
    if "--json" in args:
        (listed,) = [step for step in result.json()["steps"] if step["id"] == "postgres"]
        text = listed["detail"]
    assert_named_in_korean(text, {Origin.DEBIAN})

