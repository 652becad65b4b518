"""Exceptions that carry a stable code; only cli.main() turns them into exit codes."""

from __future__ import annotations

from setup_wizard.exitcodes import ExitCode


class WizardError(Exception):
    """A known failure: a stable code, a Korean detail, and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, code: str, detail: str, fix: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fix = fix


class UsageError(WizardError):
    """Bad command line or unreadable input: exit 2, nothing changed."""

    exit_code = ExitCode.USAGE


class Interrupted(Exception):
    """The person pressed Ctrl+C or closed the input."""


class Terminated(KeyboardInterrupt):
    """SIGTERM. A KeyboardInterrupt on purpose: psycopg cancels the running statement on one, so the
    open transaction rolls back exactly as on Ctrl+C."""
