"""Drawing results: the one module that prints. Rich for people, JSON for programs.

Results go to stdout, progress and diagnostics to stderr. A console that cannot encode the symbols
(CP949 on Korean Windows, or a redirected stream) gets ASCII ones; NO_COLOR is honoured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO, cast

from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.record import record
from setup_wizard.results import Report, Status, Step

if TYPE_CHECKING:
    from rich.console import Console



@record
class Symbols:
    ok: str
    warn: str
    fail: str
    skip: str
    info: str
    unicode: bool

    def for_status(self, status: Status) -> str:
        return {Status.OK: self.ok, Status.WARN: self.warn, Status.FAIL: self.fail, Status.SKIP: self.skip,
                Status.INFO: self.info}[status]


UNICODE_SYMBOLS = Symbols("✓", "!", "✗", "-", "•", unicode=True)
ASCII_SYMBOLS = Symbols("[OK]", "[!]", "[X]", "[-]", "[i]", unicode=False)
STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim",
          Status.INFO: "cyan"}


def can_encode(stream: TextIO, sample: str = "✓✗•─│한글") -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        sample.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def terminal_size(stream: TextIO, environ: Mapping[str, str] | None = None) -> tuple[int | None, int | None]:
    """The real size: COLUMNS/LINES, else the terminal's own size (asked even with TERM=dumb, for
    which rich itself assumes 80 columns); (None, None) for a stream that is no terminal."""
    import os

    environ = environ or {}
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        columns, lines = 0, 0
    wanted = environ.get("COLUMNS", "")
    if wanted.isdigit() and int(wanted) > 0:
        columns = int(wanted)
    wanted = environ.get("LINES", "")
    if wanted.isdigit() and int(wanted) > 0:
        lines = int(wanted)
    if not columns:
        return None, None
    return columns, lines or 25


def terminal_width(stream: TextIO, environ: Mapping[str, str] | None = None) -> int | None:
    return terminal_size(stream, environ)[0]


class TrimmedStream:
    """A stream that drops the spaces rich pads table cells with at the end of a line.

    Output pasted into a chat or a file keeps no invisible trailing spaces; colour codes that follow
    the spaces stay."""

    _TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)(?=\r?\n)")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(self._TRAILING.sub(r"\1", text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def make_console(stream: TextIO, no_color: bool = False, width: int | None = None,
                 environ: Mapping[str, str] | None = None) -> Console:
    from rich.console import Console

    height: int | None = 25
    if width is None:
        width, height = terminal_size(stream, environ)
    console = Console(
        file=cast("TextIO", TrimmedStream(stream)),
        no_color=no_color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=width,
        # Both, or rich ignores the width on TERM=dumb and draws 80 columns.
        height=height,
        safe_box=True,
        # The passed-in environment, not the process's: FORCE_COLOR, TERM and friends come from it too.
        _environ=environ,
    )
    # Sized once: without a width (a pipe, a file) rich would ask the three standard streams for their
    # terminal's size again for every line it prints.
    console.size = console.size
    return console


def symbols_for(stream: TextIO) -> Symbols:
    return UNICODE_SYMBOLS if can_encode(stream) else ASCII_SYMBOLS


def check_summary(report: Report) -> str:
    """The checklist's last line: "문제 2개, 경고 1개" (flutter doctor style)."""
    fails = sum(step.status is Status.FAIL for step in report.steps)
    warns = sum(step.status is Status.WARN for step in report.steps)
    if fails == 0 and warns == 0:
        return finish_msg.SUMMARY_CHECK_OK
    return finish_msg.SUMMARY_CHECK_FAILED.format(fails=fails, warns=warns)


def _print(console: Console, text: str, indent: int = 0, style: str = "") -> None:
    """One line: on a terminal wrapped at word boundaries to its width, continuation lines keeping the
    indent; redirected (a file, a pipe, a chat paste) left whole, so long paths and URLs stay one line."""
    from rich.padding import Padding
    from rich.text import Text

    text_line = Text(text, style=style)
    if not console.is_terminal:
        console.print(Text(" " * indent) + text_line, soft_wrap=True)
        return
    text_line.overflow = "fold"
    console.print(Padding(text_line, (0, 0, 0, indent)) if indent else text_line)


def _render_step(console: Console, step: Step, symbols: Symbols, verbose: bool) -> None:
    from rich.text import Text

    heading = Text()
    heading.append(symbols.for_status(step.status), style=STYLES[step.status])
    heading.append(" ")
    heading.append(step.title, style="bold")
    if console.is_terminal:
        console.print(heading)
    else:
        console.print(heading, soft_wrap=True)
    for line in step.detail.splitlines():
        _print(console, line, 4)
    if verbose:
        for line in step.more:
            _print(console, line, 4, "dim")
    if step.fix:
        _print(console, catalogue_msg.LABEL_FIX + ":", 4, "bold")
        for line in step.fix.splitlines():
            _print(console, line, 6)
    if step.code and step.status in (Status.FAIL, Status.WARN):
        # The stable code stays findable (for the team chat), after what a person reads first.
        _print(console, catalogue_msg.CODE_LINE.format(code=step.code), 4, "dim")


def _render_tables(console: Console, report: Report, symbols: Symbols) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table_box = box.SIMPLE_HEAD if symbols.unicode else box.ASCII2
    if report.migrations:
        table = Table(title=migrations_msg.MIGRATION_TABLE_TITLE, box=table_box, title_justify="left")
        table.add_column(migrations_msg.MIGRATION_COL_FILE, overflow="fold")
        table.add_column(migrations_msg.MIGRATION_COL_ACTION, overflow="fold")
        table.add_column(migrations_msg.MIGRATION_COL_SECONDS, justify="right", overflow="fold")
        for outcome in report.migrations:
            seconds = f"{outcome.seconds:.2f}" if outcome.action in ("applied", "baseline") else ""
            action = migrations_msg.MIGRATION_ACTIONS.get(outcome.action, outcome.action)
            table.add_row(Text(outcome.name), Text(action), Text(seconds))
        console.print()
        console.print(table)
    if report.verification:
        table = Table(title=finish_msg.VERIFY_TABLE_TITLE, box=table_box, title_justify="left")
        table.add_column(finish_msg.VERIFY_COL_TABLE, overflow="fold")
        table.add_column(finish_msg.VERIFY_COL_TOTAL, justify="right", overflow="fold")
        table.add_column(finish_msg.VERIFY_COL_USERS, justify="right", overflow="fold")
        for row in report.verification:
            mark = symbols.ok if row.healthy else symbols.warn
            style = "green" if row.healthy else "yellow"
            table.add_row(Text.assemble((mark, style), " ", row.label),
                          Text(f"{row.total_rows:,}"), Text(f"{row.unique_users:,}"))
        console.print()
        console.print(table)
    if report.checklist:
        _render_checklist(console, report.checklist, symbols, table_box)


def _render_checklist(console: Console, items: list[Step], symbols: Symbols, table_box: Any) -> None:
    """The run's last screen in text: `check`'s database items read again after the fixes, each fix below."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=finish_msg.CHECKLIST_TITLE, box=table_box, title_justify="left", show_header=False)
    table.add_column(no_wrap=True, overflow="fold")
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    for item in items:
        # Text, not markup strings: nothing in a title or a detail is read as markup, and nothing is parsed.
        table.add_row(Text(symbols.for_status(item.status), style=STYLES[item.status]), Text(item.title),
                      Text(item.detail))
    console.print()
    console.print(table)
    for item in items:
        if item.fix and item.status in (Status.FAIL, Status.WARN):
            _print(console, f"{item.title} - {catalogue_msg.LABEL_FIX}:", style="bold")
            for line in item.fix.splitlines():
                _print(console, line, 2)


def render_report(console: Console, report: Report, symbols: Symbols, check: bool = False,
                  verbose: bool = False) -> None:

    for step in report.steps:
        _render_step(console, step, symbols, verbose)
    _render_tables(console, report, symbols)
    console.print()
    failed = next((s for s in reversed(report.steps) if s.status is Status.FAIL), None)
    if check:
        line = check_summary(report)
    elif failed is not None:
        line = finish_msg.SUMMARY_FAILED.format(title=failed.title)
    else:
        line = finish_msg.SUMMARY_OK
    style = "bold green" if report.ok else "bold red"
    _print(console, line, style=style)
    if report.ok and not check:
        cd = "" if report.backend_path == "." else finish_msg.NEXT_STEPS_CD.format(path=report.backend_path)
        for text in [finish_msg.NEXT_STEPS.format(cd=cd), *report.next_steps]:
            _print(console, text, style="dim")
    for text in report.footer:
        _print(console, text)


def render_steps(console: Console, report: Report, symbols: Symbols, verbose: bool = False) -> None:
    """Only the steps, no summary (`server start|stop|status`)."""
    for step in report.steps:
        _render_step(console, step, symbols, verbose)


def write_json(stream: TextIO, report: Report) -> None:
    """Exactly one JSON document, UTF-8, whatever the console's code page."""
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        stream.write(text)
        stream.flush()


def write_plain(stream: TextIO, text: str) -> None:
    """A line of text with no rich import (usage errors, --help): never fails on encoding."""
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, errors="replace").decode(encoding) + "\n")
    stream.flush()
