"""The shareable report (`check --report FILE`): the checklist and its surroundings as Korean Markdown.

Built from the same Report the screen and --json show. Settings only ever appear through their redacted
view, and the whole text passes through the Scrubber at the end, so no password or .env secret can
reach the file even if some message carried one.
"""

from __future__ import annotations

from datetime import datetime

from setup_wizard import __version__
from setup_wizard.messages import catalogue as catalogue_msg
from setup_wizard.messages import check as check_msg
from setup_wizard.messages import finish as finish_msg
from setup_wizard.results import Report, Status, Step
from setup_wizard.scrub import Scrubber
from setup_wizard.ui.render import check_summary

MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-", Status.INFO: "•"}


def _fenced(text: str) -> list[str]:
    fence = "````" if "```" in text else "```"
    return [fence + "text", text, fence]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _step_lines(step: Step) -> list[str]:
    code = f" (`{step.code}`)" if step.code else ""
    lines = [f"- {MARKS[step.status]} **{step.title}**{code}"]
    for line in step.detail.splitlines():
        lines.append(f"  {line}  ")
    for line in step.more:
        lines.append(f"  {line}  ")
    if step.fix:
        lines.append(f"  - {catalogue_msg.LABEL_FIX}:")
        lines.extend(f"    {line}  " for line in step.fix.splitlines())
    return lines


def build_markdown(report: Report, scrub: Scrubber, now: datetime | None = None) -> str:
    stamp = (now or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M:%S %z")
    lines = [
        f"# {check_msg.REPORT_TITLE}",
        "",
        f"- {check_msg.REPORT_CREATED}: {stamp}",
        f"- {check_msg.REPORT_TOOL}: setup_wizard {__version__} (`python -m setup_wizard check`)",
        f"- {check_msg.REPORT_RESULT}: {check_summary(report)}",
        "",
        f"> {check_msg.REPORT_NO_SECRETS}",
        "",
        f"## {check_msg.REPORT_CHECKLIST}",
        "",
    ]
    for step in report.steps:
        lines.extend(_step_lines(step))
    lines += [
        "",
        f"## {check_msg.REPORT_ENVIRONMENT}",
        "",
        f"| {check_msg.REPORT_COL_ITEM} | {check_msg.REPORT_COL_VALUE} |",
        "| --- | --- |",
    ]
    lines.extend(f"| {_cell(label)} | {_cell(value)} |" for label, value in report.facts.items())
    if report.verification:
        lines += ["", f"## {finish_msg.VERIFY_TABLE_TITLE}", "", "| table_name | total_rows | unique_users |",
                  "| --- | ---: | ---: |"]
        lines.extend(f"| {row.label} | {row.total_rows:,} | {row.unique_users:,} |" for row in report.verification)
    failures = [step for step in report.steps if step.status is Status.FAIL]
    lines += ["", f"## {check_msg.REPORT_LAST_FAILURE}", ""]
    if failures:
        last = failures[-1]
        lines.append(f"**{last.title}**" + (f" (`{last.code}`)" if last.code else ""))
        lines.append("")
        lines.extend(_fenced(last.detail))
        if last.fix:
            lines += ["", f"{catalogue_msg.LABEL_FIX}:", ""]
            lines.extend(_fenced(last.fix))
    else:
        lines.append(check_msg.REPORT_NO_FAILURE)
    lines.append("")
    return scrub("\n".join(lines))
