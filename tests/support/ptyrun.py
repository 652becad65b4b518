"""The real `python -m setup_wizard` in a pseudo-terminal, answered key by key (pexpect)."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pexpect
from support.program import assert_no_secret, clean_environ

from setup_wizard.messages import screens as msg


class Terminal:
    """One run of the real program; `ask` waits for a question and answers it."""

    def __init__(self, cwd: Path, term: str = "xterm", columns: int = 110, timeout: float = 15,
                 args: Sequence[str] = (), columns_variable: bool = True, **environ: str) -> None:
        """`columns_variable=False`: no COLUMNS/LINES, so the program must ask the terminal its size."""
        sizes = {"COLUMNS": str(columns), "LINES": "50"} if columns_variable else {}
        env = clean_environ(TERM=term, PROMPT_TOOLKIT_NO_CPR="1", **sizes, **environ)
        if not columns_variable:
            env.pop("COLUMNS", None)
            env.pop("LINES", None)
        self.term = term
        self.log = io.StringIO()
        self.child = pexpect.spawn(sys.executable, ["-m", "setup_wizard", *args], cwd=str(cwd), env=env,
                                   encoding="utf-8", codec_errors="replace", timeout=timeout,
                                   dimensions=(50, columns))
        self.child.logfile_read = self.log

    def ask(self, question: str, keys: str) -> None:
        """The question may be wrapped to the terminal's width at any space: a space matches any run of
        white space and colour codes (line breaks included). Spaces around the question count too:
        " 호스트 " must not match the echoed choice "호스트와 포트 바꾸기" before the host prompt exists."""
        gap = r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])+"
        pattern = gap.join(re.escape(word) for word in question.split())
        before = gap if question[:1].isspace() else ""
        after = gap if question[-1:].isspace() else ""
        self.child.expect(before + pattern + after)
        self.child.send(keys)

    def finish(self) -> int:
        """Wait for the end; no traceback, no secret, and questionary itself answered unless TERM=dumb."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert "Traceback" not in self.log.getvalue()
        assert_no_secret(self.log.getvalue())
        if self.term != "dumb":
            assert msg.PROMPT_FALLBACK not in self.output
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    @property
    def output(self) -> str:
        """What the person saw, without colour codes, charset switches and carriage returns."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r", "", self.log.getvalue())
