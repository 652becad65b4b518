"""The in-process wizard walk: the whole wizard against a StringIO screen and a scripted prompter."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console
from support.program import backend_form, clean_environ
from support.recorded_system import RecordedSystem
from support.scripted import ScriptedPrompter

from setup_wizard.database.checkpoints import library_installed
from setup_wizard.environment import Environment
from setup_wizard.flow.options import Options
from setup_wizard.ui import wizard
from setup_wizard.ui.render import ASCII_SYMBOLS
from setup_wizard.ui.screen import Screen

# With the [checkpoints] extra installed the walk also offers LangGraph's tables, right after the apply.
CP = [True] if library_installed() else []


def walk(tmp_path: Path, url: str | None, answers: list[object],
         system: RecordedSystem | None = None) -> tuple[Any, ScriptedPrompter, str]:
    (tmp_path / "backend").mkdir(exist_ok=True)
    env_file = tmp_path / "backend" / ".env"
    if url is not None and not env_file.exists():
        env_file.write_text(f"DATABASE_URL={backend_form(url)}\n", encoding="utf-8")
    out = io.StringIO()
    screen = Screen(Console(file=out, width=100), ASCII_SYMBOLS)
    prompter = ScriptedPrompter(answers)
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=out, environ=clean_environ(), cwd=tmp_path)
    report = wizard.run(Options(), env, prompter, screen, system=system or RecordedSystem())
    return report, prompter, out.getvalue()
