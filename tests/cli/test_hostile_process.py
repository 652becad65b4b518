"""Never a traceback (issue 12): the reader gone, `| head -1`, stdout closed, SIGTERM in the middle of a
migration. The real program in a process; the whole matrix of modes is cli/test_streams_and_signals.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.databases import Database
from support.hostile import LAST, forget_last, holding, migrate, posix_only
from support.program import clean_environ

from setup_wizard.database.migration_history import HISTORY_TABLE


def _wizard(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "setup_wizard", *args], env=clean_environ(),
                            stdin=subprocess.DEVNULL, **kwargs)



def test_reader_gone_ends_quietly_with_the_results_code(database: Database, tmp_path: Path) -> None:
    proc = _wizard("check", "--dsn", database.url, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: every write to stdout now fails with EPIPE
    err = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert code == 1  # pending migrations: check fails, as it would with a reader



@posix_only
def test_head_one_in_a_shell_pipeline(database: Database, tmp_path: Path) -> None:
    script = f'"{sys.executable}" -m setup_wizard check --dsn "$DSN" | head -1; echo "code=${{PIPESTATUS[0]}}" >&2'
    proc = subprocess.run(["bash", "-c", script], env=clean_environ(DSN=database.url), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert "code=1" in proc.stderr
    assert len(proc.stdout.splitlines()) <= 1



@posix_only
def test_closed_stdout_ends_quietly(database: Database, tmp_path: Path) -> None:
    script = f'"{sys.executable}" -m setup_wizard check --dsn "$DSN" >&-; echo "code=$?" >&2'
    proc = subprocess.run(["bash", "-c", script], env=clean_environ(DSN=database.url), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr
    assert "code=1" in proc.stderr



@posix_only
def test_sigterm_mid_migration_rolls_back_and_exits_143(database: Database, tmp_path: Path) -> None:
    migrate(database)
    forget_last(database)
    with holding(database, "LOCK TABLE conversation_memories IN ACCESS EXCLUSIVE MODE"):
        proc = _wizard("--yes", "--lock-timeout", "30", "--dsn", database.url, cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # until it waits for the lock inside its transaction
                waiting = database.scalar(
                    """SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = 'setup_wizard' AND wait_event_type = 'Lock'""")
                if waiting:
                    break
                time.sleep(0.1)
            assert waiting, "the wizard never reached the lock wait"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 143
    assert "SIGTERM" in text and "Traceback" not in text
    assert database.scalar(f"SELECT count(*) FROM {HISTORY_TABLE} WHERE name = %s", [LAST]) == 0
    deadline = time.monotonic() + 5
    while database.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'setup_wizard'") \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert database.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'setup_wizard'") == 0
    assert out is not None
