"""The interactive wizard: the one flow (flow/run.py) with a person deciding and screens drawing.

`AskPerson` is the Decider that asks through a Prompter; `ScreenView` is the View that draws each
phase, step and table on a ui.screen.Screen. Neither decides anything about the database: the flow does,
exactly as for `--yes`, so the report (and `--json`) after a wizard run reads as after `--yes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard.flow.decide import Choice, FixKind
from setup_wizard.flow.options import Options
from setup_wizard.flow.run import run as run_flow
from setup_wizard.flow.state import BACKEND_STEP_IDS
from setup_wizard.flow.view import Phase
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.results import MigrationOutcome, Report, Status, Step, VerificationRow
from setup_wizard.ui.prompts import Prompter
from setup_wizard.ui.screen import Screen

if TYPE_CHECKING:
    from setup_wizard.config.settings import Settings
    from setup_wizard.environment import Environment
    from setup_wizard.machine.discovery import Discovery
    from setup_wizard.machine.system import System

HEADINGS = {
    Phase.INSTALLATIONS: screens_msg.SCREEN_INSTALL,
    Phase.SETTINGS: screens_msg.SCREEN_SETTINGS,
    Phase.SAVE: screens_msg.SCREEN_SAVE,
    Phase.SERVER: screens_msg.SCREEN_SERVER,
    Phase.DATABASE: screens_msg.SCREEN_DATABASE,
    Phase.PLAN: screens_msg.SCREEN_PLAN,
    Phase.APPLY: screens_msg.SCREEN_APPLY,
    Phase.RESULT: screens_msg.SCREEN_RESULT,
}
# Steps whose content a screen of their own already shows.
DRAWN_ELSEWHERE = frozenset({"settings"})
# Steps whose details a table of their screen already lists.
TABLED = frozenset({"postgres"})


class AskPerson:
    """The wizard's Decider: every fix and value is asked; the destructive one needs the database name."""

    read_only = False
    can_ask = True

    def __init__(self, prompter: Prompter) -> None:
        self.prompter = prompter

    def allow(self, kind: FixKind, question: str, default: bool = True) -> bool:
        return self.prompter.confirm(question, default)

    def choose(self, question: str, choices: list[Choice], default: str) -> str:
        return self.prompter.select(question, [(c.key, c.label) for c in choices], default)

    def value(self, question: str, current: str) -> str:
        return self.prompter.text(question, current)

    def password(self, question: str) -> str:
        return self.prompter.password(question)

    def confirm_recreate(self, dbname: str) -> bool:
        return self.prompter.text(migrations_msg.RECREATE_CONFIRM.format(dbname=dbname)).strip() == dbname


class ScreenView:
    """The wizard's View: one screen per phase; a step as a line, a problem as a panel with its fix."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._shown: set[Phase] = set()
        # A failure's fix waits: if the run ends there, it becomes the final "what to do next" panel
        # (said once, last, where the person looks); if the run goes on, it is drawn under the problem.
        self._failure: Step | None = None
        # Problems drawn before a question in this phase (code, detail): when the run gives up on one, its
        # box is not drawn again; its fix (for after the run) becomes the final "what to do next" panel.
        self._previewed: set[tuple[str | None, str]] = set()

    def _flush(self) -> None:
        if self._failure is not None:
            self.screen.fix(self._failure)
            self._failure = None

    def phase(self, phase: Phase) -> None:
        self._flush()
        self._previewed = set()
        if phase not in self._shown:  # a phase revisited (a retried login) keeps its screen
            self._shown.add(phase)
            self.screen.heading(HEADINGS[phase])

    def step(self, step: Step) -> None:
        if step.id in DRAWN_ELSEWHERE:
            return
        if step.id in TABLED and step.status is Status.OK:
            # Its list is the table just drawn: only the sentence that says which one is used.
            self.screen.status_line(step.status, step.detail.splitlines()[0])
            return
        self._flush()
        if step.status is Status.FAIL and step.fix:
            if (step.code, step.detail) in self._previewed:
                self._failure = step  # its fix ends the screen (or follows)
                return  # not the same problem twice in the same words
            self.screen.problem(step.title, step.detail, None, step.code)
            self._failure = step
            return
        self.screen.step(step)

    def preview(self, step: Step) -> None:
        self._flush()
        self.screen.step(step)
        self._previewed.add((step.code, step.detail))

    def say(self, text: str) -> None:
        self._flush()
        self.screen.line(text)

    @contextmanager
    def progress(self, first: str) -> Iterator[Callable[[str], None]]:
        with self.screen.progress(first) as update:
            yield update

    def installations(self, discovery: Discovery) -> None:
        self.screen.installations(discovery)

    def settings(self, settings: Settings, env_path: Path | None) -> None:
        self.screen.settings(settings, env_path, env_path is not None)

    def save_preview(self, path: Path, notes: list[str], shown: list[tuple[str, str]], exists: bool) -> bool:
        self.screen.save_preview(path, notes, shown, exists)
        return True

    def plan(self, lines: list[tuple[str, str]]) -> None:
        self.screen.plan(lines, migrations_msg.PLAN_SAFE)

    def migrations(self, outcomes: list[MigrationOutcome], notices: list[str]) -> None:
        self.screen.migrations(outcomes)
        raw = [notice for outcome in outcomes for notice in outcome.notices]
        self.screen.notices(notices, raw)

    def verification(self, rows: list[VerificationRow]) -> None:
        self.screen.verification(rows)

    def checklist(self, items: list[Step]) -> None:
        self.screen.checklist(items)

    def finish(self, report: Report) -> None:
        last, self._failure = self._failure, None
        if last is None and not report.ok:
            last = backend_problems(report)
        self.screen.finish(report, next_steps=report.ok, last=last)
        self.screen.footer(report.footer)


def backend_problems(report: Report) -> Step | None:
    """Nothing failed last on the screen (a declined .env fix, said before its question): the backend's
    own problems, named with their fixes, rather than "the problem above"."""
    failed = [s for s in report.steps if s.status is Status.FAIL and s.fix and s.id in BACKEND_STEP_IDS]
    if len(failed) <= 1:
        return failed[0] if failed else None
    return Step(failed[-1].id, Status.FAIL, ", ".join(s.title for s in failed), "",
                failed[-1].code, "\n\n".join(s.fix or "" for s in failed))


def run(options: Options, env: Environment, prompter: Prompter, screen: Screen,
        system: System | None = None) -> Report:
    """The whole walk; returns the same Report as `--yes` would, for --json and the exit code."""
    screen.welcome()
    return run_flow(options, env, AskPerson(prompter), ScreenView(screen), system)
