"""Known failures: what a catalogue entry holds.

Section 1 of setup_wizard/messages: the Korean text of this topic, as data (the package's docstring lists every
section).
"""

from __future__ import annotations

from setup_wizard.exitcodes import ExitCode
from setup_wizard.record import record

# A known failure is data: a stable code -> title, cause, numbered steps (or one hint) and the exit code it
# ends a run with. Each entry sits in the section of its topic. Only setup_wizard/problems.py reads the entries
# and draws them (tests/messages/test_failure_catalogue.py checks that every code the program emits has an entry and a
# line in README.ko.md).


@record(eq=True)
class Problem:
    """A known failure: title, cause, numbered steps and the exit code it ends a run with.

    A step may start with a platform tag ("windows:", "linux:", "darwin:"): it is then shown only on that
    platform, so advice is for the machine in front of the person. An entry whose advice is one short
    paragraph gives it as `hint` (shown as is) instead of steps."""

    title: str
    cause: str
    steps: tuple[str, ...] = ()
    hint: str = ""
    exit_code: ExitCode = ExitCode.FAILED


LABEL_FIX = "해결 방법"
CODE_LINE = "오류 코드: {code}"
UNKNOWN_PROBLEM_TITLE = "문제가 있습니다"
