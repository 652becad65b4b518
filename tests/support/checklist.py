"""`check`'s checklist computed in-process (items), and the mark for tests that need LangGraph's library."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from support.program import clean_environ

from setup_wizard.database import checkpoints
from setup_wizard.environment import Environment
from setup_wizard.flow.check_registry import Check
from setup_wizard.flow.checks import run_all
from setup_wizard.flow.options import Options
from setup_wizard.machine.system import System
from setup_wizard.results import Step

needs_langgraph = pytest.mark.skipif(not checkpoints.library_installed(),
                                     reason="pip install .[checkpoints] (langgraph-checkpoint-postgres)")


def items(folder: Path, *, dsn: str | None = None, environ: dict[str, str] | None = None,
          system: System | None = None, checks: list[Check] | None = None,
          report: Path | None = None) -> dict[str, Step]:
    """The checklist computed in-process through the same door the command uses."""
    result = run_all(Options(command="check", dsn=dsn, report=report),
                     Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                                 environ=environ if environ is not None else clean_environ(), cwd=folder),
                     lambda _text: None, checks=checks, system=system)
    return {step.id: step for step in result.steps}
