"""The one door for known failures: a catalogue entry (catalogue()) becomes a Step or an error here.

A known failure is data (pip's diagnostic errors are the model): a stable code whose catalogue entry holds
the Korean title, the cause, the steps per platform and the exit code. No other module reads the catalogue
or formats an entry's title, cause or steps by hand: it names the code and the values, and gets back a
`Step` (for the report), a `WizardError` (to raise, of the kind its exit code asks for) or the entry's
text, with the fix for the machine in front of the person. The entries are data (messages.catalogue.Problem); how one
is drawn (its steps for this platform, numbered) is here.

A call may give the situation's own `detail` (what exactly happened) and, where one code covers several
situations, the situation's own `fix`; the code, title and exit code always come from the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from setup_wizard.errors import UsageError, WizardError
from setup_wizard.exitcodes import ExitCode
from setup_wizard.machine.system import Platform, running_platform
from setup_wizard.messages import catalogue as msg
from setup_wizard.results import Status, Step

# A step that starts with one of these tags ("windows: ...") is shown only on that platform.
PLATFORM_TAGS = frozenset(platform.value for platform in Platform)


@cache
def catalogue() -> Mapping[str, msg.Problem]:
    """Every known failure by its code (each section of the messages declares the entries of its topic)."""
    from setup_wizard.messages import (
        backend_needs,
        backend_settings,
        check,
        cli,
        envfiles,
        install,
        locks,
        login,
        migrations,
        schema,
        server,
        settings,
        terminals,
    )

    return {
        **cli.PROBLEMS,
        **settings.PROBLEMS,
        **envfiles.PROBLEMS,
        **install.PROBLEMS,
        **server.PROBLEMS,
        **login.PROBLEMS,
        **migrations.PROBLEMS,
        **schema.PROBLEMS,
        **backend_needs.PROBLEMS,
        **backend_settings.PROBLEMS,
        **locks.PROBLEMS,
        **check.PROBLEMS,
        **terminals.PROBLEMS,
    }


def entry(code: str) -> msg.Problem:
    """The catalogue entry of a code (KeyError for a code without one: the cross-check test finds those)."""
    return catalogue()[code]


def known(code: str) -> bool:
    return code in catalogue()


def title(code: str) -> str:
    """The catalogue's title for a code; a code without an entry reads as a plain failure."""
    problem = catalogue().get(code)
    return problem.title if problem is not None else msg.UNKNOWN_PROBLEM_TITLE


def cause(code: str, **values: object) -> str:
    return entry(code).cause.format(**values)


def fix(code: str, platform: Platform | None = None, **values: object) -> str:
    """The numbered steps (or the hint) for `platform` (default: this machine)."""
    return _fix_text(entry(code), platform, **values)


def _fix_text(problem: msg.Problem, platform: Platform | None, **values: object) -> str:
    """An entry's hint, or its steps for `platform` (default: this machine) numbered from 1."""
    if problem.hint:
        return problem.hint.format(**values)
    here = (platform or running_platform()).value
    shown = []
    for step in problem.steps:
        tag, _, text = step.partition(":")
        if tag in PLATFORM_TAGS:
            if tag != here:
                continue
            step = text.strip()
        shown.append(step)
    return "\n".join(f"{i}. {step.format(**values)}" for i, step in enumerate(shown, start=1))


def explain(code: str) -> str:
    """The whole entry as one text: title, cause and fix (for a failure told inside another's detail)."""
    problem = entry(code)
    return f"{problem.title}: {problem.cause}\n{_fix_text(problem, None)}"


def exit_code(failure: WizardError) -> ExitCode:
    """The exit code a raised failure ends the run with: its catalogue entry's, else its own kind's."""
    problem = catalogue().get(failure.code)
    return problem.exit_code if problem is not None else failure.exit_code


def error(code: str, detail: str | None = None, fix: str | None = None, **values: object) -> WizardError:
    """The error to raise: the cause (or the given detail) and the numbered fix (or the given one).

    Its kind follows the entry's exit code: a usage failure (exit 2) is a `UsageError`."""
    problem = entry(code)
    kind = UsageError if problem.exit_code == ExitCode.USAGE else WizardError
    return kind(code, detail if detail is not None else problem.cause.format(**values),
                fix if fix is not None else _fix_text(problem, None, **values) or None)


def step(code: str, step_id: str, status: Status = Status.FAIL, step_title: str | None = None,
         detail: str | None = None, platform: Platform | None = None, fix: str | None = None,
         **values: object) -> Step:
    """The report's line for a known problem; `platform`: the machine the advice is for (default: this one).

    `fix`: the situation's own advice instead of the entry's ("": a line without advice)."""
    problem = entry(code)
    advice = fix if fix is not None else _fix_text(problem, platform, **values)
    return Step(step_id, status, step_title or problem.title,
                detail if detail is not None else problem.cause.format(**values), code, advice or None)


def from_error(failure: WizardError, step_id: str, step_title: str | None = None,
               status: Status = Status.FAIL, with_fix: bool = True) -> Step:
    """A raised known failure as the report's line (with_fix=False: shown before a question about it)."""
    return Step(step_id, status, step_title or title(failure.code), failure.detail, failure.code,
                failure.fix if with_fix else None)
