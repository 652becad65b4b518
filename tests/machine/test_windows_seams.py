"""Issue 10's Windows defects, shown fixed on any OS through the recorded machine.

The same code also runs for real under Wine in tests/windows/ (SETUP_WIZARD_WINE=1).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from support.recorded import windows_two_versions
from support.recorded_system import RecordedSystem

from setup_wizard.config.load import load_settings
from setup_wizard.environment import Environment
from setup_wizard.errors import WizardError
from setup_wizard.machine import install_checks, local_cluster, services
from setup_wizard.machine.discovery import Origin, discover
from setup_wizard.machine.real_system import RealSystem, console_encoding
from setup_wizard.machine.shell import Shell, command_line, detect_shell, git_bash_path
from setup_wizard.machine.system import CommandResult, Elevation, Platform
from setup_wizard.messages import cli as cli_msg
from setup_wizard.messages import terminals as terminals_msg
from setup_wizard.results import Status
from setup_wizard.ui.prompts import GitBashPrompter, QuestionaryPrompter, make_prompter

MACHINE_PSMODULEPATH = r"C:\Program Files\WindowsPowerShell\Modules;C:\WINDOWS\system32\WindowsPowerShell\v1.0\Modules"
POWERSHELL_PSMODULEPATH = r"C:\Users\minsu\Documents\WindowsPowerShell\Modules;" + MACHINE_PSMODULEPATH


def settings_for(url: str):  # type: ignore[no-untyped-def]
    return load_settings(url, {}, None, None)


def quiet(_text: str) -> None:
    pass


# --- which shell, and commands written for it -----------------------------------------------------
@pytest.mark.parametrize(("environ", "expected"), [
    ({"MSYSTEM": "MINGW64", "PSModulePath": MACHINE_PSMODULEPATH}, Shell.GIT_BASH),
    ({"TERM_PROGRAM": "mintty"}, Shell.GIT_BASH),
    ({"PSMODULEPATH": POWERSHELL_PSMODULEPATH, "USERPROFILE": r"C:\Users\minsu"}, Shell.POWERSHELL),
    ({"PSModulePath": r"C:\Users\민수\Documents\PowerShell\Modules;" + MACHINE_PSMODULEPATH}, Shell.POWERSHELL),
    ({"PSModulePath": MACHINE_PSMODULEPATH, "COMSPEC": r"C:\WINDOWS\system32\cmd.exe"}, Shell.CMD),
    ({}, Shell.POWERSHELL),  # nothing to go by: Windows Terminal's default profile
])
def test_shell_detected_from_the_environment(environ: dict[str, str], expected: Shell) -> None:
    assert detect_shell(Platform.WINDOWS, environ) is expected
    assert detect_shell(Platform.LINUX, environ) is Shell.POSIX


def test_psql_command_in_the_syntax_of_each_shell() -> None:
    settings = settings_for("postgresql://postgres:pw@localhost:5433/real_estate")
    args = " -U postgres -h localhost -p 5433 -d real_estate"
    expected = {
        "cmd": r'"C:\Program Files\PostgreSQL\17\bin\psql.exe"' + args,
        "powershell": r'& "C:\Program Files\PostgreSQL\17\bin\psql.exe"' + args,
        "git-bash": "winpty '/c/Program Files/PostgreSQL/17/bin/psql.exe'" + args,
    }
    environs = {
        "cmd": {"PSModulePath": MACHINE_PSMODULEPATH},
        "powershell": {"PSModulePath": POWERSHELL_PSMODULEPATH},
        "git-bash": {"MSYSTEM": "MINGW64"},
    }
    for shell, extra in environs.items():
        system = windows_two_versions()
        system.environ.update(extra)
        found = discover(system)
        step = install_checks.psql_step(system, found, settings)
        assert expected[shell] in (step.fix or ""), shell
    linux = RecordedSystem(platform=Platform.LINUX, files={"/usr/lib/postgresql/17/bin/psql"})
    line = install_checks.psql_command(linux, discover(linux).chosen, settings)  # type: ignore[arg-type]
    assert line == "/usr/lib/postgresql/17/bin/psql -U postgres -h localhost -p 5433 -d real_estate"


def test_command_line_quotes_for_each_shell() -> None:
    assert git_bash_path(r"D:\PG 17\bin\psql.exe") == "/d/PG 17/bin/psql.exe"
    assert command_line(Shell.POWERSHELL, r"C:\a b\x.exe", ["-D", r"C:\데이터 폴더"]) == \
        "& \"C:\\a b\\x.exe\" -D 'C:\\데이터 폴더'"
    assert command_line(Shell.CMD, r"C:\a b\x.exe", ["-D", r"C:\데이터 폴더"]) == \
        '"C:\\a b\\x.exe" -D "C:\\데이터 폴더"'
    assert command_line(Shell.POSIX, "/usr/bin/pg_ctl", ["-D", "/tmp/a b"]) == "/usr/bin/pg_ctl -D '/tmp/a b'"


# --- registry discovery -----------------------------------------------------------------------------
def _one_install(name: str, values: dict[str, str | int], services: dict[str, dict[str, str | int]],
                 **environ: str) -> RecordedSystem:
    registry: dict[str, dict[str, str | int]] = {rf"SOFTWARE\PostgreSQL\Installations\{name}": values}
    for key, service_values in services.items():
        registry[rf"SOFTWARE\PostgreSQL\Services\{key}"] = service_values
    return RecordedSystem(platform=Platform.WINDOWS, environ=dict(environ), registry=registry)


def test_customised_service_id_keeps_the_port_from_the_installation_named_services_key() -> None:
    system = _one_install(
        "postgresql-x64-17",
        {"Base Directory": r"C:\Program Files\PostgreSQL\17", "Service ID": "pg17-dev", "Version": "17.2-1"},
        {"postgresql-x64-17": {"Port": 5434}},
    )
    (found,) = discover(system).installations
    assert (found.version, found.service, found.port) == ("17", "pg17-dev", 5434)


def test_missing_version_is_read_from_the_key_tail_never_from_x64() -> None:
    system = _one_install("postgresql-x64-16", {"Base Directory": r"D:\DB\PostgreSQL\16"}, {})
    assert discover(system).installations[0].version == "16"
    odd = _one_install("postgresql-x64", {"Base Directory": r"D:\PostgreSQL\15"}, {})
    assert discover(odd).installations[0].version == "15"


def test_program_files_found_under_the_upper_case_key_windows_gives() -> None:
    system = RecordedSystem(platform=Platform.WINDOWS, environ={"PROGRAMFILES": r"D:\Programs"},
                            files={r"D:\Programs\PostgreSQL\17\bin\psql.exe"})
    (found,) = discover(system).installations
    assert (found.version, str(found.bindir), found.origin) == ("17", r"D:\Programs\PostgreSQL\17\bin",
                                                               Origin.PROGRAM_FILES)


# --- the user PATH ------------------------------------------------------------------------------------
class UnreadablePath(RecordedSystem):
    def user_path(self) -> str:
        raise PermissionError(5, "Access is denied")


def test_a_failed_read_of_the_user_path_is_never_written_back() -> None:
    system = windows_two_versions()
    said: list[str] = []
    broken = UnreadablePath(**{k: getattr(system, k) for k in ("platform", "environ", "files", "registry")})
    bindir = discover(broken).chosen.bindir  # type: ignore[union-attr]
    assert install_checks.add_bin_to_path(broken, bindir, lambda _q: True, said.append) is False
    assert not any(a.startswith("set user PATH") for a in broken.actions)
    assert said and str(bindir) in said[0]


def test_user_path_entries_with_variables_stay_unexpanded() -> None:
    system = windows_two_versions(user_path_value=r"%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\tools")
    bindir = discover(system).chosen.bindir  # type: ignore[union-attr]
    assert install_checks.add_bin_to_path(system, bindir, lambda _q: True)
    assert system.user_path_value == r"%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\tools;" + str(bindir)


# --- UAC: the prompt's wait is the person's time ------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_uac_prompt_time_does_not_eat_the_server_start_up_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(services.time, "monotonic", clock.monotonic)
    waited: list[float] = []

    def accepting(_settings: object, timeout: float = 0) -> bool:
        waited.append(timeout)
        return True

    monkeypatch.setattr(services, "wait_until_accepting", accepting)

    class SlowPerson(RecordedSystem):
        def run_elevated(self, program: str, args: object, timeout: float = 60.0) -> Elevation:
            clock.now += 120  # two minutes before the person clicked "yes"
            return Elevation(error=0, exit_code=0, prompt_seconds=120)

    base = windows_two_versions()
    system = SlowPerson(**{k: getattr(base, k) for k in ("platform", "environ", "files", "registry", "services")})
    settings = settings_for("postgresql://p:x@localhost:5433/db")
    service = services.find_service(system, discover(system), settings)
    assert service is not None
    outcome = services.start_service(system, service, settings, lambda _q: True, quiet, wait=30)
    assert outcome.done and waited == [30]


# --- console output -----------------------------------------------------------------------------------
def test_tool_output_is_decoded_in_the_console_code_page_not_guessed() -> None:
    korean = "[SC] StartService 실패 5:\r\n\r\n액세스가 거부되었습니다.\r\n".encode("cp949")
    assert CommandResult(5, korean, encoding="cp949").text.startswith("[SC] StartService 실패 5:")
    # Latin-1 console bytes are not taken for CP949 because they happen to decode as it.
    assert CommandResult(1, "Zugriff verweigert: Ä".encode("cp1252"), encoding="cp1252").text.endswith("Ä")
    result = RealSystem().run([sys.executable, "-c", "print('ok')"])
    assert result.ok and result.encoding == console_encoding()


# --- pg_ctl start never through pipes -------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="uses sh to leave a child holding the output")
def test_a_program_leaving_a_child_on_its_output_does_not_hang_when_output_goes_to_a_file(tmp_path: Path) -> None:
    # What pg_ctl start does on Windows: it exits, the server it started keeps its handles.
    argv = ["sh", "-c", "echo started; sleep 30 &"]
    begun = time.monotonic()
    result = RealSystem().run(argv, timeout=10, output=tmp_path / "pg_ctl.log")
    assert result.ok and result.text == "started" and time.monotonic() - begun < 5
    piped = RealSystem().run(argv, timeout=0.5)  # through pipes: waits for the child
    assert piped.error == "timeout"


def test_create_local_cluster_runs_pg_ctl_start_with_output_in_a_file() -> None:
    source = Path(local_cluster.__file__).read_text(encoding="utf-8")
    start = source[source.index('"-w", "-t", str(wait), "start"'):][:200]
    assert "output=" in start


def test_test_server_helper_starts_pg_ctl_without_pipes() -> None:
    from support import pgserver

    source = Path(pgserver.__file__).read_text(encoding="utf-8")
    assert "_start_without_pipes" in source and "stdout=sink" in source


# --- the local cluster's folder ---------------------------------------------------------------------------
def test_default_cluster_folder_is_ascii_under_a_korean_profile() -> None:
    korean = RecordedSystem(platform=Platform.WINDOWS, environ={"LOCALAPPDATA": r"C:\Users\민수\AppData\Local",
                                                         "SYSTEMDRIVE": "C:"})
    assert str(local_cluster.default_cluster_folder(korean)) == r"C:\setup_wizard-pgdata"
    plain = RecordedSystem(platform=Platform.WINDOWS, environ={"LOCALAPPDATA": r"C:\Users\minsu\AppData\Local"})
    assert str(local_cluster.default_cluster_folder(plain)) == r"C:\Users\minsu\AppData\Local\setup_wizard\server"


def test_a_non_ascii_cluster_folder_is_refused_before_initdb() -> None:
    system = windows_two_versions()
    installation = discover(system).chosen
    assert installation is not None
    system.environ[local_cluster.SERVER_DIR_ENV] = r"C:\Users\민수\pgdata"
    outcome = local_cluster.create_local_cluster(system, installation,
                                                 settings_for("postgresql://postgres:pw@localhost:5432/db"), quiet)
    assert not outcome.done and outcome.step is not None and outcome.step.status is Status.FAIL
    assert r"C:\setup_wizard-pgdata" in (outcome.step.fix or "")
    assert not any(a.startswith("run ") for a in system.actions)


# --- Git Bash (mintty): pipes, yet a person types --------------------------------------------------------
def _git_bash_env(stdin: str) -> Environment:
    return Environment(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(),
                       environ={"MSYSTEM": "MINGW64", "TERM": "xterm"}, platform=Platform.WINDOWS)


def test_git_bash_is_interactive_with_plain_prompts_and_never_asks_a_password() -> None:
    env = _git_bash_env("예\n")
    assert env.git_bash and env.interactive
    notices: list[str] = []
    prompter = make_prompter(env.stdin, env.stderr, env.environ, notices.append)
    assert isinstance(prompter, GitBashPrompter) and notices == [terminals_msg.GIT_BASH_PLAIN_PROMPTS]
    assert prompter.confirm("계속할까요?") is True
    with pytest.raises(WizardError) as raised:
        prompter.password("비밀번호")
    assert raised.value.code == "password_needs_console" and "winpty python -m setup_wizard" in (raised.value.fix or "")
    # Not Git Bash, no TTY: still not interactive; on Linux an MSYSTEM means nothing.
    assert not Environment(stdin=io.StringIO(), environ={}, platform=Platform.WINDOWS).interactive
    assert not Environment(stdin=io.StringIO(), environ={"MSYSTEM": "MINGW64"}, platform=Platform.LINUX).interactive
    assert isinstance(make_prompter(io.StringIO(), io.StringIO(), {}, notices.append), QuestionaryPrompter)


def test_git_bash_runs_the_wizard_instead_of_refusing_without_a_tty(tmp_path: Path) -> None:
    from setup_wizard import cli

    env = _git_bash_env("")
    env.cwd = tmp_path
    code = cli.main(["--dsn", "postgresql://postgres@127.0.0.1:1/real_estate"], env)
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "no_tty" not in err and cli_msg.NO_TTY not in err
    # The walk started (screens, the settings table), and stopped at the password it must not read.
    assert "password_needs_console" in err and "winpty python -m setup_wizard" in err
    assert code == 1


# --- tzdata ------------------------------------------------------------------------------------------------
def test_tzdata_is_a_windows_dependency() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert "\"tzdata; sys_platform == 'win32'\"" in text
