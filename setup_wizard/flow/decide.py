"""How a decision is made: the one thing that differs between the wizard, `--yes` and `check`.

The flow (flow/run.py) never asks anybody and never looks at which door it came through. Where a fix or
a value is needed it asks its `Decider`:

- `ReadOnly` (`check`): changes nothing, asks nothing.
- `SafeDefaults` (`--yes`): takes every fix that only adds (a database, the dev user, the migrations,
  a service start that needs no administrator) and nothing that needs a person's judgement.
- the wizard's `AskPerson` (ui/wizard.py): asks the person, through a Prompter.

What the flow shows while it works is the `View`'s business (flow/view.py), not the Decider's.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from setup_wizard.record import record


class FixKind(Enum):
    # only adds: create the database or the dev user, apply migrations, start a service, create the per-user server
    ADD = "add"
    PERSON = "person"  # needs a person: a UAC prompt, the user PATH, saving .env
    DESTRUCTIVE = "destructive"  # --recreate


@record
class Choice:
    key: str  # "fix", "retry", "address", "password", "login", "quit"
    label: str


class Decider(Protocol):
    @property
    def read_only(self) -> bool:
        """Nothing may change (check)."""

    @property
    def can_ask(self) -> bool:
        """A person is there to type values and passwords."""

    def allow(self, kind: FixKind, question: str, default: bool = True) -> bool:
        """May the flow apply this fix?"""

    def choose(self, question: str, choices: list[Choice], default: str) -> str:
        """One of the choices' keys; without a person, the default."""

    def value(self, question: str, current: str) -> str:
        """A typed value (only called when can_ask)."""

    def password(self, question: str) -> str:
        """A typed password, never echoed (only called when can_ask)."""

    def confirm_recreate(self, dbname: str) -> bool:
        """The destructive --recreate: a person types the database name; --yes --recreate agreed up front."""


class ReadOnly:
    """`check`: nothing changes, nobody is asked."""

    read_only = True
    can_ask = False

    def allow(self, kind: FixKind, question: str, default: bool = True) -> bool:
        return False

    def choose(self, question: str, choices: list[Choice], default: str) -> str:
        return "quit"

    def value(self, question: str, current: str) -> str:
        return current

    def password(self, question: str) -> str:
        return ""

    def confirm_recreate(self, dbname: str) -> bool:
        return False


@record
class SafeDefaults:
    """`--yes`: every fix that only adds; nothing a person must decide; --recreate only when asked for."""

    recreate: bool = False
    read_only = False
    can_ask = False

    def allow(self, kind: FixKind, question: str, default: bool = True) -> bool:
        return kind is FixKind.ADD or (kind is FixKind.DESTRUCTIVE and self.recreate)

    def choose(self, question: str, choices: list[Choice], default: str) -> str:
        return default

    def value(self, question: str, current: str) -> str:
        return current

    def password(self, question: str) -> str:
        return ""

    def confirm_recreate(self, dbname: str) -> bool:
        return self.recreate
