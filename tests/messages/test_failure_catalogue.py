"""The failure codes: what the program can emit, the catalogue, and README.ko.md's table agree.

The codes the program can emit are found by reading the package's source (ast), not by running it: the
code given to the doors that make a coded failure (problems.step/error/cause/fix/explain, WizardError,
UsageError, MigrationError, Step's code, a class whose first field is `code`, the backend verdict's
`add`). A code is a string literal there, either branch of `a if x else b`, a module-level constant
(`URL_MISSING = "backend_url_missing"`), or a local name assigned one of those or looked up in a
module-level table of codes (`SEED_ERRORS.get(...)`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from setup_wizard import problems

PACKAGE = Path(__file__).resolve().parents[2] / "setup_wizard"
README = PACKAGE.parent / "README.ko.md"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

# Callee name -> which positional argument holds the code.
DOORS = {"step": 0, "error": 0, "cause": 0, "fix": 0, "explain": 0, "WizardError": 0, "UsageError": 0,
         "MigrationError": 0, "Step": 4}
PROBLEMS_ONLY = {"step", "error", "cause", "fix", "explain"}  # problems.<name>(code, ...)


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _module_tables(modules: list[tuple[Path, ast.Module]]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Module-level `NAME = "code"` constants and `NAME = {key: "code", ...}` tables, by name."""
    constants: dict[str, str] = {}
    tables: dict[str, set[str]] = {}
    for _, tree in modules:
        for node in tree.body:
            target, value = None, None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            if not isinstance(target, ast.Name) or value is None:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and CODE.match(value.value):
                constants[target.id] = value.value
            elif isinstance(value, ast.Dict) and value.values and all(
                    isinstance(v, ast.Constant) and isinstance(v.value, str) and CODE.match(v.value)
                    for v in value.values):
                tables[target.id] = {str(v.value) for v in value.values if isinstance(v, ast.Constant)}
    return constants, tables


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _code_carriers(modules: list[tuple[Path, ast.Module]]) -> set[str]:
    """Classes whose first field is `code` (a failure carried as a value, e.g. local_cluster.Unavailable)."""
    carriers = set()
    for _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                fields = [n for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
                if fields and isinstance(fields[0].target, ast.Name) and fields[0].target.id == "code":
                    carriers.add(node.name)
    return carriers


class _Scanner:
    def __init__(self, modules: list[tuple[Path, ast.Module]]) -> None:
        self.modules = modules
        self.constants, self.tables = _module_tables(modules)
        self.doors = {**DOORS, **{name: 0 for name in _code_carriers(modules)}}

    def resolve(self, node: ast.expr, local: dict[str, list[ast.expr]]) -> set[str]:
        if isinstance(node, ast.Constant):
            return {node.value} if isinstance(node.value, str) else set()
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, local) | self.resolve(node.orelse, local)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            return set(self.tables.get(_name(node.func.value) or "", set()))
        if isinstance(node, ast.Subscript):
            return set(self.tables.get(_name(node.value) or "", set()))
        name = _name(node)
        if name is None:
            return set()
        if isinstance(node, ast.Name) and name in local:
            return set().union(*(self.resolve(value, {}) for value in local[name]))
        return {self.constants[name]} if name in self.constants else set()

    def codes(self) -> dict[str, list[str]]:
        """Each code the program can emit -> where (file:line)."""
        found: dict[str, list[str]] = {}
        for path, tree in self.modules:
            for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
                local: dict[str, list[ast.expr]] = {}
                for node in ast.walk(function):
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0],
                                                                                           ast.Name):
                        local.setdefault(node.targets[0].id, []).append(node.value)
                for node in ast.walk(function):
                    for code in self._call_codes(node, local):
                        where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                        if where not in found.setdefault(code, []):
                            found[code].append(where)
        return found

    def _call_codes(self, node: ast.AST, local: dict[str, list[ast.expr]]) -> set[str]:
        if not isinstance(node, ast.Call):
            return set()
        callee = _name(node.func)
        if callee in PROBLEMS_ONLY and not (isinstance(node.func, ast.Attribute) and _name(node.func.value)
                                            == "problems"):
            return set()
        if callee == "add" and node.args and not isinstance(node.args[0], ast.Constant):
            # The backend verdict's findings: f.add(URL_MISSING, ...) (a constant, not any .add(step)).
            name = _name(node.args[0])
            return {self.constants[name]} if name in self.constants else set()
        if callee not in self.doors:
            return set()
        index = self.doors[callee]
        arg = node.args[index] if len(node.args) > index else next(
            (k.value for k in node.keywords if k.arg == "code"), None)
        return {code for code in self.resolve(arg, local) if CODE.match(code)} if arg is not None else set()


def emitted_codes() -> dict[str, list[str]]:
    return _Scanner(list(_modules())).codes()


def readme_table_codes() -> set[str]:
    """The codes in README.ko.md's table of codes (## 진단 코드와 자동 해결): the first cell of each row,
    which may list several (`a` / `b`, `a`, `b`); a note in brackets ("(경고, `check`)") is not a code."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## 진단 코드와 자동 해결", 1)[1].split("\n## ", 1)[0]
    codes: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = re.sub(r"\([^)]*\)", "", line.split("|")[1])
            codes |= set(re.findall(r"`([^`]+)`", first))
    return codes


def readme_listed_codes() -> set[str]:
    """The codes README.ko.md lists for --json's `code` (under ## 옵션), every backquoted name there."""
    text = README.read_text(encoding="utf-8")
    listing = text.split("바뀌지 않는 영문 코드입니다:", 1)[1].split("\n명령이나 옵션을", 1)[0]
    return set(re.findall(r"`([^`]+)`", listing))


def test_emitted_codes_catalogue_and_readme_agree() -> None:
    emitted = emitted_codes()
    catalogue = set(problems.catalogue())
    table, listed = readme_table_codes(), readme_listed_codes()
    not_in_catalogue = {code: where for code, where in emitted.items() if code not in catalogue}
    assert not not_in_catalogue, f"codes the program emits without a catalogue entry: {not_in_catalogue}"
    assert catalogue <= set(emitted), f"catalogue entries nothing emits: {sorted(catalogue - set(emitted))}"
    assert catalogue <= table, f"codes missing from README.ko.md's table of codes: {sorted(catalogue - table)}"
    assert catalogue <= listed, f"codes missing from README.ko.md's list of --json codes: {sorted(catalogue - listed)}"
    documented = table | listed
    assert documented <= catalogue, f"README.ko.md documents codes that do not exist: {sorted(documented - catalogue)}"


def test_only_the_door_reads_the_catalogue() -> None:
    """problems.py is the one door: no other module reads a section's PROBLEMS (its catalogue entries)."""
    readers = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path, tree in _modules() if path.name not in ("problems.py",)
        for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in ("CATALOGUE", "PROBLEMS")
    ]
    assert not readers, readers
