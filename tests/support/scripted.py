"""A prompter that answers from a script, for tests of the flow without a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from setup_wizard.errors import Interrupted


class ScriptedPrompter:
    """Answers from a list, in order; records the questions. For tests."""

    def __init__(self, answers: Iterable[object]) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    def _next(self, message: str) -> object:
        self.questions.append(message)
        if not self.answers:
            raise Interrupted
        return self.answers.pop(0)

    def text(self, message: str, default: str = "") -> str:
        answer = self._next(message)
        return str(answer) if answer != "" else default

    def password(self, message: str) -> str:
        return str(self._next(message))

    def confirm(self, message: str, default: bool = True) -> bool:
        return bool(self._next(message))

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str:
        return str(self._next(message))
