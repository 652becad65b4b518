"""Questions behind one small interface: text, password, confirm, select.

Implementations: plain input()/getpass (works on any console) and a scripted one for tests.
Ctrl+C and closed input become `Interrupted`, handled once in cli.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Sequence
from typing import Protocol, TextIO

from setup_wizard.errors import Interrupted


class Prompter(Protocol):
    def text(self, message: str, default: str = "") -> str: ...

    def password(self, message: str) -> str: ...

    def confirm(self, message: str, default: bool = True) -> bool: ...

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str: ...


class PlainPrompter:
    """Numbered choices and getpass: for consoles that cannot host questionary."""

    def __init__(self, stdin: TextIO, stderr: TextIO) -> None:
        self.stdin = stdin
        self.stderr = stderr

    def _ask(self, prompt: str) -> str:
        self.stderr.write(prompt)
        self.stderr.flush()
        try:
            line = self.stdin.readline()
        except KeyboardInterrupt as exc:
            raise Interrupted from exc
        if not line:
            raise Interrupted
        return line.rstrip("\r\n")

    def text(self, message: str, default: str = "") -> str:
        suffix = f" [{default}]" if default else ""
        answer = self._ask(f"{message}{suffix}: ").strip()
        return answer or default

    def password(self, message: str) -> str:
        try:
            return getpass.getpass(f"{message}: ", stream=self.stderr)
        except (KeyboardInterrupt, EOFError) as exc:
            raise Interrupted from exc

    def confirm(self, message: str, default: bool = True) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self._ask(f"{message} ({hint}): ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "예", "네", "ㅛ"):
                return True
            if answer in ("n", "no", "아니오", "아니요", "ㅜ"):
                return False

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str:
        self.stderr.write(message + "\n")
        for number, (_value, label) in enumerate(choices, start=1):
            self.stderr.write(f"  {number}. {label}\n")
        values = [value for value, _label in choices]
        default_number = values.index(default) + 1 if default in values else 1
        while True:
            answer = self._ask(f"번호 [{default_number}]: ").strip()
            if not answer:
                return values[default_number - 1]
            if answer.isdigit() and 1 <= int(answer) <= len(values):
                return values[int(answer) - 1]


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
