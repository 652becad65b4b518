"""The two doors into the program that tests use, and what every test checks about a run's output.

`run_inprocess` (cli.main with a test Environment, the default door) and `run_cli` (a real process, for
what needs one: start-up imports, the installed package, the console's code page); the environment a
child gets (`clean_environ`), the recognisable PASSWORD and `assert_no_secret`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A recognisable password: tests search every output for it.
PASSWORD = "s3cr:et@#/?한글 pw"

# What clean_environ() leaves out of a child's environment (conftest.py also takes it out of this
# process's own for the session): in-process runs must not depend on the shell that started pytest.
STEERING = ("DATABASE_URL", "NO_COLOR", "FORCE_COLOR")


def steers(key: str) -> bool:
    """Whether an environment variable would steer libpq or the wizard."""
    return key.startswith(("PG", "POSTGRES_")) or key in STEERING


def clean_environ(**extra: str) -> dict[str, str]:
    """The process environment without anything that would steer libpq or the wizard."""
    env = {k: v for k, v in os.environ.items() if not steers(k)}
    # A refused port must never create a per-user server in the real home (tests/machine/test_user_server.py
    # removes this to test that route).
    env.setdefault("SETUP_WIZARD_NO_USER_SERVER", "1")
    env.update(extra)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    """The real program, as a newcomer runs it: python -m setup_wizard ..."""
    return subprocess.run(
        [sys.executable, "-m", "setup_wizard", *args],
        cwd=cwd,
        env=env if env is not None else clean_environ(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


@dataclass(frozen=True)
class Result:
    """What one run of the program left: its exit code and both streams."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The one JSON document on stdout (json.loads fails on anything before or after it)."""
        return json.loads(self.stdout)


def run_inprocess(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    """cli.main(argv, Environment) with StringIO streams: the program's door without a process.

    The environment is a plain dict (clean_environ() unless given) and the folder is cwd; the process's
    own streams and os.environ must stay untouched, so anything cli.main writes to sys.stdout or
    sys.stderr, or changes in os.environ, fails the test that ran it.
    """
    from setup_wizard import cli
    from setup_wizard.environment import Environment

    out, err, leaked = io.StringIO(), io.StringIO(), io.StringIO()
    environ_before = dict(os.environ)
    env_obj = Environment(stdin=io.StringIO(stdin), stdout=out, stderr=err,
                          environ=dict(env if env is not None else clean_environ()), cwd=cwd)
    with contextlib.redirect_stdout(leaked), contextlib.redirect_stderr(leaked):
        code = cli.main(list(args), env_obj)
    assert leaked.getvalue() == "", f"cli.main wrote to sys.stdout/sys.stderr: {leaked.getvalue()!r}"
    assert dict(os.environ) == environ_before, "cli.main changed os.environ"
    return Result(code, out.getvalue(), err.getvalue())


def assert_no_secret(*texts: str) -> None:
    from urllib.parse import quote

    for text in texts:
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text


def backend_form(url: str) -> str:
    """The URL as the backend's .env holds it: SQLAlchemy's postgresql+psycopg:// scheme."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)
