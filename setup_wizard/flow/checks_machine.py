"""`check`'s items about this computer: Python, the installed packages, PostgreSQL, psql and the port.

Finding PostgreSQL, psql, the port and the service is issue 3's diagnosis (machine/discovery.py and
machine/install_checks.py), asked here never to fix anything. What is found is left in the `Context`
(`discovery`, `facts`) for the later items and the --report. The order of `CHECKS` is the order the
checklist shows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from setup_wizard import problems
from setup_wizard.flow.check_registry import Check, Context, register
from setup_wizard.messages import check as check_msg
from setup_wizard.messages import install as install_msg
from setup_wizard.record import replace
from setup_wizard.results import Status, Step

MIN_PYTHON = (3, 10)
REQUIRED_PACKAGES = ("rich", "questionary", "psycopg", "python-dotenv")

CHECKS: list[Check] = []


@register(CHECKS, "python", check_msg.STEP_PYTHON)
def check_python(ctx: Context) -> Iterator[Step]:
    version = ".".join(str(n) for n in sys.version_info[:3])
    if ctx.options.report is not None:  # only the --report file lists it (platform() runs `uname -p`)
        import platform

        ctx.facts[check_msg.FACT_OS] = f"{platform.system()} {platform.release()} ({platform.platform()})"
    ctx.facts[check_msg.FACT_PYTHON] = f"{version} ({sys.executable})"
    more = (check_msg.PATH_LINE.format(path=sys.executable),)
    if sys.version_info[:2] < MIN_PYTHON:
        yield replace(
            problems.step("python_unsupported", "python", Status.FAIL, check_msg.STEP_PYTHON, version=version),
            more=more,
        )
    else:
        yield Step("python", Status.OK, check_msg.STEP_PYTHON, f"Python {version}", more=more)


@register(CHECKS, "packages", check_msg.STEP_PACKAGES)
def check_packages(ctx: Context) -> Iterator[Step]:
    from setup_wizard.database import checkpoints
    from setup_wizard.packages import installed_version

    found: list[str] = []
    missing: list[str] = []
    for name in REQUIRED_PACKAGES:
        version = installed_version(name)
        if version is None:
            missing.append(name)
        else:
            found.append(f"{name} {version}")
    more: list[str] = []
    if "psycopg" not in missing:
        import psycopg

        libpq = psycopg.pq.version()
        more.append(check_msg.PACKAGES_LIBPQ.format(impl=psycopg.pq.__impl__,
                                              libpq=f"{libpq // 10000}.{libpq % 10000 // 100 or libpq % 100}"))
    optional = checkpoints.library_version()
    more.append(check_msg.PACKAGES_OPTIONAL.format(
        name=checkpoints.PACKAGE, state=optional if optional else check_msg.PACKAGES_OPTIONAL_ABSENT))
    ctx.facts[check_msg.FACT_PACKAGES] = ", ".join([*found, f"{checkpoints.PACKAGE} {optional or '-'}"])
    if missing:
        yield replace(problems.step("package_missing", "packages", Status.FAIL, check_msg.STEP_PACKAGES,
                                    names=", ".join(missing)), more=tuple(more))
    else:
        yield Step("packages", Status.OK, check_msg.STEP_PACKAGES, ", ".join(found), more=tuple(more))


@register(CHECKS, "postgres", install_msg.STEP_POSTGRES)
def check_postgres(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.install_checks import describe, postgres_step
    from setup_wizard.machine.local_cluster import install_line

    ctx.discovery = discover(ctx.system)
    ctx.facts[check_msg.FACT_INSTALLATIONS] = (
        "; ".join(describe(i) for i in ctx.discovery.installations) or check_msg.NOT_FOUND
    )
    yield postgres_step(ctx.discovery, ctx.settings, install_line(ctx.system, ctx.discovery))


@register(CHECKS, "psql", install_msg.STEP_PSQL)
def check_psql(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.install_checks import psql_step

    discovery = ctx.discovery or discover(ctx.system)
    path = discovery.psql_on_path
    ctx.facts[check_msg.FACT_PSQL] = str(path) if path is not None else check_msg.NOT_FOUND
    yield psql_step(ctx.system, discovery, ctx.settings)


@register(CHECKS, "port", install_msg.STEP_PORT)
def check_port(ctx: Context) -> Iterator[Step]:
    from setup_wizard.machine.install_checks import port_step

    if ctx.discovery is not None:
        step = port_step(ctx.discovery, ctx.settings)
        if step is not None:
            yield step
