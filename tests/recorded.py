"""Machines rebuilt from recorded outputs (tests/recordings/), for the Windows logic on any OS."""

from __future__ import annotations

import json
from pathlib import Path

from recorded_system import RecordedSystem

from setup_wizard.machine.system import ERROR_SERVICE_DOES_NOT_EXIST, Platform

RECORDINGS = Path(__file__).parent / "recordings"


def recording(name: str) -> bytes:
    return (RECORDINGS / name).read_bytes()


def registry(name: str) -> dict[str, dict[str, str | int]]:
    data = json.loads((RECORDINGS / name).read_text(encoding="utf-8"))
    return {key: values for key, values in data.items() if not key.startswith("_")}


def windows_two_versions(**overrides: object) -> RecordedSystem:
    """Korean Windows with PostgreSQL 16 (service running, port 5432) and 17 (stopped, port 5433).

    Neither bin folder is on PATH: the EDB installer does not add it.
    """
    files = {
        rf"C:\Program Files\PostgreSQL\{v}\bin\{exe}"
        for v in ("16", "17")
        for exe in ("psql.exe", "pg_ctl.exe", "initdb.exe", "pg_isready.exe")
    }
    system = RecordedSystem(
        platform=Platform.WINDOWS,
        environ={"PATH": r"C:\Windows\system32;C:\Windows", "ProgramFiles": r"C:\Program Files"},
        files=files,
        registry=registry("registry_two_versions.json"),
        services={
            "postgresql-x64-16": (0, recording("sc_query_postgresql-x64-16_running.cp949")),
            "postgresql-x64-17": (0, recording("sc_query_postgresql-x64-17_stopped.cp949")),
        },
        user_path_value=r"C:\Users\민수\AppData\Local\Microsoft\WindowsApps",
    )
    for key, value in overrides.items():
        setattr(system, key, value)
    return system


def windows_absent_service() -> tuple[int, bytes]:
    return ERROR_SERVICE_DOES_NOT_EXIST, recording("sc_query_absent.cp949")
