"""RealSystem for real: winreg, ctypes, ShellExecuteExW and the user PATH of a Windows Python under Wine.

Registry fixtures are written with `wine reg add` in the shapes the EDB installer leaves, inside this
session's private WINEPREFIX (conftest.py copies a pristine one), so nothing leaks into the next run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import Wine
from winpython import windows_path

HERE = Path(__file__).parent
INSTALLATIONS = r"HKLM\SOFTWARE\PostgreSQL\Installations"
SERVICES = r"HKLM\SOFTWARE\PostgreSQL\Services"


def probe(wine: Wine, *args: str) -> object:
    done = wine.python_exe(str(HERE / "probe.py"), *args, cwd=HERE)
    assert done.returncode == 0, done.stderr.decode("cp949", errors="replace")
    assert b"Traceback" not in done.stderr
    return json.loads(done.stdout.decode("ascii"))


def reg(wine: Wine, *args: str) -> str:
    done = wine.tool("reg", *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout.decode("cp949", errors="replace")


def reg_add(wine: Wine, key: str, name: str, kind: str, data: str) -> None:
    reg(wine, "add", key, "/v", name, "/t", kind, "/d", data, "/f", "/reg:64")


@pytest.fixture(scope="module")
def edb_installs(wine: Wine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 in C:\\Program Files (Version, port 5432); 17 in a non-default folder with no Version value
    and a customised Service ID (its Services key keeps the installation's name, port 5433)."""
    other = tmp_path_factory.mktemp("apps")
    for folder in (wine.prefix / "drive_c" / "Program Files" / "PostgreSQL" / "16" / "bin",
                   other / "PostgreSQL" / "17" / "bin"):
        folder.mkdir(parents=True, exist_ok=True)
        for exe in ("psql.exe", "pg_ctl.exe", "initdb.exe"):
            (folder / exe).write_bytes(b"MZ")
    base17 = windows_path(other / "PostgreSQL" / "17")
    for key, values in {
        INSTALLATIONS + r"\postgresql-x64-16": {
            "Base Directory": r"C:\Program Files\PostgreSQL\16",
            "Data Directory": r"C:\Program Files\PostgreSQL\16\data",
            "Service ID": "postgresql-x64-16", "Super User": "postgres", "Version": "16.4-1"},
        INSTALLATIONS + r"\postgresql-x64-17": {
            "Base Directory": base17, "Data Directory": base17 + r"\data", "Service ID": "pg17-dev",
            "Super User": "postgres"},
    }.items():
        for name, data in values.items():
            reg_add(wine, key, name, "REG_SZ", data)
    reg_add(wine, SERVICES + r"\postgresql-x64-16", "Port", "REG_DWORD", "5432")
    reg_add(wine, SERVICES + r"\postgresql-x64-17", "Port", "REG_DWORD", "5433")
    reg_add(wine, SERVICES + r"\postgresql-x64-17", "Locale", "REG_SZ", "Korean_Korea.949")
    return other


def test_registry_discovery_in_edb_installer_shapes(wine: Wine, edb_installs: Path) -> None:
    found = {i["version"]: i for i in probe(wine, "discover")}  # type: ignore[attr-defined]
    assert set(found) >= {"16", "17"}, found  # never "64" from x64
    assert (found["16"]["service"], found["16"]["port"], found["16"]["origin"]) == ("postgresql-x64-16", 5432,
                                                                                   "registry")
    assert (found["17"]["service"], found["17"]["port"]) == ("pg17-dev", 5433)
    assert found["17"]["bindir"].lower() == (windows_path(edb_installs / "PostgreSQL" / "17") + r"\bin").lower()


def test_program_files_under_the_upper_case_variable(wine: Wine, tmp_path: Path) -> None:
    programs = tmp_path / "Programs"
    (programs / "PostgreSQL" / "14" / "bin").mkdir(parents=True)
    (programs / "PostgreSQL" / "14" / "bin" / "psql.exe").write_bytes(b"MZ")
    # On Windows os.environ's keys are upper-case: PROGRAMFILES, never ProgramFiles.
    found = probe(wine, "discover", "PROGRAMFILES=" + windows_path(programs), "PROGRAMW6432=" + windows_path(programs))
    versions = {i["version"]: i for i in found}  # type: ignore[attr-defined]
    assert "14" in versions and versions["14"]["origin"] == "Program Files", found


def test_user_path_keeps_reg_expand_sz_and_variables(wine: Wine) -> None:
    key = r"HKCU\Environment"
    reg(wine, "add", key, "/v", "Path", "/t", "REG_EXPAND_SZ", "/d", r"%USERPROFILE%\bin;C:\tools", "/f")
    bindir = r"C:\Program Files\PostgreSQL\17\bin"
    result = probe(wine, "add-to-path", bindir)
    assert result["done"] is True and result["process_path_starts"] == bindir  # type: ignore[index]
    shown = reg(wine, "query", key, "/v", "Path")
    assert "REG_EXPAND_SZ" in shown and r"%USERPROFILE%\bin;C:\tools;" + bindir in shown, shown
    again = probe(wine, "add-to-path", bindir)  # twice: added once
    assert again["done"] is True and reg(wine, "query", key, "/v", "Path").count(bindir) == 1  # type: ignore[index]
    broadcast = probe(wine, "broadcast")
    assert broadcast["returned"] != 0 and broadcast["pointer_size"] == 8  # type: ignore[index]


def test_an_unreadable_user_path_is_left_alone(wine: Wine) -> None:
    key = r"HKCU\Environment"
    reg(wine, "add", key, "/v", "Path", "/t", "REG_DWORD", "/d", "7", "/f")  # not a PATH at all
    try:
        result = probe(wine, "add-to-path", r"C:\Program Files\PostgreSQL\17\bin")
        assert result["done"] is False and "PATH" in result["said"][0]  # type: ignore[index]
        assert "REG_DWORD" in reg(wine, "query", key, "/v", "Path")  # not overwritten with just bindir
    finally:
        reg(wine, "add", key, "/v", "Path", "/t", "REG_EXPAND_SZ", "/d", r"%USERPROFILE%\bin", "/f")


def test_shell_execute_ex_missing_program_and_exit_code(wine: Wine) -> None:
    missing = probe(wine, "elevate", r"C:\nowhere\no-such-program.exe")
    # ERROR_PATH_NOT_FOUND (3) for a missing folder, ERROR_FILE_NOT_FOUND (2): read via use_last_error,
    # with no error dialog (SEE_MASK_FLAG_NO_UI; without it Wine reported 1400 from the dialog it tried).
    assert missing["error"] in (2, 3), missing  # type: ignore[index]
    nofile = probe(wine, "elevate", r"C:\windows\no-such-program.exe")
    assert nofile["error"] == 2, nofile  # type: ignore[index]
    exited = probe(wine, "elevate", "cmd.exe", "/c", "exit 3")
    assert (exited["error"], exited["exit_code"]) == (0, 3), exited  # type: ignore[index]
    assert exited["prompt_seconds"] >= 0  # type: ignore[index]


def test_tool_output_in_the_console_code_page(wine: Wine) -> None:
    result = probe(wine, "console", "한글 점검")
    assert result["encoding"] in ("cp949", "oem"), result  # type: ignore[index]
    assert result["text"] == "한글 점검", result  # type: ignore[index]
    assert bytes.fromhex(result["raw"]).decode("cp949").strip() == "한글 점검"  # type: ignore[index]
