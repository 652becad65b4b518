"""`python -m setup_wizard server start|stop|status`: living with the per-user server (machine/local_cluster.py).

Each action gives a Report of one step, drawn like every other result (text, or --json with a `server`
object: running, port, folder, version, log file).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from setup_wizard import problems
from setup_wizard.machine import local_cluster
from setup_wizard.machine.system import System
from setup_wizard.messages import server as msg
from setup_wizard.record import record
from setup_wizard.results import Report, Status, Step


@record(frozen=False)
class ServerReport(Report):
    server: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "server": self.server}


def _facts(system: System, place: local_cluster.Place) -> dict[str, Any]:
    from setup_wizard.machine import autostart

    current = local_cluster.state(system, place)
    return {
        "autostart": current is not None and autostart.is_on(system),
        "exists": current is not None,
        "running": bool(current and current.running),
        "port": current.port if current else None,
        "folder": str(place.base),
        "version": current.version if current else None,
        "log_file": str(place.log),
        "run_as": place.run_as,
    }


def status_step(facts: dict[str, Any]) -> Step:
    state = msg.USER_SERVER_RUNNING if facts["running"] else msg.USER_SERVER_NOT_RUNNING
    detail = msg.USER_SERVER_STATUS.format(state=state, port=facts["port"] or "?", folder=facts["folder"],
                                           version=facts["version"] or "?", log=facts["log_file"])
    if facts["run_as"]:
        detail += "\n" + msg.USER_SERVER_RUN_AS.format(user=facts["run_as"])
    else:
        detail += "\n" + msg.AUTOSTART_STATE.format(
            state=msg.AUTOSTART_STATE_ON if facts["autostart"] else msg.AUTOSTART_STATE_OFF)
    # Stopped is a state to know, not a failure of `status`: the exit code says whether it answered.
    return Step("cluster", Status.OK if facts["running"] else Status.WARN, msg.STEP_CLUSTER, detail)


def run(action: str, system: System) -> ServerReport:
    report = ServerReport()
    place = local_cluster.server_place(system)
    if isinstance(place, local_cluster.Unavailable):
        report.add(place.step())
        return report
    if not place.exists:
        report.add(problems.step("user_server_missing", "cluster", Status.FAIL, msg.STEP_CLUSTER, folder=place.base))
    elif action == "start":
        step, changed = local_cluster.start(system, place)
        report.add(step)
        report.changed = changed
    elif action.startswith("autostart"):
        from setup_wizard.machine import autostart

        step = autostart.enable(system) if action.endswith(" on") else autostart.disable(system)
        report.add(step)
        report.changed = step.status is Status.OK
    elif action == "stop":
        step, changed = local_cluster.stop(system, place)
        report.add(step)
        report.changed = changed
    else:
        report.add(status_step(_facts(system, place)))
    report.server = _facts(system, place)
    return report
