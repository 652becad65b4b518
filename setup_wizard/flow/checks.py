"""`check`: the onboarding checklist, run read-only, and the shareable --report.

`REGISTRY` is every check in the order the checklist shows them: this computer
(flow/checks_machine.py), the settings and the .env file (flow/checks_config.py), then the server and
the database (flow/checks_database.py). `run_all` loads the settings, runs the checks through
flow/check_registry.py and collects one Report; the worst status decides the exit code (cli). Nothing
here writes: the connection is read-only, subprocesses only read (git), and the one file ever
written is the --report the person asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from setup_wizard import problems
from setup_wizard.config.envfile import EnvFile
from setup_wizard.environment import Environment
from setup_wizard.flow import checks_config, checks_database, checks_machine
from setup_wizard.flow.check_registry import Check, Context, run_checks
from setup_wizard.flow.options import Options
from setup_wizard.flow.settings_phase import load_env_and_settings
from setup_wizard.flow.state import real_system
from setup_wizard.flow.view import Say
from setup_wizard.machine.system import System
from setup_wizard.messages import check as msg
from setup_wizard.results import MigrationOutcome, Report, Status
from setup_wizard.scrub import Scrubber

REGISTRY: list[Check] = [*checks_machine.CHECKS, *checks_config.CHECKS, *checks_database.CHECKS]


CHECK_ACTIONS = {"applied": "skipped", "pending": "pending", "changed": "changed"}


def report_path(options: Options, env: Environment, env_file: EnvFile | None) -> Path | None:
    """Where --report goes; refused up front (exit 2) when it cannot or must not be written."""
    if options.report is None:
        return None
    path = options.report if options.report.is_absolute() else env.cwd / options.report
    if path.is_dir() or not path.parent.is_dir():
        raise problems.error("usage_invalid", msg.REPORT_PATH_INVALID.format(path=path), msg.FIX_REPORT_PATH)
    protected = [env_file.path] if env_file is not None else []
    if path.exists() and any(path.resolve() == p.resolve() for p in protected):
        raise problems.error("usage_invalid", msg.REPORT_WOULD_OVERWRITE.format(path=path), msg.FIX_REPORT_PATH)
    return path


def run_all(options: Options, env: Environment, say: Say, checks: Iterable[Check] | None = None,
            system: System | None = None) -> Report:
    """Run every registered check and, when asked, write the shareable report."""
    env_file, settings = load_env_and_settings(options, env)
    target = report_path(options, env, env_file)
    scrub = Scrubber.collect([settings.password], env_file.values if env_file else None)
    ctx = Context(options, env, env_file, settings, say, scrub, system or real_system(env))
    report = Report()
    try:
        for step in run_checks(ctx, REGISTRY if checks is None else checks):
            report.add(step)
    finally:
        if ctx.conn is not None:
            ctx.conn.close()
    report.verification = ctx.verification
    report.facts = ctx.facts
    # Each migration file's state in this database, as --yes reports it (already applied: "skipped").
    report.migrations = [MigrationOutcome(item.migration.name, CHECK_ACTIONS[item.state]) for item in ctx.plan or []]
    if target is not None:
        from setup_wizard.ui.reportfile import build_markdown

        try:
            write_text(target, build_markdown(report, scrub))
        except OSError as error:
            report.add(problems.step("report_write_failed", "report", Status.FAIL, msg.STEP_REPORT,
                                     path=target, error=error.strerror or error))
        else:
            report.footer.append(msg.REPORT_WRITTEN.format(path=target))
    return report


def write_text(path: Path, text: str) -> None:
    # UTF-8 without a BOM and with \n: what chat tools and editors paste cleanly.
    path.write_bytes(text.encode("utf-8"))
