"""Route 1 under Wine: `winget install` as the program really runs it (RealSystem, subprocess, the option file
in a private temporary folder), answered by a stand-in winget.exe compiled here from winget_standin.c with
Debian's mingw-w64 (x86_64-w64-mingw32-gcc). The stand-in records its command line and the option file it was
handed, writes what winget would print (CP949 bytes) and exits with winget's result code; on success it leaves
the EDB installer's registry keys, so the wizard finds PostgreSQL 17 and puts its bin on the user PATH.

Wine cannot run the installer's Windows service, so nothing listens afterwards: what is asserted is what can
be observed (the registry, the user PATH, the Korean text), not a server.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Wine
from support.codepage import cp949
from support.pgserver import free_port
from winpython import windows_path

from setup_wizard.messages import server as msg

HERE = Path(__file__).parent
COMPILER = "x86_64-w64-mingw32-gcc"
PASSWORD = "윈겟 pw;#'\"x"  # Hangul, a space, ; # and quotes: only ever in the option file


def assert_no_password(command_line: str) -> None:
    """Not the password, nor the part of it a command line's quoting (\\" for ") leaves intact."""
    assert PASSWORD not in command_line and "윈겟" not in command_line and "superpassword" not in command_line
PORT = free_port()  # nothing listens there: Wine cannot run the installer's service


@pytest.fixture(scope="module")
def winget_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which(COMPILER)
    if compiler is None:
        pytest.fail(f"{COMPILER} is missing (Debian: apt-get install gcc-mingw-w64-x86-64); .ci/run installs it")
    folder = tmp_path_factory.mktemp("winget")
    subprocess.run([compiler, "-municode", "-O2", "-Wall", "-Werror", "-o", str(folder / "winget.exe"),
                    str(HERE / "winget_standin.c"), "-lshell32", "-ladvapi32"], check=True, timeout=120)
    return folder


@pytest.fixture(autouse=True)
def no_postgres(wine: Wine) -> Iterator[None]:
    """No PostgreSQL on this Windows before or after each test (the registry, Program Files and the user
    PATH are the session's, shared with test_realsystem.py's fixtures): the install is offered only where
    none is, and a bin folder one test put on the user PATH is not found by the next."""
    def clear() -> None:
        wine.tool("reg", "delete", r"HKLM\SOFTWARE\PostgreSQL", "/f", "/reg:64")
        shutil.rmtree(wine.prefix / "drive_c" / "Program Files" / "PostgreSQL", ignore_errors=True)

    shown = wine.tool("reg", "query", r"HKCU\Environment", "/v", "Path").stdout.decode("cp949", "replace")
    found = re.search(r"^\s*Path\s+(REG_\w+)\s+(.*?)\s*$", shown, re.MULTILINE | re.IGNORECASE)
    clear()
    yield
    clear()
    if found is None:
        wine.tool("reg", "delete", r"HKCU\Environment", "/v", "Path", "/f")
    else:
        wine.tool("reg", "add", r"HKCU\Environment", "/v", "Path", "/t", found.group(1), "/d", found.group(2), "/f")


def _install(wine: Wine, winget_dir: Path, tmp_path: Path, code: int, output: bytes = b"",
             base: Path | None = None) -> tuple[subprocess.CompletedProcess[bytes], str, Path]:
    backend = tmp_path / "backend"
    backend.mkdir()
    env_file = backend / ".env"
    env_file.write_text(f"POSTGRES_HOST=localhost\nPOSTGRES_PORT={PORT}\nPOSTGRES_USER=postgres\n"
                        f"POSTGRES_PASSWORD='{PASSWORD.replace(chr(39), chr(92) + chr(39))}'\n"
                        "POSTGRES_DB=real_estate\n", encoding="utf-8")
    record = tmp_path / "record"
    record.mkdir()
    extra = {"WINEPATH": windows_path(winget_dir), "WINGET_STANDIN_RECORD": windows_path(record),
             "WINGET_STANDIN_EXIT": f"0x{code:08X}"}
    if output:
        (tmp_path / "winget-output.txt").write_bytes(output)
        extra["WINGET_STANDIN_OUTPUT"] = windows_path(tmp_path / "winget-output.txt")
    if base is not None:
        extra["WINGET_STANDIN_BASE"] = windows_path(base)
    done = wine.python_exe(str(HERE / "winget_driver.py"), windows_path(env_file), cwd=tmp_path, extra_env=extra,
                           timeout=240)
    out = cp949(done.stdout)
    assert done.returncode == 0 and "Traceback" not in out, out + done.stderr.decode("cp949", "replace")
    return done, out, record


def _recorded(record: Path) -> tuple[str, str, str]:
    return ((record / "commandline.txt").read_text(encoding="utf-8"),
            (record / "optionfile.txt").read_text(encoding="utf-8"),
            (record / "options.txt").read_text(encoding="utf-8"))


def _host_path(wine: Wine, windows: str) -> Path:
    """Where a path the stand-in saw under Wine lives on this machine: C:\\ is the prefix's drive_c, Z:\\ is /.
    Wine's own folders keep the case Windows shows (users\\root\\Temp)."""
    drive, rest = windows[:3].upper(), windows[3:].replace("\\", "/")
    assert drive in ("C:\\", "Z:\\"), windows
    return (wine.prefix / "drive_c" if drive == "C:\\" else Path("/")) / rest


@pytest.mark.timeout(400)
def test_winget_gets_an_option_file_then_the_registry_and_the_user_path(wine: Wine, winget_dir: Path,
                                                                         tmp_path: Path) -> None:
    base = tmp_path / "PostgreSQL" / "17"
    (base / "bin").mkdir(parents=True)
    for exe in ("psql.exe", "pg_ctl.exe", "initdb.exe"):
        (base / "bin" / exe).write_bytes(b"MZ")
    done, out, record = _install(wine, winget_dir, tmp_path, 0, base=base)
    command_line, option_path, options = _recorded(record)
    assert "install -e --id PostgreSQL.PostgreSQL.17" in command_line
    assert "--mode unattended --unattendedmodeui none --optionfile" in command_line
    assert_no_password(command_line)
    # The option file had the .env's superuser, password and port, and is gone with its folder.
    assert options == f"superaccount=postgres\nsuperpassword={PASSWORD}\nserverport={PORT}\n"
    option_file = _host_path(wine, option_path)
    assert option_file.name == "postgresql.options" and option_file.parent.parent.is_dir()  # Temp is there
    assert not option_file.exists()
    assert not option_file.parent.exists()
    assert PASSWORD not in out and PASSWORD not in done.stderr.decode("cp949", "replace")
    # The wizard found the new install in the registry (the port the option file asked for) ...
    report = json.loads(out.splitlines()[-1])
    assert report["chosen"]["version"] == "17" and report["chosen"]["port"] == PORT, report
    bindir = windows_path(base / "bin")
    assert report["chosen"]["bindir"].lower() == bindir.lower()
    assert report["offered"][0][0] == "install" and "install" not in report["offered"][1], report  # offered once
    assert [(s["id"], s["status"], s["code"]) for s in report["steps"]] == [
        ("install", "ok", None), ("psql", "ok", None), ("service", "warn", None),
        ("server", "fail", "server_not_running")], out
    assert msg.WINGET_INSTALLED in out and msg.WINGET_NOT_FOUND_AFTER not in out
    # Wine runs no Windows service: the wizard then says how to start the new one, by its registered name.
    assert "services.msc" in out and "postgresql-x64-17" in out
    # ... and put its bin on the user PATH, in the registry and for this process.
    assert report["process_path_starts"].lower() == bindir.lower()
    path = wine.tool("reg", "query", r"HKCU\Environment", "/v", "Path").stdout.decode("cp949", "replace")
    assert bindir.lower() in path.lower(), path


FAILURES = [
    (0x8A150008, b"", "network"),  # DOWNLOAD_FAILED
    (0x8A150107, b"", "network"),  # INSTALL_NO_NETWORK
    (0x8A15010C, b"", "cancelled"),  # INSTALL_CANCELLED_BY_USER: UAC declined
    (0x8A15010A, b"", "reboot_first"),  # INSTALL_REBOOT_REQUIRED_TO_INSTALL
    (0x8A15010F, b"", "policy"),  # INSTALL_BLOCKED_BY_POLICY
    # SHELLEXEC_INSTALL_FAILED, the installer's own exit code 1223 (UAC declined) in Korean winget's words
    (0x8A150006, "설치 관리자가 실패했습니다. 종료 코드: 1223\r\n".encode("cp949"), "cancelled"),
    (0x8A150006, "설치 관리자가 실패했습니다. 종료 코드: 1\r\n".encode("cp949"), "installer"),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("code", "output", "reason"), FAILURES)
def test_each_winget_failure_in_korean_with_its_next_step(wine: Wine, winget_dir: Path, tmp_path: Path,
                                                          code: int, output: bytes, reason: str) -> None:
    _done, out, record = _install(wine, winget_dir, tmp_path, code, output=output)
    report = json.loads(out.splitlines()[-1])
    first = report["steps"][0]
    assert (first["id"], first["status"], first["code"]) == ("install", "fail", "postgres_install_failed"), report
    assert report["offered"][0][0] == "install" and "install" not in report["offered"][1], report
    assert msg.WINGET_REASONS[reason] in out and msg.WINGET_NEXT_STEPS[reason] in out
    assert f"0x{code:08X}" in out
    if output:  # winget's own words (CP949 bytes) decoded, not mangled
        assert output.decode("cp949").strip() in out
    assert report["chosen"] is None
    command_line, option_path, options = _recorded(record)
    assert_no_password(command_line)
    assert f"superpassword={PASSWORD}" in options
    folder = _host_path(wine, option_path).parent
    assert folder.parent.is_dir() and not folder.exists()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("code", "extra"), [(0x8A150061, msg.WINGET_ALREADY), (0x8A150109,
                                                                                msg.WINGET_REBOOT_TO_FINISH)])
def test_already_installed_or_restart_to_finish_carry_on_to_the_registry(wine: Wine, winget_dir: Path,
                                                                         tmp_path: Path, code: int,
                                                                         extra: str) -> None:
    base = tmp_path / "PostgreSQL" / "17"
    (base / "bin").mkdir(parents=True)
    (base / "bin" / "psql.exe").write_bytes(b"MZ")
    _done, out, _record = _install(wine, winget_dir, tmp_path, code, base=base)
    report = json.loads(out.splitlines()[-1])
    assert report["steps"][0]["id"] == "install" and report["steps"][0]["status"] == "ok" and extra in out
    assert report["chosen"] is not None and report["chosen"]["version"] == "17"
