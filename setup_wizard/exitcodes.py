"""Process exit codes: the contract with scripts and CI that call the wizard."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done (warnings allowed)
    FAILED = 1  # a step failed
    USAGE = 2  # bad usage or unreadable input
    INTERRUPTED = 130  # Ctrl+C or end of input
    TERMINATED = 143  # SIGTERM (128 + 15): stopped, nothing half-applied
