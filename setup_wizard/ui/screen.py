"""The wizard's screens: headings, tables, panels and live progress on one rich console.

Every method takes computed data (Settings, Steps, plan lines) and only draws it; ui/wizard.py's
ScreenView decides what to draw when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from setup_wizard.config.settings import FIELDS, LIBPQ_ENV_KEYS, Settings
from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.messages import migrations as migrations_msg
from setup_wizard.messages import screens as screens_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import MigrationOutcome, Report, Status, Step, VerificationRow
from setup_wizard.ui.render import STYLES, Symbols, make_console, symbols_for

if TYPE_CHECKING:
    from rich.console import Console

    from setup_wizard.machine.discovery import Discovery


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
        """A line wrapped at word boundaries; its leading spaces indent every wrapped line, not the first."""
        from rich.padding import Padding
        from rich.text import Text

        body = text.lstrip(" ")
        indent = len(text) - len(body)
        if body.startswith("- "):  # a bullet: its wrapped lines hang under the text, not the dash
            self.console.print(Text(" " * indent + "- ", style=style), end="")
            body, indent = body[2:], indent + 2
            lines = Text(body, style=style, overflow="fold").wrap(self.console, max(self.console.width - indent, 10))
            for number, part in enumerate(lines):
                self.console.print(Text(" " * indent if number else "") + part)
            return
        shown = Text(body, style=style, overflow="fold")
        self.console.print(Padding(shown, (0, 0, 0, indent)) if indent else shown)

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
            parts += [Text(""), Text(catalogue_msg.LABEL_FIX + ":", style="bold"), Text(fix)]
        if code:
            parts.append(Text(catalogue_msg.CODE_LINE.format(code=code), style="dim"))
        heading = f"{self.symbols.for_status(status)} {title}"
        self.console.print(Panel(Group(*parts), title=Text(heading, style=STYLES[status]), title_align="left",
                                 box=self._box(), border_style=STYLES[status], expand=True))

    # The screens ---------------------------------------------------------------------------------------
    def welcome(self) -> None:
        from rich.panel import Panel
        from rich.text import Text

        self.console.print(Panel(Text(screens_msg.WIZARD_WELCOME), title=Text(screens_msg.WIZARD_TITLE, style="bold"),
                                 title_align="left", box=self._box(), expand=True))

    def installations(self, discovery: Discovery) -> None:
        from rich.table import Table

        if not discovery.installations:
            self.line(screens_msg.INSTALL_NONE, "yellow")
            return
        table = Table(box=self._box())
        for title in (screens_msg.INSTALL_COL_VERSION, screens_msg.INSTALL_COL_PLACE, screens_msg.INSTALL_COL_ORIGIN,
                      screens_msg.INSTALL_COL_SERVICE, screens_msg.INSTALL_COL_PORT):
            table.add_column(title, overflow="fold")
        for item in discovery.installations:
            mark = self.symbols.ok + " " if item == discovery.chosen else "  "
            table.add_row(mark + item.version, str(item.bindir), item.origin.shown,
                          item.service or "-", str(item.port) if item.port else "-")
        self.console.print(table)

    def settings(self, settings: Settings, env_path: Path | None, read_from_file: bool) -> None:
        from rich.table import Table

        if not read_from_file:  # the file read is said once, with its encoding, by the .env step below
            self.line(screens_msg.SETTINGS_NO_FILE, "dim")
        table = Table(box=self._box(), show_edge=True)
        table.add_column(screens_msg.SETTINGS_COL_FIELD, overflow="fold")
        table.add_column(screens_msg.SETTINGS_COL_VALUE, overflow="fold")
        table.add_column(screens_msg.SETTINGS_COL_SOURCE, style="dim", overflow="fold")
        shown = settings.redacted()
        for name in FIELDS:
            table.add_row(settings_msg.FIELD_NAMES[name], shown[name], settings.source_text(name))
        for key, item in sorted(settings.extra.items()):
            table.add_row(key, item.value, item.source.describe())
        self.console.print(table)
        if settings.conflicts:
            self.line(screens_msg.SETTINGS_CONFLICTS, "yellow")
            for conflict in settings.conflicts:
                self.line("  " + conflict.describe(), "yellow")
            if any(c.loser.key in LIBPQ_ENV_KEYS.values() or c.winner.key in LIBPQ_ENV_KEYS.values()
                   for c in settings.conflicts):
                self.line(screens_msg.SETTINGS_BACKEND_IGNORES_PG, "yellow")

    def save_preview(self, path: Path, notes: list[str], shown: list[tuple[str, str]], exists: bool) -> None:
        self.line(screens_msg.SAVE_INTRO.format(path=path) if exists else screens_msg.SAVE_CREATE.format(path=path))
        for note in notes:
            self.line("  - " + note)
        for key, value in shown:
            self.line("  " + screens_msg.SAVE_LINE.format(key=key, shown=value), "bold")
        if exists:
            self.line(screens_msg.SAVE_KEEPS, "dim")

    def plan(self, lines: list[tuple[str, str]], safe_note: str) -> None:
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        table.add_column(no_wrap=True, style="bold", overflow="fold")
        table.add_column(overflow="fold")
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
            self.status_line(status, migrations_msg.APPLY_FILE_DONE.format(
                name=outcome.name, action=migrations_msg.MIGRATION_ACTIONS.get(outcome.action, outcome.action),
                seconds=outcome.seconds))

    def notices(self, summary: list[str], raw: list[str]) -> None:
        if not summary:
            return
        self.line(migrations_msg.NOTICES_TITLE)
        for text in summary:
            self.line("  - " + text)
        if self.verbose:
            for text in raw:
                self.line("    " + text, "dim")

    def verification(self, rows: list[VerificationRow]) -> None:
        from rich.table import Table

        if not rows:
            return
        table = Table(title=finish_msg.VERIFY_TABLE_TITLE, box=self._box(), title_justify="left")
        table.add_column(finish_msg.VERIFY_COL_TABLE, overflow="fold")
        table.add_column(finish_msg.VERIFY_COL_TOTAL, justify="right", overflow="fold")
        table.add_column(finish_msg.VERIFY_COL_USERS, justify="right", overflow="fold")
        for row in rows:
            mark = self.symbols.ok if row.healthy else self.symbols.warn
            table.add_row(f"{mark} {row.label}", f"{row.total_rows:,}", f"{row.unique_users:,}",
                          style=None if row.healthy else "yellow")
        self.console.print(table)

    def checklist(self, items: list[Step]) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=finish_msg.CHECKLIST_TITLE, box=self._box(), title_justify="left", show_header=False)
        table.add_column(no_wrap=True, overflow="fold")
        table.add_column(overflow="fold")
        table.add_column(style="dim", overflow="fold")
        for item in items:
            mark = Text(self.symbols.for_status(item.status), style=STYLES[item.status])
            table.add_row(mark, item.title, item.detail)
        self.console.print(table)
        for item in items:
            if item.fix:
                self.line(f"{item.title} - {catalogue_msg.LABEL_FIX}:", "bold yellow")
                self.line(item.fix)

    def fix(self, step: Step) -> None:
        """A problem's fix on its own, after the problem was drawn and the run went on."""
        if step.fix:
            self.line(catalogue_msg.LABEL_FIX + ":", "bold")
            self.line(step.fix)

    def finish(self, report: Report, next_steps: bool, last: Step | None = None) -> None:
        """The verdict; after a failure, the concrete next step for that failure is the last thing shown."""
        from rich.panel import Panel
        from rich.text import Text

        self.console.print()
        if report.ok:
            self.status_line(Status.OK, finish_msg.SUMMARY_OK if report.changed else finish_msg.RERUN_ALL_GOOD)
            return self._next_steps(next_steps, report.backend_path, report.next_steps)
        self.status_line(Status.FAIL, finish_msg.SUMMARY_NOT_READY)
        if last is not None and last.fix:
            self.console.print(Panel(Text(last.fix), title=Text(finish_msg.NEXT_FOR_FAILURE.format(title=last.title),
                                                                style="bold"),
                                     title_align="left", box=self._box(), expand=True))
        else:
            self.line(finish_msg.RERUN_AFTER_FIX)
        return None

    def footer(self, lines: list[str]) -> None:
        """Said after the verdict, the last thing on the screen (where a backup went): one line each, to copy."""
        from rich.text import Text

        for text in lines:
            self.console.print(Text(text), soft_wrap=True)

    def _next_steps(self, next_steps: bool, backend_path: str, notes: list[str]) -> None:
        from rich.panel import Panel
        from rich.text import Text

        text = (
            finish_msg.NEXT_STEPS_WIZARD_HERE
            if backend_path == "."
            else finish_msg.NEXT_STEPS_WIZARD.format(path=backend_path)
        )
        if next_steps:
            self.console.print(
                Panel(
                    Text("\n".join([text, *notes])),
                    title=Text(finish_msg.NEXT_STEPS_TITLE, style="bold"),
                    title_align="left",
                    box=self._box(),
                    expand=True,
                )
            )


def make_screen(stream: TextIO, no_color: bool, verbose: bool = False, width: int | None = None,
                environ: Mapping[str, str] | None = None) -> Screen:
    return Screen(make_console(stream, no_color=no_color, width=width, environ=environ), symbols_for(stream),
                  verbose)
