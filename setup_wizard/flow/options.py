"""What the person asked for on the command line, as one value passed down."""

from __future__ import annotations

from pathlib import Path

from setup_wizard.record import record


@record
class Options:
    command: str = "run"  # "run", "check" or "server"
    server_action: str = ""  # `server start|stop|status` (machine/server_command.py)
    yes: bool = False
    dsn: str | None = None
    env_file: Path | None = None
    json: bool = False
    recreate: bool = False
    lock_timeout: float = 10.0
    verbose: bool = False
    report: Path | None = None  # --report FILE: the shareable Markdown report
