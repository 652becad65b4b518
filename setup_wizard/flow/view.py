"""What the flow shows while it works: the other half of the difference between the doors.

The flow reports each phase, each finished step and each piece of computed data to a `View`. The
wizard's view (ui/wizard.py) draws a screen for each; `--yes` and `check` use `ProgressView`, which
writes only progress lines to stderr and leaves the result to the final report (ui/render.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from setup_wizard.results import MigrationOutcome, Report, Step, VerificationRow

if TYPE_CHECKING:
    from setup_wizard.config.settings import Settings
    from setup_wizard.machine.discovery import Discovery

Say = Callable[[str], None]


class Phase(Enum):
    INSTALLATIONS = "installations"
    SETTINGS = "settings"
    SAVE = "save"
    SERVER = "server"
    DATABASE = "database"
    PLAN = "plan"
    APPLY = "apply"
    RESULT = "result"


class View(Protocol):
    def phase(self, phase: Phase) -> None: ...

    def step(self, step: Step) -> None:
        """A step has just been decided (added to the report)."""

    def preview(self, step: Step) -> None:
        """A problem shown before a question about it; its outcome may follow as a step."""

    def say(self, text: str) -> None:
        """A passing line of progress or advice."""

    def progress(self, first: str) -> AbstractContextManager[Say]:
        """A long piece of work; the callable updates its text."""

    def installations(self, discovery: Discovery) -> None: ...

    def settings(self, settings: Settings, env_path: Path | None) -> None: ...

    def save_preview(self, path: Path, notes: list[str], shown: list[tuple[str, str]], exists: bool) -> bool:
        """Everything the one save would write: the fixes' reasons and the values (passwords masked).
        True when a person saw it: the saved item then does not say the reasons again."""

    def plan(self, lines: list[tuple[str, str]]) -> None: ...

    def migrations(self, outcomes: list[MigrationOutcome], notices: list[str]) -> None: ...

    def verification(self, rows: list[VerificationRow]) -> None: ...

    def checklist(self, items: list[Step]) -> None: ...

    def finish(self, report: Report) -> None:
        """The run is over: its verdict and next steps (the wizard); --yes and check render the report."""


class ProgressView:
    """`--yes` and `check`: progress lines only; the report is drawn once at the end."""

    def __init__(self, say: Say) -> None:
        self._say = say

    def phase(self, phase: Phase) -> None:
        return None

    def step(self, step: Step) -> None:
        return None

    def preview(self, step: Step) -> None:
        return None

    def say(self, text: str) -> None:
        self._say(text)

    @contextmanager
    def progress(self, first: str) -> Iterator[Say]:
        self._say(first)
        yield self._say

    def installations(self, discovery: Discovery) -> None:
        return None

    def settings(self, settings: Settings, env_path: Path | None) -> None:
        return None

    def save_preview(self, path: Path, notes: list[str], shown: list[tuple[str, str]], exists: bool) -> bool:
        return False

    def plan(self, lines: list[tuple[str, str]]) -> None:
        return None

    def migrations(self, outcomes: list[MigrationOutcome], notices: list[str]) -> None:
        return None

    def verification(self, rows: list[VerificationRow]) -> None:
        return None

    def checklist(self, items: list[Step]) -> None:
        return None

    def finish(self, report: Report) -> None:
        return None
