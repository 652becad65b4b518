"""Plain result objects shared by the wizard, `check` and `--json`: computed first, rendered later."""

from __future__ import annotations

from dataclasses import field
from enum import Enum
from typing import Any

from setup_wizard.record import record


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    INFO = "info"  # nothing wrong, nothing checked: a line to know (check's checkpoint tables)


@record(eq=True)
class Step:
    """One line of the outcome: a stable id, a status, Korean text and an optional fix."""

    id: str
    status: Status
    title: str
    detail: str = ""
    code: str | None = None
    fix: str | None = None
    # Details for -v and the report (paths, versions, sources); not part of the JSON contract.
    more: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
        }


@record(eq=True)
class VerificationRow:
    """One row of the seed's verification table, with unique users really counted."""

    label: str
    total_rows: int
    unique_users: int
    healthy: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "table_name": self.label,
            "total_rows": self.total_rows,
            "unique_users": self.unique_users,
            "ok": self.healthy,
        }


@record(eq=True)
class MigrationOutcome:
    """What happened to one migration file in this run."""

    name: str
    action: str  # "applied", "baseline", "skipped", "pending", "failed", "changed"
    seconds: float = 0.0
    notices: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "seconds": round(self.seconds, 3),
            "notices": list(self.notices),
        }


@record(frozen=False)
class Report:
    """Everything one run found and did."""

    steps: list[Step] = field(default_factory=list)
    migrations: list[MigrationOutcome] = field(default_factory=list)
    verification: list[VerificationRow] = field(default_factory=list)
    # Label -> value for the shareable report (OS, Python, packages, server); not part of the JSON.
    facts: dict[str, str] = field(default_factory=dict)
    changed: bool = False  # did the run change anything? (a rerun that changed nothing says so once)
    footer: list[str] = field(default_factory=list)  # said last, where the person looks (the report's path)
    # After a ready run's next steps: what the last checklist found (LangGraph's tables there or not yet).
    next_steps: list[str] = field(default_factory=list)
    # The run's last screen: the database checks `check` runs, read again after the run's fixes.
    checklist: list[Step] = field(default_factory=list)
    backend_path: str = "backend"  # the backend folder from where the person ran it ("." inside it), for `cd`

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    @property
    def ok(self) -> bool:
        return all(step.status is not Status.FAIL for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "steps": [step.to_json() for step in self.steps],
            "migrations": [m.to_json() for m in self.migrations],
            "verification": [row.to_json() for row in self.verification],
            "checklist": [step.to_json() for step in self.checklist],
        }
