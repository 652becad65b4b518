"""The one door in and out: parse arguments, run, render, map exceptions to exit codes.

Only this module ends the process. It imports nothing heavy at start-up (no psycopg, rich or
questionary), so --help and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from setup_wizard import __version__, problems
from setup_wizard.errors import Interrupted, Terminated, WizardError
from setup_wizard.exitcodes import ExitCode
from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import cli as cli_msg
from setup_wizard.ui.cells import cell_width, wrap_cells

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from setup_wizard.environment import Environment
    from setup_wizard.flow.options import Options
    from setup_wizard.results import Report

PROG = "python -m setup_wizard"


class _ParserExit(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def translate_argparse(message: str) -> str:
    for pattern, template in cli_msg.ARGPARSE_TRANSLATIONS:
        match = re.match(pattern, message)
        if match:
            return template.format(**match.groupdict())
    return message


class _KoreanHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_cells(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """Each line of the description and epilog on its own: kept as written when it fits (the examples'
        columns), else wrapped by cells; a line's own indent is kept."""
        out = []
        for raw in text.splitlines():
            lead = raw[: len(raw) - len(raw.lstrip(" "))]
            columns = re.split(r" {2,}", raw.strip(), maxsplit=1)
            if cell_width(raw) <= width or not raw.strip():
                out.append(indent + raw)
            elif len(columns) == 2:  # an example and what it does: the explanation under it, indented
                out.append(indent + lead + columns[0])
                out += [indent + lead + "    " + part for part in wrap_cells(columns[1], width - len(lead) - 4)]
            else:
                out += [indent + lead + part for part in wrap_cells(raw, width - len(lead))]
        return "\n".join(out)

    def _format_action(self, action: argparse.Action) -> str:
        """argparse pads the option column by characters: a Korean metavar (two cells a letter) pushed the
        help text right. The padding after it is shortened by the extra cells."""
        text = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        extra = cell_width(invocation) - len(invocation)
        first, newline, rest = text.partition("\n")
        at = first.find(invocation)
        if extra > 0 and at >= 0:
            after = first[at + len(invocation):]
            padding = len(after) - len(after.lstrip(" "))
            if padding - extra >= 2:
                first = first[: at + len(invocation)] + " " * (padding - extra) + after.lstrip(" ")
        return first + newline + rest

    def _format_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                      groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None) -> str:
        """argparse fills the usage lines by characters: narrower by the cells Korean adds, so they fit."""
        actions = list(actions)
        shown = [prefix or ""] + [a.metavar for a in actions if isinstance(a.metavar, str)]
        extra = sum(cell_width(text) - len(text) for text in shown)
        self._width -= extra
        try:
            return super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix or cli_msg.USAGE_PREFIX)


class KoreanArgumentParser(argparse.ArgumentParser):
    """argparse with its own messages in Korean; it raises instead of exiting or printing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._printed: list[str] = []

    def error(self, message: str) -> NoReturn:
        detail = translate_argparse(message)
        guess = self.suggest(message)
        if guess is not None:
            detail += "\n" + cli_msg.DID_YOU_MEAN.format(guess=guess)
        raise problems.error("usage_invalid", detail)

    def suggest(self, message: str) -> str | None:
        """The right spelling of a mistyped command or option ("did you mean"), if one is close."""
        import difflib

        choice = re.search(r"invalid choice: '([^']*)'", message)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if choice is not None:
            typed, known = choice.group(1), ["run", "check", "server", "start", "stop", "status"]
        elif unknown is not None:
            typed = unknown.group(1).split("=", 1)[0]
            known = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
            if not typed.startswith("-"):
                known += ["run", "check", "server"]
        else:
            return None
        close = difflib.get_close_matches(typed, known, n=1, cutoff=0.6)
        return close[0] if close else None

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # --help and --version print to sys.stdout; kept here, main() writes them to env.stdout.
        self._printed.append(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _ParserExit(status, "".join(self._printed) + (message or "") or None)


def build_parser() -> KoreanArgumentParser:
    parser = KoreanArgumentParser(
        prog=PROG,
        description=cli_msg.PROG_DESCRIPTION,
        epilog=cli_msg.PROG_EPILOG,
        formatter_class=_KoreanHelpFormatter,
        add_help=False,
    )
    parser._positionals.title = cli_msg.HELP_POSITIONALS
    parser._optionals.title = cli_msg.HELP_OPTIONS
    parser.add_argument("command", nargs="?", choices=("run", "check"), default="run", metavar=cli_msg.METAVAR_COMMAND,
                        help=cli_msg.HELP_COMMAND)
    parser.add_argument("-y", "--yes", action="store_true", help=cli_msg.HELP_YES)
    parser.add_argument("--dsn", metavar=cli_msg.METAVAR_URL, help=cli_msg.HELP_DSN)
    parser.add_argument("--env-file", metavar=cli_msg.METAVAR_PATH, type=Path, help=cli_msg.HELP_ENV_FILE)
    parser.add_argument("--json", action="store_true", help=cli_msg.HELP_JSON)
    parser.add_argument("--recreate", action="store_true", help=cli_msg.HELP_RECREATE)
    parser.add_argument("--lock-timeout", metavar=cli_msg.METAVAR_SECONDS, type=float, default=10.0,
                        help=cli_msg.HELP_LOCK_TIMEOUT)
    parser.add_argument("--report", metavar=cli_msg.METAVAR_FILE, type=Path, help=cli_msg.HELP_REPORT)
    parser.add_argument("-v", "--verbose", action="store_true", help=cli_msg.HELP_VERBOSE)
    parser.add_argument("--no-color", action="store_true", help=cli_msg.HELP_NO_COLOR)
    parser.add_argument("-h", "--help", action="help", help=cli_msg.HELP_HELP)
    parser.add_argument("--version", action="version", version=f"setup_wizard {__version__}",
                        help=cli_msg.HELP_VERSION)
    return parser


def build_server_parser() -> KoreanArgumentParser:
    parser = KoreanArgumentParser(prog=PROG + " server", description=cli_msg.SERVER_DESCRIPTION,
                                  formatter_class=_KoreanHelpFormatter, add_help=False)
    parser._positionals.title = cli_msg.HELP_POSITIONALS
    parser._optionals.title = cli_msg.HELP_OPTIONS
    parser.add_argument("action", choices=("start", "stop", "status", "autostart"), help=cli_msg.HELP_SERVER_ACTION)
    parser.add_argument("switch", nargs="?", choices=("on", "off"), help=cli_msg.HELP_SERVER_SWITCH)
    parser.add_argument("--json", action="store_true", help=cli_msg.HELP_JSON)
    parser.add_argument("-v", "--verbose", action="store_true", help=cli_msg.HELP_VERBOSE)
    parser.add_argument("--no-color", action="store_true", help=cli_msg.HELP_NO_COLOR)
    parser.add_argument("-h", "--help", action="help", help=cli_msg.HELP_HELP)
    return parser


def parse_options(argv: Sequence[str]) -> Options:
    from setup_wizard.flow.options import Options

    if argv[:1] == ["server"]:  # `server start|stop|status`: the per-user server (machine/server_command.py)
        server = build_server_parser().parse_args(list(argv[1:]))
        if (server.action == "autostart") != (server.switch is not None):
            raise problems.error("usage_invalid", cli_msg.SERVER_AUTOSTART_NEEDS_SWITCH)
        action = f"autostart {server.switch}" if server.switch else server.action
        return Options(command="server", server_action=action, json=server.json, verbose=server.verbose)
    args = build_parser().parse_args(list(argv))
    if not 1 <= args.lock_timeout <= 30:
        raise problems.error("usage_invalid", cli_msg.LOCK_TIMEOUT_RANGE)
    if args.command == "check" and args.recreate:
        raise problems.error("usage_invalid", cli_msg.RECREATE_WITH_CHECK)
    if args.report is not None and args.command != "check":
        raise problems.error("usage_invalid", cli_msg.REPORT_NEEDS_CHECK)
    return Options(
        command=args.command,
        yes=args.yes,
        dsn=args.dsn,
        env_file=args.env_file,
        json=args.json,
        recreate=args.recreate,
        lock_timeout=args.lock_timeout,
        verbose=args.verbose,
        report=args.report,
    )


def _failure_report(step_id: str, error: WizardError) -> Report:
    from setup_wizard.results import Report

    report = Report()
    report.add(problems.from_error(error, step_id))
    return report


def _emit(env: Environment, report: Report, options: Options | None, no_color: bool) -> None:
    from setup_wizard.ui import render

    if options is not None and options.json:
        render.write_json(env.stdout, report)
        if options.command == "check" or options.yes:  # (the wizard's own last screen already said it)
            for text in report.footer:  # stdout holds one JSON document; the rest goes to stderr
                render.write_plain(env.stderr, text)
        return
    console = render.make_console(env.stdout, no_color=no_color, environ=env.environ)
    with console:  # drawn whole, then written at once (rich buffers until the end of the block)
        if options is not None and options.command == "server":
            render.render_steps(console, report, render.symbols_for(env.stdout), verbose=options.verbose)
            return
        render.render_report(console, report, render.symbols_for(env.stdout),
                             check=options is not None and options.command == "check",
                             verbose=options is not None and options.verbose)


def _wizard(options: Options, env: Environment, no_color: bool) -> Report:
    """The interactive walk: screens on stdout (stderr under --json), questions on the terminal."""
    gc.enable()  # a walk lasts as long as the person takes: the collector is back (see main_entry)
    from setup_wizard.ui import wizard
    from setup_wizard.ui.prompts import make_prompter
    from setup_wizard.ui.screen import make_screen

    screen_stream = env.stderr if options.json or not env.stdout_isatty else env.stdout
    screen = make_screen(screen_stream, no_color=no_color, verbose=options.verbose,
                                environ=env.environ)
    prompter = make_prompter(env.stdin, env.stderr, env.environ, lambda text: screen.line(text, "dim"))
    return wizard.run(options, env, prompter, screen)


def _dispatch(options: Options, env: Environment, no_color: bool) -> Report:
    """The door: check, --yes or the interactive wizard, all through the one flow."""
    say = _progress(env, quiet=options.json and not env.stderr_isatty)
    if options.command == "server":
        from setup_wizard.flow.state import real_system
        from setup_wizard.machine import server_command

        return server_command.run(options.server_action, real_system(env))
    if options.command == "check":
        from setup_wizard.flow.checks import run_all

        return run_all(options, env, say)
    if options.yes:
        from setup_wizard.flow.decide import SafeDefaults
        from setup_wizard.flow.run import run
        from setup_wizard.flow.view import ProgressView

        return run(options, env, SafeDefaults(recreate=options.recreate), ProgressView(say))
    if not env.interactive:
        raise problems.error("no_tty")
    return _wizard(options, env, no_color)


def _progress(env: Environment, quiet: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if not quiet:
            from setup_wizard.ui.render import write_plain

            write_plain(env.stderr, text)

    return say


def _make_streams_safe() -> None:
    """A CP949 console or redirected stream must never crash the wizard on a symbol."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in args
    no_color = "--no-color" in args
    options: Options | None = None
    if env is None:
        _make_streams_safe()
    stderr = env.stderr if env is not None else sys.stderr
    try:
        try:
            options = parse_options(args)
        except _ParserExit as done:
            stream = sys.stdout if done.status == 0 else stderr
            if env is not None:
                stream = env.stdout if done.status == 0 else env.stderr
            if done.message:
                stream.write(done.message)
            return done.status
        from setup_wizard.environment import Environment as Env

        env = env or Env()
        no_color = no_color or env.no_color
        report = _dispatch(options, env, no_color)
        if options.json or options.command in ("check", "server") or options.yes:
            _emit(env, report, options, no_color)
        return int(ExitCode.OK if report.ok else ExitCode.FAILED)
    except WizardError as error:
        return _fail(env, stderr, error, wants_json, options)
    except (Interrupted, KeyboardInterrupt, EOFError) as stop:
        return _stopped(env, stderr, wants_json, terminated=_is_sigterm(stop))
    except Exception as error:  # the last net: a Korean message, never a traceback
        if (env.environ if env is not None else os.environ).get("SETUP_WIZARD_DEBUG"):
            raise
        return _fail(env, stderr, _unexpected(error), wants_json, options)


def _is_sigterm(stop: BaseException) -> bool:
    """SIGTERM, also where a prompt reported it as the person's stop (`raise Interrupted from exc`)."""
    return isinstance(stop, Terminated) or isinstance(stop.__cause__, Terminated)


def _stopped(env: Environment | None, stderr: TextIO, wants_json: bool, terminated: bool) -> int:
    """Ctrl+C, closed input (130) or SIGTERM (143): the running statement was cancelled and rolled back."""
    from setup_wizard.ui import render

    stop = problems.error("terminated" if terminated else "interrupted")
    render.write_plain(stderr, "\n" + stop.detail)
    if wants_json and env is not None:
        render.write_json(env.stdout, _failure_report(stop.code, stop))
    return int(problems.exit_code(stop))


def _unexpected(error: Exception) -> WizardError:
    from setup_wizard.database.limits import known_failure

    return known_failure(error) or problems.error("unexpected", error=type(error).__name__ + ": " + str(error))


def _fail(env: Environment | None, stderr: TextIO, error: WizardError, wants_json: bool,
          options: Options | None) -> int:
    """The one place a raised known failure becomes an exit code: its catalogue entry's (0/1/2/130/143)."""
    from setup_wizard.ui.render import write_plain

    code = problems.exit_code(error)
    step_id = "usage" if code == ExitCode.USAGE else "run"
    if wants_json:
        from setup_wizard.environment import Environment as Env
        from setup_wizard.ui import render

        render.write_json((env or Env()).stdout, _failure_report(step_id, error))
    if error.code == "usage_invalid":
        write_plain(stderr, build_parser().format_usage().rstrip())
        write_plain(stderr, cli_msg.USAGE_ERROR.format(prog=PROG, message=error.detail))
        write_plain(stderr, error.fix or cli_msg.USAGE_HINT)
    elif not wants_json:
        write_plain(stderr, f"[{error.code}] {error.detail}")
        if error.fix:
            write_plain(stderr, f"{catalogue_msg.LABEL_FIX}:\n{error.fix}")
    return int(code)


def main_entry() -> NoReturn:
    # `check` and `--yes` end within a second and make no garbage cycles worth collecting: the cyclic
    # collector would only walk, again and again, the objects their imports create (about 14 ms of a
    # `check` on the reference machine; issue 20, "Speed"). Memory is still freed by reference counting;
    # the interactive walk, which lasts as long as the person takes, turns the collector back on.
    gc.disable()
    from setup_wizard.process import QuickExit, guard_standard_streams, handle_sigterm

    leave = QuickExit()  # first: its atexit function must run last
    guard_standard_streams()  # `| head -1`, `>&-`: quiet, with the result's exit code
    handle_sigterm()  # like Ctrl+C, exit 143
    try:
        code = main()
    except KeyboardInterrupt as stop:  # pressed again while main() was reporting the first one
        code = int(ExitCode.TERMINATED if _is_sigterm(stop) else ExitCode.INTERRUPTED)
    leave.exit(code)
