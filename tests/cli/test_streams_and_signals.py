"""The process contract, in every output mode: whatever happens around the process, it ends quietly
(no traceback, no "Exception ignored") with a documented exit code (README.ko.md, ## 종료 코드).

One matrix: every output mode (text `--yes`, `check`, `check -v`, `--yes --json`, `check --json`,
`check --report FILE`, the interactive wizard in a pseudo-terminal) × every surrounding (stdout closed,
its reader gone, stdin closed, SIGTERM mid-run, Ctrl+C mid-run), each the real `python -m setup_wizard`
against the test server. All runs share one database, prepared once by `--yes`: on it every mode's
result is "ready" (exit 0, no question asked), so a traceback's exit 1 stands out, and nothing a run
does (or leaves half done when stopped) changes it.

"Mid-run" is made certain with a Gate: a TCP relay in front of the server that keeps the server's
replies back. The signal is sent once the program has asked the server something and waits for the
answer (after its start-up, its settings and the machine's checks), never before its handlers exist
and never after it has finished.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import psycopg
import pytest
from support.databases import Database
from support.pgserver import TestServer
from support.program import backend_form, clean_environ, run_inprocess

from setup_wizard.errors import Terminated
from setup_wizard.messages import cli as msg

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="bash redirections, signals and a POSIX pty")

PROGRAM = [sys.executable, "-m", "setup_wizard"]
DOCUMENTED = {0, 1, 2, 130, 143}  # README.ko.md, ## 종료 코드
NOISE = ("Traceback", "Exception ignored", "BrokenPipeError")


# --- the modes and the surroundings ------------------------------------------------------------------------

@dataclass(frozen=True)
class Mode:
    args: tuple[str, ...]
    interactive: bool = False
    json: bool = False
    report: bool = False


MODES = {
    "text": Mode(("--yes",)),
    "check": Mode(("check",)),
    "check-v": Mode(("check", "-v")),
    "json": Mode(("--yes", "--json"), json=True),
    "check-json": Mode(("check", "--json"), json=True),
    "check-report": Mode(("check", "--report", "report.md"), report=True),
    "interactive": Mode((), interactive=True),
}
# How bash sets up the surrounding before the program starts (`exec` keeps the program's own pid).
REDIRECTS = {
    "stdout-closed": 'exec "$@" >&-',
    "reader-gone": '"$@" | true; exit "${PIPESTATUS[0]}"',  # only the pty runs use the shell for this one
    "stdin-closed": 'exec "$@" <&-',
}
SIGNALS = {"sigterm": (signal.SIGTERM, 143), "ctrl-c": (signal.SIGINT, 130)}
CONDITIONS = [*REDIRECTS, *SIGNALS]


def expected_code(mode: Mode, condition: str) -> int:
    if condition in SIGNALS:
        return SIGNALS[condition][1]
    if mode.interactive and condition == "stdin-closed":
        return 2  # not a terminal and no --yes: the documented usage error, nothing asked
    return 0  # the prepared database is ready in every mode


# --- a relay that keeps the server's replies back ----------------------------------------------------------

class Gate:
    """127.0.0.1:<port> relayed to the test server; while held, the server's replies wait in the relay.

    `waiting` is set once a reply is kept back: the program has sent a request and now waits for it.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open = threading.Event()
        self._open.set()
        self.waiting = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.release()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(("127.0.0.1", self._upstream))
            except OSError:
                return
            self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, True), daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(65536):
                if replies and not self._open.is_set():
                    self.waiting.set()
                    self._open.wait()
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            return


# --- fixtures ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prepared(server: TestServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database made ready by `--yes` once, shared by the whole matrix (no run changes it)."""
    name = "contract_" + uuid.uuid4().hex[:10]
    with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(server, name)
    folder = tmp_path_factory.mktemp("prepare")
    ready = run_inprocess("--yes", "--dsn", database.url, cwd=folder)
    assert ready.code == 0, ready.stdout + ready.stderr
    yield database
    with psycopg.connect(**server.conninfo("postgres"), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def gate(prepared: Database) -> Iterator[Gate]:
    relay = Gate(prepared.server.port)
    yield relay
    relay.close()


def project(folder: Path, url: str) -> Path:
    """A checkout whose backend/.env points at `url` (only I may read it: no warning to spoil "ready")."""
    (folder / "backend").mkdir()
    env = folder / "backend" / ".env"
    env.write_text(f"SECRET_KEY=not-for-the-wizard\nDATABASE_URL={backend_form(url)}\n", encoding="utf-8")
    env.chmod(0o600)
    return folder


# --- running the program -----------------------------------------------------------------------------------

def program_environ(unbuffered: bool = False, **extra: str) -> dict[str, str]:
    """clean_environ(), buffered as a person's Python is unless asked (not as the shell running pytest)."""
    env = clean_environ(**extra)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class Ending:
    code: int
    stdout: str
    output: str  # stderr, or everything the pseudo-terminal showed


def run_piped(mode: Mode, condition: str, folder: Path, gate: Gate) -> Ending:
    argv = [*PROGRAM, *mode.args]
    env = program_environ()
    if condition in ("stdout-closed", "stdin-closed"):
        argv = ["bash", "-c", REDIRECTS[condition], "bash", *argv]
    proc = subprocess.Popen(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = b""
    try:
        if condition == "reader-gone":
            proc.stdout.close()  # like `| true`: every write to stdout now fails with EPIPE
            err = proc.stderr.read()
        else:
            if condition in SIGNALS:
                assert gate.waiting.wait(30), "the program never asked the server anything"
                proc.send_signal(SIGNALS[condition][0])
            out, err = proc.communicate(timeout=40)
        proc.wait(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Ending(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def stop_and_read(child: pexpect.spawn, condition: str | None, ready: Callable[[], object]) -> str:
    """Once `ready()` returns, stop the program in the terminal (Ctrl+C or SIGTERM; None: let it run),
    read it to the end and close it; a program left running by a failure is killed."""
    try:
        ready()
        if condition == "ctrl-c":
            child.sendintr()  # the terminal's own Ctrl+C: the line discipline sends SIGINT
        elif condition == "sigterm":
            child.kill(signal.SIGTERM)
        output = str(child.read())
        child.close()
    finally:
        if child.isalive():
            child.terminate(force=True)
    return output


def run_in_terminal(mode: Mode, condition: str, folder: Path, gate: Gate) -> Ending:
    env = program_environ(TERM="xterm", COLUMNS="100", LINES="50", PROMPT_TOOLKIT_NO_CPR="1")
    argv = [*PROGRAM[1:], *mode.args]
    command = PROGRAM[0]
    if condition in REDIRECTS:
        command, argv = "bash", ["-c", REDIRECTS[condition], "bash", PROGRAM[0], *argv]
    child = pexpect.spawn(command, argv, cwd=str(folder), env=env, encoding="utf-8", codec_errors="replace",
                          timeout=40, dimensions=(50, 100))
    def ready() -> None:
        if condition in SIGNALS:
            assert gate.waiting.wait(30), "the program never asked the server anything"

    output = stop_and_read(child, condition if condition in SIGNALS else None, ready)
    if child.exitstatus is None:
        return Ending(-int(child.signalstatus or 0), "", output)
    return Ending(int(child.exitstatus), "", output)


# --- the matrix --------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("mode_name", list(MODES))
def test_every_mode_ends_quietly_with_a_documented_code(mode_name: str, condition: str, prepared: Database,
                                                        gate: Gate, tmp_path: Path) -> None:
    mode = MODES[mode_name]
    if condition in SIGNALS:
        gate.hold()  # the program's first request to the server waits: the signal lands mid-run
    folder = project(tmp_path, prepared.url.replace(f":{prepared.server.port}/", f":{gate.port}/"))
    run = run_in_terminal if mode.interactive else run_piped
    ending = run(mode, condition, folder, gate)

    for noise in NOISE:
        assert noise not in ending.output, ending.output
    assert ending.code in DOCUMENTED, f"exit {ending.code}\n{ending.output}"
    assert ending.code == expected_code(mode, condition), f"exit {ending.code}\n{ending.output}"
    if condition in SIGNALS:
        assert (msg.TERMINATED if condition == "sigterm" else msg.INTERRUPTED) in ending.output.replace("\r", "")
    elif mode.report:
        assert (folder / "report.md").is_file()  # the result is still made when its reader has gone
    if mode.json and condition in ("stdin-closed", *SIGNALS):  # stdout still has its reader: one document
        assert json.loads(ending.stdout)["ok"] is (ending.code == 0)


# A stop at a question: the prompt (questionary in xterm, plain prompts in TERM=dumb) sits between the
# signal and cli, and the stop must keep its kind (SIGTERM 143, Ctrl+C 130) and change nothing.
@pytest.mark.slow
@pytest.mark.parametrize("term", ["xterm", "dumb"])
@pytest.mark.parametrize("condition", list(SIGNALS))
def test_a_stop_at_a_question_keeps_its_exit_code(condition: str, term: str, database: Database,
                                                  tmp_path: Path) -> None:
    folder = project(tmp_path, database.url)  # an empty database: the wizard asks before migrating
    env = program_environ(TERM=term, COLUMNS="100", LINES="50", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(PROGRAM[0], PROGRAM[1:], cwd=str(folder), env=env, encoding="utf-8",
                          codec_errors="replace", timeout=40, dimensions=(50, 100))
    output = stop_and_read(child, condition, lambda: child.expect_exact("적용할까요?"))
    for noise in NOISE:
        assert noise not in output, output
    assert child.exitstatus == SIGNALS[condition][1], output
    assert (msg.TERMINATED if condition == "sigterm" else msg.INTERRUPTED) in output.replace("\r", "")
    assert database.scalar("SELECT to_regclass('public.users') IS NULL") is True


# The issue's own pipelines (and the before-stop hook's), through a real shell: `| head -c 10` lets the
# first bytes through, then the reader is gone while the program still writes. With `2>&1` both streams
# lose their reader; the exit code alone tells (a traceback there would have ended it with 1).
@pytest.mark.slow
@pytest.mark.parametrize("pipeline", [
    "check --json | true",
    "--yes --json | true",
    "check --json -v | head -c 10",
    "check -v | head -c 10",
    "--help | true",
    "--yes --json 2>&1 | true",
    "--yes --json 2>&- | true",
    "-u: check --json | true",  # python -u (PYTHONUNBUFFERED) builds its standard streams without a buffer
    "-u: check -v 2>&1 | head -c 10",
])
def test_shell_pipelines_from_the_issue(pipeline: str, prepared: Database, tmp_path: Path) -> None:
    unbuffered = pipeline.startswith("-u: ")
    args, reader = pipeline.removeprefix("-u: ").split(" | ")
    script = f'"$PYTHON" -m setup_wizard {args} --dsn "$DSN" | {reader}; echo "code=${{PIPESTATUS[0]}}" >&2'
    env = program_environ(unbuffered, PYTHON=sys.executable, DSN=prepared.url)
    proc = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    for noise in NOISE:
        assert noise not in proc.stderr, proc.stderr
    assert "code=0" in proc.stderr, proc.stderr


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), Terminated()])
def test_a_second_stop_while_the_first_is_reported_still_ends_quietly(stop: KeyboardInterrupt,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C pressed twice: the second one arrives while main() writes "중단했습니다" for the first."""
    from setup_wizard import cli, process

    def reporting(argv: object = None, env: object = None) -> int:
        raise stop

    monkeypatch.setattr(process, "guard_standard_streams", lambda: None)  # this process's own streams stay
    monkeypatch.setattr(process, "handle_sigterm", lambda: None)
    monkeypatch.setattr(cli, "main", reporting)
    try:
        cli.main_entry()
    except SystemExit as ended:
        assert ended.code == (143 if isinstance(stop, Terminated) else 130)
    except KeyboardInterrupt:
        pytest.fail("the second stop escaped main_entry: Python would print its traceback")
    else:
        pytest.fail("main_entry returned instead of exiting")
