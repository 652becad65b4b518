"""Drawing results: the one module that prints. Rich for people, JSON for programs.

Results go to stdout, progress and diagnostics to stderr. A console that cannot encode the symbols
(CP949 on Korean Windows, or a redirected stream) gets ASCII ones; NO_COLOR is honoured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from setup_wizard import messages as msg
from setup_wizard.config.settings import FIELDS, LIBPQ_ENV_KEYS, Settings
from setup_wizard.results import MigrationOutcome, Report, Status, Step, VerificationRow

if TYPE_CHECKING:
    from rich.console import Console

    from setup_wizard.machine.discovery import Discovery


@dataclass(frozen=True)
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


def terminal_width(stream: TextIO, environ: Mapping[str, str] | None = None) -> int | None:
    """The real width: COLUMNS, else the terminal's own size. rich itself assumes 80 on TERM=dumb."""
    import os

    columns = (environ or {}).get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, ValueError, OSError):
        return None


def make_console(stream: TextIO, no_color: bool = False, width: int | None = None,
                 environ: Mapping[str, str] | None = None) -> Console:
    from rich.console import Console

    if width is None:
        width = terminal_width(stream, environ)
    return Console(
        file=stream,
        no_color=no_color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=width,
        safe_box=True,
    )


def symbols_for(stream: TextIO) -> Symbols:
    return UNICODE_SYMBOLS if can_encode(stream) else ASCII_SYMBOLS


def check_summary(report: Report) -> str:
    """The checklist's last line: "문제 2개, 경고 1개" (flutter doctor style)."""
    fails = sum(step.status is Status.FAIL for step in report.steps)
    warns = sum(step.status is Status.WARN for step in report.steps)
    if fails == 0 and warns == 0:
        return msg.SUMMARY_CHECK_OK
    return msg.SUMMARY_CHECK_FAILED.format(fails=fails, warns=warns)


def _render_step(console: Console, step: Step, symbols: Symbols, verbose: bool) -> None:
    from rich.markup import escape

    mark = symbols.for_status(step.status)
    # soft_wrap: long paths and URLs stay on one line when pasted into a chat.
    console.print(f"[{STYLES[step.status]}]{escape(mark)}[/] [bold]{escape(step.title)}[/]", soft_wrap=True)
    for line in step.detail.splitlines():
        console.print(f"    {escape(line)}", soft_wrap=True)
    if verbose:
        for line in step.more:
            console.print(f"    [dim]{escape(line)}[/]", soft_wrap=True)
    if step.fix:
        console.print(f"    [bold]{msg.LABEL_FIX}:[/]", soft_wrap=True)
        for line in step.fix.splitlines():
            console.print(f"      {escape(line)}", soft_wrap=True)
    if step.code and step.status in (Status.FAIL, Status.WARN):
        # The stable code stays findable (for the team chat), after what a person reads first.
        console.print(f"    [dim]{escape(msg.CODE_LINE.format(code=step.code))}[/]", soft_wrap=True)


def _render_tables(console: Console, report: Report, symbols: Symbols) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table_box = box.SIMPLE_HEAD if symbols.unicode else box.ASCII2
    if report.migrations:
        table = Table(title=msg.MIGRATION_TABLE_TITLE, box=table_box, title_justify="left")
        table.add_column(msg.MIGRATION_COL_FILE)
        table.add_column(msg.MIGRATION_COL_ACTION)
        table.add_column(msg.MIGRATION_COL_SECONDS, justify="right")
        for outcome in report.migrations:
            seconds = f"{outcome.seconds:.2f}" if outcome.action in ("applied", "baseline") else ""
            table.add_row(outcome.name, msg.MIGRATION_ACTIONS.get(outcome.action, outcome.action), seconds)
        console.print()
        console.print(table)
    if report.verification:
        table = Table(title=msg.VERIFY_TABLE_TITLE, box=table_box, title_justify="left")
        table.add_column(msg.VERIFY_COL_TABLE)
        table.add_column(msg.VERIFY_COL_TOTAL, justify="right")
        table.add_column(msg.VERIFY_COL_USERS, justify="right")
        for row in report.verification:
            mark = symbols.ok if row.healthy else symbols.warn
            style = "green" if row.healthy else "yellow"
            table.add_row(f"[{style}]{escape(mark)}[/] {escape(row.label)}",
                          f"{row.total_rows:,}", f"{row.unique_users:,}")
        console.print()
        console.print(table)


def render_report(console: Console, report: Report, symbols: Symbols, check: bool = False,
                  verbose: bool = False) -> None:
    from rich.markup import escape

    for step in report.steps:
        _render_step(console, step, symbols, verbose)
    _render_tables(console, report, symbols)
    console.print()
    failed = next((s for s in reversed(report.steps) if s.status is Status.FAIL), None)
    if check:
        line = check_summary(report)
    elif failed is not None:
        line = msg.SUMMARY_FAILED.format(title=failed.title)
    else:
        line = msg.SUMMARY_OK
    style = "bold green" if report.ok else "bold red"
    console.print(f"[{style}]{escape(line)}[/]")
    if report.ok and not check:
        for text in msg.NEXT_STEPS.splitlines():
            console.print(f"[dim]{escape(text)}[/]", soft_wrap=True)


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


# --- issue 4: the wizard's screens --------------------------------------------------------------------

class Screen:
    """The wizard's screens on one console: headings, tables, panels and live progress.

    Every screen takes computed data (Settings, Steps, plan lines) and only draws it. With ASCII
    symbols (a CP949 console, a redirected stream) boxes and rules are drawn in ASCII as well.
    """

    def __init__(self, console: Console, symbols: Symbols, verbose: bool = False) -> None:
        self.console = console
        self.symbols = symbols
        self.verbose = verbose
        self._screens = 0

    # Small pieces --------------------------------------------------------------------------------------
    def _box(self) -> Any:
        from rich import box

        return box.ROUNDED if self.symbols.unicode else box.ASCII

    def heading(self, title: str) -> None:
        from rich.markup import escape

        self._screens += 1
        self.console.print()
        self.console.rule(f"[bold]{self._screens}. {escape(title)}[/]", align="left",
                          characters="─" if self.symbols.unicode else "-")

    def line(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(text, style=style))

    def status_line(self, status: Status, text: str) -> None:
        from rich.text import Text

        line = Text()
        line.append(self.symbols.for_status(status), style=STYLES[status])
        line.append(" " + text)
        self.console.print(line)

    def step(self, step: Step) -> None:
        """One outcome: a mark and the detail; a failure as a panel with its fix."""
        if step.status is Status.FAIL or (step.status is Status.WARN and step.fix):
            self.problem(step.title, step.detail, step.fix, step.code, step.status)
        else:
            self.status_line(step.status, step.detail or step.title)

    def problem(self, title: str, detail: str, fix: str | None, code: str | None = None,
                status: Status = Status.FAIL) -> None:
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        parts: list[Any] = [Text(detail)]
        if fix:
            parts += [Text(""), Text(msg.LABEL_FIX + ":", style="bold"), Text(fix)]
        if code:
            parts.append(Text(msg.CODE_LINE.format(code=code), style="dim"))
        heading = f"{self.symbols.for_status(status)} {title}"
        self.console.print(Panel(Group(*parts), title=Text(heading, style=STYLES[status]), title_align="left",
                                 box=self._box(), border_style=STYLES[status], expand=True))

    # The screens ---------------------------------------------------------------------------------------
    def welcome(self) -> None:
        from rich.panel import Panel
        from rich.text import Text

        self.console.print(Panel(Text(msg.WIZARD_WELCOME), title=Text(msg.WIZARD_TITLE, style="bold"),
                                 title_align="left", box=self._box(), expand=True))

    def installations(self, discovery: Discovery) -> None:
        from rich.table import Table

        self.heading(msg.SCREEN_INSTALL)
        if not discovery.installations:
            self.line(msg.INSTALL_NONE, "yellow")
            return
        table = Table(box=self._box())
        for title in (msg.INSTALL_COL_VERSION, msg.INSTALL_COL_PLACE, msg.INSTALL_COL_ORIGIN,
                      msg.INSTALL_COL_SERVICE, msg.INSTALL_COL_PORT):
            table.add_column(title)
        for item in discovery.installations:
            mark = self.symbols.ok + " " if item == discovery.chosen else "  "
            table.add_row(mark + item.version, str(item.bindir), item.origin, item.service or "-",
                          str(item.port) if item.port else "-")
        self.console.print(table)
        if discovery.chosen is not None:
            self.line(msg.INSTALL_CHOSEN.format(version=discovery.chosen.version, bindir=discovery.chosen.bindir))

    def settings(self, settings: Settings, env_path: Path | None, read_from_file: bool) -> None:
        from rich.table import Table

        self.heading(msg.SCREEN_SETTINGS)
        if env_path is not None and read_from_file:
            self.line(msg.SETTINGS_FROM_FILE.format(path=env_path), "dim")
        elif not read_from_file:
            self.line(msg.SETTINGS_NO_FILE, "dim")
        table = Table(box=self._box(), show_edge=True)
        table.add_column(msg.SETTINGS_COL_FIELD)
        table.add_column(msg.SETTINGS_COL_VALUE)
        table.add_column(msg.SETTINGS_COL_SOURCE, style="dim")
        shown = settings.redacted()
        for name in FIELDS:
            table.add_row(msg.FIELD_NAMES[name], shown[name], settings.source_text(name))
        for key, item in sorted(settings.extra.items()):
            table.add_row(key, item.value, item.source.describe())
        self.console.print(table)
        if settings.conflicts:
            self.line(msg.SETTINGS_CONFLICTS, "yellow")
            for conflict in settings.conflicts:
                self.line("  " + conflict.describe(), "yellow")
            if any(c.loser.key in LIBPQ_ENV_KEYS.values() or c.winner.key in LIBPQ_ENV_KEYS.values()
                   for c in settings.conflicts):
                self.line(msg.SETTINGS_BACKEND_IGNORES_PG, "yellow")

    def save_preview(self, path: Path, shown: list[tuple[str, str]], exists: bool) -> None:
        self.heading(msg.SCREEN_SAVE)
        self.line(msg.SAVE_INTRO.format(path=path) if exists else msg.SAVE_CREATE.format(path=path))
        for key, value in shown:
            self.line("  " + msg.SAVE_LINE.format(key=key, shown=value), "bold")
        if exists:
            self.line(msg.SAVE_KEEPS, "dim")

    def plan(self, lines: list[tuple[str, str]], safe_note: str) -> None:
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for name, description in lines:
            table.add_row(name, description)
        self.console.print(table)
        self.line(safe_note, "dim")

    @contextmanager
    def progress(self, first: str) -> Iterator[Callable[[str], None]]:
        """A spinner with the elapsed time; the callable changes its text."""
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(
            SpinnerColumn("dots" if self.symbols.unicode else "line"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as bar:
            task = bar.add_task(first, total=None)
            yield lambda text: bar.update(task, description=text)

    def migrations(self, outcomes: list[MigrationOutcome]) -> None:
        for outcome in outcomes:
            status = Status.FAIL if outcome.action in ("failed", "changed") else Status.OK
            if outcome.action in ("skipped", "pending"):
                status = Status.SKIP
            self.status_line(status, msg.APPLY_FILE_DONE.format(
                name=outcome.name, action=msg.MIGRATION_ACTIONS.get(outcome.action, outcome.action),
                seconds=outcome.seconds))

    def notices(self, summary: list[str], raw: list[str]) -> None:
        if not summary:
            return
        self.line(msg.NOTICES_TITLE)
        for text in summary:
            self.line("  - " + text)
        if self.verbose:
            for text in raw:
                self.line("    " + text, "dim")

    def verification(self, rows: list[VerificationRow]) -> None:
        from rich.table import Table

        if not rows:
            return
        table = Table(title=msg.VERIFY_TABLE_TITLE, box=self._box(), title_justify="left")
        table.add_column(msg.VERIFY_COL_TABLE)
        table.add_column(msg.VERIFY_COL_TOTAL, justify="right")
        table.add_column(msg.VERIFY_COL_USERS, justify="right")
        for row in rows:
            mark = self.symbols.ok if row.healthy else self.symbols.warn
            table.add_row(f"{mark} {row.label}", f"{row.total_rows:,}", f"{row.unique_users:,}",
                          style=None if row.healthy else "yellow")
        self.console.print(table)

    def checklist(self, items: list[Step]) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=msg.CHECKLIST_TITLE, box=self._box(), title_justify="left", show_header=False)
        table.add_column(no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        for item in items:
            mark = Text(self.symbols.for_status(item.status), style=STYLES[item.status])
            table.add_row(mark, item.title, item.detail)
        self.console.print(table)
        for item in items:
            if item.fix:
                self.line(f"{item.title} - {msg.LABEL_FIX}:", "bold yellow")
                self.line(item.fix)

    def fix(self, step: Step) -> None:
        """A problem's fix on its own, after the problem was drawn and the run went on."""
        if step.fix:
            self.line(msg.LABEL_FIX + ":", "bold")
            self.line(step.fix)

    def finish(self, report: Report, next_steps: bool, last: Step | None = None) -> None:
        """The verdict; after a failure, the concrete next step for that failure is the last thing shown."""
        from rich.panel import Panel
        from rich.text import Text

        self.console.print()
        if report.ok:
            self.status_line(Status.OK, msg.SUMMARY_OK)
            return self._next_steps(next_steps)
        self.status_line(Status.FAIL, msg.SUMMARY_NOT_READY)
        if last is not None and last.fix:
            self.console.print(Panel(Text(last.fix), title=Text(msg.NEXT_FOR_FAILURE.format(title=last.title),
                                                                style="bold"),
                                     title_align="left", box=self._box(), expand=True))
        else:
            self.line(msg.RERUN_AFTER_FIX)
        return None

    def _next_steps(self, next_steps: bool) -> None:
        from rich.panel import Panel
        from rich.text import Text

        if next_steps:
            self.console.print(Panel(Text(msg.NEXT_STEPS_WIZARD), title=Text(msg.NEXT_STEPS_TITLE, style="bold"),
                                     title_align="left", box=self._box(), expand=True))


def make_screen(stream: TextIO, no_color: bool, verbose: bool = False, width: int | None = None,
                environ: Mapping[str, str] | None = None) -> Screen:
    return Screen(make_console(stream, no_color=no_color, width=width, environ=environ), symbols_for(stream),
                  verbose)
