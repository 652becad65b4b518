"""What an automatic fix of the machine receives and gives back.

Each fix is a function that receives `confirm: Callable[[str], bool]`: `--yes` answers yes, the
interactive run asks the person, `check` answers no (`never`). The caller decides which confirm a fix
gets: fixes that only add (a database, the dev user) get the mode's own; fixes that need a person (a
UAC prompt, changing PATH, creating a server in a folder) get `Mode.confirm` only when someone can be
asked. A fix that was not done says why in its `FixOutcome.step`.
"""

from __future__ import annotations

from collections.abc import Callable

from setup_wizard.record import record
from setup_wizard.results import Step

Confirm = Callable[[str], bool]
Say = Callable[[str], None]


def never(_question: str) -> bool:
    return False


@record
class FixOutcome:
    done: bool
    step: Step | None = None  # what to show when it was not done (declined, failed)
