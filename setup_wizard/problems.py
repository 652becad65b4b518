"""The one door for known failures: a catalogue entry (messages.CATALOGUE) becomes a Step or an error here.

No other module formats a catalogue entry's title, cause or steps by hand: it names the code and the
values, and gets back a `Step` (for the report) or a `WizardError` (to raise), with the fix for the
machine in front of the person.
"""

from __future__ import annotations

from setup_wizard import messages as msg
from setup_wizard.errors import WizardError
from setup_wizard.results import Status, Step


def title(code: str) -> str:
    """The catalogue's title for a code; a code without an entry reads as a plain failure."""
    problem = msg.CATALOGUE.get(code)
    return problem.title if problem is not None else msg.UNKNOWN_PROBLEM_TITLE


def error(code: str, detail: str | None = None, kind: type[WizardError] = WizardError,
          **values: object) -> WizardError:
    """The error to raise: the cause (or the given detail) and the numbered fix."""
    problem = msg.CATALOGUE[code]
    return kind(code, detail if detail is not None else problem.cause.format(**values), problem.fix_text(**values))


def step(code: str, step_id: str, status: Status = Status.FAIL, step_title: str | None = None,
         detail: str | None = None, platform: str | None = None, **values: object) -> Step:
    """The report's line for a known problem; `platform`: the machine the advice is for (default: this one)."""
    problem = msg.CATALOGUE[code]
    fix = problem.fix_text_for(platform or msg.current_platform(), **values)
    return Step(step_id, status, step_title or problem.title,
                detail if detail is not None else problem.cause.format(**values), code, fix)


def from_error(failure: WizardError, step_id: str, step_title: str | None = None,
               status: Status = Status.FAIL, with_fix: bool = True) -> Step:
    """A raised known failure as the report's line (with_fix=False: shown before a question about it)."""
    return Step(step_id, status, step_title or title(failure.code), failure.detail, failure.code,
                failure.fix if with_fix else None)
