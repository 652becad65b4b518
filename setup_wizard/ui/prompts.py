"""Questions behind one small interface: text, password, confirm, select.

Implementations: questionary for a real terminal (QuestionaryPrompter), plain input()/getpass that
works on any console (PlainPrompter, also the automatic fallback), and a scripted one for tests.
Ctrl+C and closed input become `Interrupted`, handled once in cli.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TextIO, TypeVar

from setup_wizard import problems
from setup_wizard.errors import Interrupted
from setup_wizard.machine.shell import is_git_bash
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import terminals as terminals_msg
from setup_wizard.ui.cells import fit_question

T = TypeVar("T")


class Prompter(Protocol):
    def text(self, message: str, default: str = "") -> str: ...

    def password(self, message: str) -> str: ...

    def confirm(self, message: str, default: bool = True) -> bool: ...

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str: ...


class PlainPrompter:
    """Numbered choices and getpass: for consoles that cannot host questionary."""

    def __init__(self, stdin: TextIO, stderr: TextIO, environ: Mapping[str, str] | None = None) -> None:
        self.stdin = stdin
        self.stderr = stderr
        self.environ = environ or {}

    def _fit(self, message: str, hint: str = "") -> str:
        """Wrapped at word boundaries for this terminal (it would break a line mid-word)."""
        from setup_wizard.ui.render import terminal_width

        return fit_question(message, terminal_width(self.stderr, self.environ), 0, hint)

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

    def _say(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def text(self, message: str, default: str = "") -> str:
        suffix = f" [{default}]" if default else ""
        fitted = self._fit(message, suffix.lstrip() + ": ")
        answer = self._ask(f"{fitted}{suffix.lstrip() if fitted.endswith(chr(10)) else suffix}: ").strip()
        return answer or default

    def password(self, message: str) -> str:
        try:
            return getpass.getpass(f"{self._fit(message)}: ", stream=self.stderr)
        except (KeyboardInterrupt, EOFError) as exc:
            raise Interrupted from exc

    def confirm(self, message: str, default: bool = True) -> bool:
        hint = screens_msg.CONFIRM_HINT.format(default=screens_msg.ANSWER_YES if default else screens_msg.ANSWER_NO)
        while True:
            fitted = self._fit(message, hint + ": ")
            answer = self._ask(f"{fitted}{'' if fitted.endswith(chr(10)) else ' '}{hint}: ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "예", "네", "ㅛ"):
                return True
            if answer in ("n", "no", "아니오", "아니요", "ㅜ"):
                return False
            self._say(screens_msg.PLAIN_CONFIRM_AGAIN.format(answer=answer))

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str:
        self.stderr.write(self._fit(message).rstrip("\n") + "\n")
        for number, (_value, label) in enumerate(choices, start=1):
            self.stderr.write(f"  {number}. {label}\n")
        values = [value for value, _label in choices]
        default_number = values.index(default) + 1 if default in values else 1
        while True:
            answer = self._ask(screens_msg.PLAIN_CHOICE_NUMBER.format(default=default_number)).strip()
            if not answer:
                return values[default_number - 1]
            if answer.isdigit() and 1 <= int(answer) <= len(values):
                return values[int(answer) - 1]
            self._say(screens_msg.PLAIN_CHOICE_AGAIN.format(answer=answer, count=len(values)))


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def questionary_usable(stdin: TextIO, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether to try questionary at all: both ends a terminal that can draw."""
    return _isatty(stdin) and _isatty(stream) and environ.get("TERM", "") != "dumb"


class QuestionaryPrompter:
    """questionary (arrow keys, hidden password) with PlainPrompter as the automatic fallback.

    prompt_toolkit cannot start on every console: Git Bash/mintty on Windows raises
    NoConsoleScreenBufferError, a dumb or missing terminal cannot draw. Any failure to start a
    question switches to the plain prompts for the rest of the run and asks the same question
    again; Ctrl+C and end of input are never taken for such a failure.
    """

    def __init__(
        self,
        stdin: TextIO,
        stream: TextIO,
        environ: Mapping[str, str],
        notice: Callable[[str], None],
        toolkit: Any = None,
    ) -> None:
        self.stdin = stdin
        self.stream = stream
        self.environ = environ
        self.plain = PlainPrompter(stdin, stream, environ)
        self.notice = notice
        self.toolkit = toolkit  # the questionary module; tests pass a stand-in
        self.active = questionary_usable(stdin, stream, environ)
        self.failure: str | None = None

    def _io(self) -> dict[str, Any]:
        from prompt_toolkit.input import create_input
        from prompt_toolkit.output import create_output

        return {"input": create_input(self.stdin), "output": create_output(self.stream)}

    def _ask(self, build: Callable[[Any, dict[str, Any]], Any], plain: Callable[[], T]) -> T:
        if not self.active:
            return plain()
        try:
            if self.toolkit is None:
                import questionary

                self.toolkit = questionary
            answer: T = build(self.toolkit, self._io()).unsafe_ask()
        except (KeyboardInterrupt, EOFError) as exc:
            raise Interrupted from exc
        except Exception as exc:  # the console cannot host prompt_toolkit: carry on in plain text
            self.active = False
            self.failure = type(exc).__name__
            self.notice(screens_msg.PROMPT_FALLBACK)
            return plain()
        return answer

    def _fit(self, message: str, hint: str = "") -> str:
        """Wrapped at word boundaries: prompt_toolkit breaks a long question anywhere ("E" / "nter")."""
        from setup_wizard.ui.render import terminal_width

        return fit_question(message, terminal_width(self.stream, self.environ), 2, hint)

    def text(self, message: str, default: str = "") -> str:
        shown = self._fit(message, default)
        answer = self._ask(lambda q, io: q.text(shown, default=default, **io),
                           lambda: self.plain.text(message, default))
        return str(answer).strip() or default

    def password(self, message: str) -> str:
        shown = self._fit(message)
        return str(self._ask(lambda q, io: q.password(shown, **io), lambda: self.plain.password(message)))

    def confirm(self, message: str, default: bool = True) -> bool:
        # A two-way choice rather than questionary.confirm, whose answer echo ("Yes"/"No") is English.
        shown = self._fit(message, screens_msg.SELECT_HINT)

        def build(q: Any, io: dict[str, Any]) -> Any:
            options = [
                q.Choice(title=screens_msg.ANSWER_YES, value=True),
                q.Choice(title=screens_msg.ANSWER_NO, value=False),
            ]
            return q.select(shown, choices=options, default=options[0] if default else options[1],
                            instruction=screens_msg.SELECT_HINT, **io)

        return bool(self._ask(build, lambda: self.plain.confirm(message, default)))

    def select(self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str:
        shown = self._fit(message, screens_msg.SELECT_HINT)

        def build(q: Any, io: dict[str, Any]) -> Any:
            options = [q.Choice(title=label, value=value) for value, label in choices]
            return q.select(shown, choices=options, default=default, instruction=screens_msg.SELECT_HINT, **io)

        return str(self._ask(build, lambda: self.plain.select(message, choices, default)))


class GitBashPrompter(PlainPrompter):
    """Plain prompts for Git Bash's mintty, where a Windows Python reads a pipe, not a console.

    A password cannot be hidden there: mintty echoes what is typed, and getpass would read a
    console nobody types into (it hangs). So the password is never asked; the person is told how to
    rerun with a console (`winpty python -m setup_wizard`, which Git for Windows ships).
    """

    def password(self, message: str) -> str:
        raise problems.error("password_needs_console")


def make_prompter(stdin: TextIO, stream: TextIO, environ: Mapping[str, str],
                  notice: Callable[[str], None]) -> Prompter:
    """The prompter for a person at a terminal: questionary when it can start, plain otherwise;
    Git Bash (mintty, no console) gets plain prompts that never ask for a password."""
    if is_git_bash(environ) and not _isatty(stdin):
        notice(terminals_msg.GIT_BASH_PLAIN_PROMPTS)
        return GitBashPrompter(stdin, stream, environ)
    return QuestionaryPrompter(stdin, stream, environ, notice)
