"""One run's state, shared by the phases: the doors' Decider and View, what was found, what changed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from setup_wizard import problems
from setup_wizard.config.backups import Backups
from setup_wizard.environment import Environment
from setup_wizard.errors import WizardError
from setup_wizard.flow.decide import Decider
from setup_wizard.flow.options import Options
from setup_wizard.flow.view import View
from setup_wizard.machine.asked_once import AskedOnce
from setup_wizard.results import Report, Step

if TYPE_CHECKING:
    from setup_wizard.config.envfix import EnvPlan
    from setup_wizard.config.settings import Settings
    from setup_wizard.machine.discovery import Discovery
    from setup_wizard.machine.system import System


def real_system(env: Environment) -> System:
    from collections.abc import MutableMapping

    from setup_wizard.machine.real_system import RealSystem

    return RealSystem(environ=env.environ if isinstance(env.environ, MutableMapping) else dict(env.environ))


BACKEND_STEP_IDS = ("backend_env", "backend_url", "backend_dsn")


class FlowState:
    """One run's state: what it found, what it changed, and the report it fills."""

    def __init__(self, options: Options, env: Environment, decider: Decider, view: View,
                 system: System | None = None) -> None:
        self.options = options
        self.env = env
        self.decider = decider
        self.view = view
        # The service manager's answers are remembered for the run (machine/asked_once.py).
        self.system: System = AskedOnce(system or real_system(env))
        self.report = Report()
        self.discovery: Discovery | None = None
        self.env_values: dict[str, str] | None = None
        self.changed = False  # did this run change anything (database or files)?
        self.service_reported = False
        self.save_offered = False
        # The backend .env's fixes, planned before the login and written only with the save after it.
        self.env_plan: EnvPlan | None = None
        # No backend/.env at all: the file the save after the login would create (DATABASE_URL, one line).
        self.env_create: Path | None = None
        # Before the login, the problems that save answers are said in one line (flow/run.py plan_env),
        # not drawn again as boxes whose fix is the question the wizard will ask itself.
        self.pending_codes: frozenset[str] = frozenset()
        # Where this run keeps the previous .env before rewriting it (the per-user data folder).
        self.backups = Backups.for_environment(env.environ, env.platform)

    def add(self, step: Step) -> Step:
        self.report.add(step)
        self.view.step(step)
        return step

    def judge_backend(self, settings: Settings) -> None:
        """The backend's own verdict on its settings (what would stop it, or send it elsewhere); judged
        again after the wizard saves into .env, replacing the earlier verdict."""
        from setup_wizard.config.backend import inspect_backend
        from setup_wizard.config.steps import settings_steps

        self.report.steps = [s for s in self.report.steps if s.id not in BACKEND_STEP_IDS]
        for step in settings_steps(inspect_backend(self.env.cwd, self.env.environ, self.options.dsn), settings):
            self.add_unless_pending(step)

    def add_unless_pending(self, step: Step) -> None:
        """Into the report; on the wizard's screen only if the save it will offer does not answer it."""
        if step.code in self.pending_codes and self.decider.can_ask and not self.save_offered:
            self.report.add(step)
        else:
            self.add(step)

    def fail(self, step_id: str, title: str, error: WizardError) -> None:
        self.add(problems.from_error(error, step_id, title))
