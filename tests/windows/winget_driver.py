"""Runs INSIDE the Windows Python under Wine: the wizard's connection loop (flow/connect_phase.Connector) with
RealSystem, no server listening and the stand-in winget.exe on PATH. The person picks "install" at the first
"what next?", answers yes to every question (install, UAC, PATH), and "quit" at the next "what next?".

`python.exe winget_driver.py ENV_FILE`: the settings come from that backend .env. Each step is printed as
the person would read it (Korean, the console's code page), then one ASCII JSON line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from setup_wizard.flow.decide import Choice, FixKind


class Yes:
    """A person who answers yes to everything (the wizard's AskPerson, without a terminal)."""

    read_only = False
    can_ask = True

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.offered: list[list[str]] = []
        self.answers = ["install", "quit"]

    def allow(self, kind: FixKind, question: str, default: bool = True) -> bool:
        self.asked.append(question)
        return True

    def choose(self, question: str, choices: list[Choice], default: str) -> str:
        self.offered.append([choice.key for choice in choices])
        answer = self.answers.pop(0) if self.answers else "quit"
        assert answer in self.offered[-1], self.offered
        return answer

    def value(self, question: str, current: str) -> str:
        return current

    def password(self, question: str) -> str:
        raise AssertionError("the password comes from .env: never asked")

    def confirm_recreate(self, dbname: str) -> bool:
        return False


def main(env_file: Path) -> dict[str, object]:
    from dotenv import dotenv_values

    from setup_wizard.config.load import load_settings
    from setup_wizard.environment import Environment
    from setup_wizard.flow.connect_phase import Connector
    from setup_wizard.flow.options import Options
    from setup_wizard.flow.state import FlowState
    from setup_wizard.flow.view import ProgressView
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.real_system import RealSystem

    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    settings = load_settings(None, {}, values, env_file)
    system = RealSystem()
    decider = Yes()
    flow = FlowState(Options(), Environment(environ=dict(os.environ)), decider, ProgressView(print), system)
    flow.discovery = discover(system)
    connection = Connector(flow, settings).run()
    assert connection is None, "nothing listens under Wine"
    for step in flow.report.steps:
        print(f"[{step.status.value}] {step.title}")
        print(step.detail)
        if step.fix:
            print(step.fix)
    chosen = flow.discovery.chosen if flow.discovery is not None else None
    return {"steps": [{"id": s.id, "status": s.status.value, "code": s.code} for s in flow.report.steps],
            "chosen": None if chosen is None else {"version": chosen.version, "bindir": str(chosen.bindir),
                                                   "port": chosen.port, "service": chosen.service},
            "offered": decider.offered, "asked": len(decider.asked),
            "process_path_starts": system.environ.get("PATH", "").split(";")[0]}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), ensure_ascii=True))
