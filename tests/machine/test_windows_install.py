"""Route 1 on a recorded Windows machine: winget + the EDB installer with an option file. The stand-in winget
records its arguments and the option file it was handed; the registry then shows the new install."""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PureWindowsPath

import pytest
from support.pgserver import free_port
from support.program import PASSWORD, assert_no_secret
from support.recorded import registry
from support.recorded_system import RecordedSystem
from support.scripted import ScriptedPrompter

from setup_wizard.config.load import load_settings
from setup_wizard.environment import Environment
from setup_wizard.flow.options import Options
from setup_wizard.flow.run import run
from setup_wizard.flow.view import ProgressView
from setup_wizard.machine import windows_install
from setup_wizard.machine.system import CommandResult, Platform
from setup_wizard.ui.wizard import AskPerson

WINGET = r"C:\Users\minsu\AppData\Local\Microsoft\WindowsApps\winget.exe"


class Shown:
    """The View's progress as the install sees it: what it showed, and whether it is on screen now."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.active = False

    @contextmanager
    def __call__(self, first: str) -> Iterator[windows_install.Say]:
        self.lines.append(first)
        self.active = True
        try:
            yield self.lines.append
        finally:
            self.active = False


class WingetMachine(RecordedSystem):
    """Windows with winget and no PostgreSQL. Its winget records what it was given and, when it exits 0
    (or a code meaning "installed"), leaves PostgreSQL 17 in the registry as the EDB installer does."""

    exit_code: int = 0
    output: bytes = b""
    argv: list[str]
    option_text: str | None = None
    option_mode: int | None = None
    option_file: Path | None = None
    shown: Shown | None = None
    progress_while_running: bool | None = None

    def run(self, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None, output: Path | None = None) -> CommandResult:
        if not argv[0].lower().endswith("winget.exe"):
            return super().run(argv, timeout, user, env)
        self.argv = list(argv)
        self.progress_while_running = self.shown is not None and self.shown.active
        match = re.search(r'--optionfile "([^"]+)"', argv[-1])
        assert match is not None
        self.option_file = Path(match.group(1))
        self.option_text = self.option_file.read_text(encoding="utf-8")
        self.option_mode = stat.S_IMODE(self.option_file.parent.stat().st_mode)
        if self.exit_code in (0, 0x8A150109, 0x8A150061):
            for key, values in registry("registry_two_versions.json").items():
                if key.endswith("17"):
                    self.registry[key] = dict(values)
            self.files |= {rf"C:\Program Files\PostgreSQL\17\bin\{exe}" for exe in ("psql.exe", "pg_ctl.exe")}
        return CommandResult(self.exit_code, self.output)


def _machine(exit_code: int = 0, output: bytes = b"") -> WingetMachine:
    path = r"C:\Windows\system32;" + str(PureWindowsPath(WINGET).parent)
    machine = WingetMachine(platform=Platform.WINDOWS, environ={"PATH": path}, files={WINGET})
    machine.exit_code = exit_code
    machine.output = output
    return machine


def _settings(port: int = 5433):  # type: ignore[no-untyped-def]
    from urllib.parse import quote

    return load_settings(f"postgresql://postgres:{quote(PASSWORD, safe='')}@localhost:{port}/real_estate", {}, None,
                         None)


def test_the_password_goes_only_in_a_private_option_file_deleted_afterwards() -> None:
    machine = _machine()
    shown = Shown()
    machine.shown = shown
    outcome = windows_install.install(machine, _settings(), lambda _q: True, shown)
    said = shown.lines
    assert outcome.done and outcome.step is not None and outcome.step.status.value == "ok"
    assert machine.argv[1:6] == ["install", "-e", "--id", "PostgreSQL.PostgreSQL.17", "--accept-package-agreements"]
    assert "--override" in machine.argv and "--mode unattended --unattendedmodeui none --optionfile" in machine.argv[-1]
    assert_no_secret(" ".join(machine.argv), *said)  # never on a command line, never said
    assert machine.progress_while_running is True and said[0].startswith("PostgreSQL 17 을 내려받아 설치하는 중")
    assert machine.option_text == f"superaccount=postgres\nsuperpassword={PASSWORD}\nserverport=5433\n"
    if os.name == "posix":
        assert machine.option_mode == 0o700  # a folder only this user can open
    assert machine.option_file is not None and not machine.option_file.exists()
    assert not machine.option_file.parent.exists()


def test_declining_asks_nothing_of_winget() -> None:
    machine = _machine()
    shown = Shown()
    machine.shown = shown
    outcome = windows_install.install(machine, _settings(), lambda _q: False, shown)
    assert not outcome.done and outcome.step is None and not hasattr(machine, "argv") and shown.lines == []


@pytest.mark.parametrize(("code", "output", "reason"), [
    (0x8A150008, b"", "network"),
    (0x8A150107, b"", "network"),
    (0x8A15010C, b"", "cancelled"),
    (0x8A150006, b"Installer failed with exit code: 1223", "cancelled"),
    (0x8A15010A, b"", "reboot_first"),
    (0x8A15010F, b"", "policy"),
    (0x8A150006, b"Installer failed with exit code: 1", "installer"),
    (0x12345678, b"something else", "other"),
])
def test_each_winget_failure_is_korean_with_its_next_step(code: int, output: bytes, reason: str) -> None:
    from setup_wizard.messages import server as msg

    machine = _machine(code, output)
    outcome = windows_install.install(machine, _settings(), lambda _q: True, Shown())
    assert not outcome.done and outcome.step is not None and outcome.step.code == "postgres_install_failed"
    assert msg.WINGET_REASONS[reason] in outcome.step.detail and f"0x{code:08X}" in outcome.step.detail
    assert outcome.step.fix is not None and msg.WINGET_NEXT_STEPS[reason] in outcome.step.fix
    assert machine.option_file is not None and not machine.option_file.parent.exists()


@pytest.mark.parametrize(("code", "extra"), [(0x8A150061, "이미"), (0x8A150109, "다시 시작")])
def test_already_installed_and_restart_to_finish_carry_on(code: int, extra: str) -> None:
    outcome = windows_install.install(_machine(code), _settings(), lambda _q: True, Shown())
    assert outcome.done and outcome.step is not None and extra in outcome.step.detail


def test_the_wizard_offers_the_install_first_and_then_finds_it_in_the_registry(tmp_path: Path) -> None:
    """Interactive: nothing answers, no server anywhere: the install is offered first (recommended); after
    it the registry shows PostgreSQL 17 and its bin folder goes on the user's PATH with consent."""
    machine = _machine()
    choices: list[list[str]] = []

    class Recording(ScriptedPrompter):
        def select(self, message: str, options: Sequence[tuple[str, str]], default: str | None = None) -> str:
            choices.append([label for _key, label in options])
            return super().select(message, options, default)

    shown = Shown()
    machine.shown = shown

    class Watched(ProgressView):
        def progress(self, first: str) -> AbstractContextManager[windows_install.Say]:
            return shown(first)

    port = free_port()
    # Answers: next? install; install it (UAC explained)? yes; bin on PATH? yes; next? quit.
    prompter = Recording(["install", True, True, "quit"])
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ={}, cwd=tmp_path)
    from setup_wizard.machine import services

    original = services.wait_until_accepting
    services.wait_until_accepting = lambda _settings, timeout=0.0: False  # type: ignore[assignment]
    try:
        report = run(Options(dsn=f"postgresql://postgres:pw@localhost:{port}/real_estate"), env,
                     AskPerson(prompter), Watched(lambda _t: None), machine)
    finally:
        services.wait_until_accepting = original  # type: ignore[assignment]
    assert choices[0][0].startswith("PostgreSQL 17 설치하기") and "추천" in choices[0][0]
    assert "UAC" in prompter.questions[1]
    # The person sees the progress (the wizard's spinner with the elapsed time) for as long as winget runs.
    assert machine.progress_while_running is True and any("설치하는 중" in line for line in shown.lines)
    steps = {s.id: s for s in report.steps}
    assert steps["install"].status.value == "ok"
    assert any(a == r"set user PATH C:\Program Files\PostgreSQL\17\bin" for a in machine.actions)
    assert all(label != choices[0][0] for label in choices[1])  # not offered twice
