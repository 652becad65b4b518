"""On-demand benchmark: what `check` and an up-to-date `--yes` cost beside a bare psycopg process.

Not part of the test suite; it prints figures and never asserts timings. Run it as

    python benchmarks/bench_startup.py [--repeat 15] [--dsn URL] [--tree PATH ...]

Each repetition starts, as subprocesses and in turn (so a busy machine slows them alike):

- the baseline: a bare Python process that imports psycopg, connects and counts one table;
- the floor: the same process that also imports what any tool of this kind must (argparse, rich's console
  and table), sends as many statements as `check` does (--floor-statements) and draws one table: what
  is left of the target for the wizard's own code is the target minus this figure;
- the baseline that leaves as the wizard does: the same bare process ending with os._exit after flushing,
  without the interpreter's teardown (setup_wizard/process.py, QuickExit). The wizard's ratio to it says
  how much of the gain is that teardown, which a bare process pays too;
- `python -m setup_wizard check --dsn URL` (text output, stdout to a pipe);
- `python -m setup_wizard --yes --dsn URL` on a database that is already up to date.

It prints the median and spread of each, and their ratios to the baseline (the target is 1.4x) and to
the baseline that leaves without the teardown.
Without --dsn it starts a throwaway server (tests/support/pgserver.py) with one migrated database; with
--dsn the database must already be migrated. Several --tree paths (copies of the package, e.g.
`git worktree add /tmp/before main`) are timed side by side in the same alternation: before/after
figures from one machine state. Bytecode is written as a user's installation has it (a warm-up run
first); `python -X importtime -m setup_wizard check ...` shows where the import time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

TARGET_RATIO = 1.4
PASSWORD = "bench-password"

BASELINE = """
import sys
import psycopg
with psycopg.connect(sys.argv[1]) as conn:
    conn.execute("SELECT count(*) FROM users").fetchone()
"""

# The baseline again, leaving as the wizard does (QuickExit): flushed, then os._exit, no teardown.
BASELINE_QUICK = BASELINE + """
import os
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
"""

# The floor: the libraries every run needs (the rules: rich for tables, argparse for the command line), the
# statement count of `check` (CHECK_STATEMENTS in tests/cli/test_run_checks_first.py, from the server's log) and one
# table of 20 rows, without any of the wizard's own modules.
FLOOR = """
import argparse
import psycopg
from rich.console import Console
from rich.table import Table
parser = argparse.ArgumentParser()
parser.add_argument("dsn")
parser.add_argument("statements", type=int)
args = parser.parse_args()
with psycopg.connect(args.dsn) as conn:
    for _ in range(args.statements):
        conn.execute("SELECT count(*) FROM users").fetchone()
table = Table("항목", "결과")
for number in range(20):
    table.add_row(f"항목 {number}", "좋습니다")
Console(width=100).print(table)
"""


@contextmanager
def migrated_database(dsn: str | None) -> Iterator[str]:
    if dsn is not None:
        yield dsn
        return
    import psycopg
    from support.pgserver import running_server

    from setup_wizard.database.migrate import Runner
    from setup_wizard.database.migration_files import load_migrations

    with running_server(PASSWORD) as server:
        with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench_startup")
        with psycopg.connect(server.url("bench_startup"), autocommit=True) as conn:
            conn.execute((REPO / "sql" / "0001_prerequisites.sql").read_text(encoding="utf-8").encode())
            conn.execute("""INSERT INTO users (email, type)
                            SELECT 'u' || g || '@example.com', 'USER' FROM generate_series(1, 100) AS g""")
            Runner(conn, load_migrations(), lock_timeout=10.0).apply()
        yield server.url("bench_startup")


def commands(dsn: str, floor_statements: int = 33) -> dict[str, list[str]]:
    wizard = [sys.executable, "-m", "setup_wizard"]
    return {
        "baseline": [sys.executable, "-c", BASELINE, dsn],
        "no-teardown": [sys.executable, "-c", BASELINE_QUICK, dsn],
        "floor": [sys.executable, "-c", FLOOR, dsn, str(floor_statements)],
        "check": [*wizard, "check", "--dsn", dsn],
        "--yes": [*wizard, "--yes", "--dsn", dsn],
    }


def timed_run(argv: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(f"exit {done.returncode}: {' '.join(argv[:4])}\n{done.stderr.decode()[-800:]}\n")
    return seconds


def environment(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    return env


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15, help="repetitions of each command (default 15)")
    parser.add_argument("--dsn", help="an already migrated database (default: a throwaway server)")
    parser.add_argument("--tree", type=Path, action="append",
                        help="a folder holding setup_wizard/ to time (repeatable; default: this repository)")
    parser.add_argument("--floor-statements", type=int, default=33,
                        help="statements the floor process sends (default 33: what check sends when up to date)")
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in (args.tree or [REPO])]
    times: dict[tuple[str, str], list[float]] = {}
    with migrated_database(args.dsn) as dsn, tempfile.TemporaryDirectory(prefix="bench_startup_") as cwd:
        runs = [(str(tree), name, argv, environment(tree))
                for tree in trees for name, argv in commands(dsn, args.floor_statements).items()]
        for _tree, _name, argv, env in runs:  # warm-up: bytecode written, files in the page cache
            timed_run(argv, env, cwd)
        print(f"load average before: {load_average()}")
        for _ in range(args.repeat):
            for tree, name, argv, env in runs:
                times.setdefault((tree, name), []).append(timed_run(argv, env, cwd))
        print(f"load average after:  {load_average()}")
    print(f"{args.repeat} runs each, alternated; median (min-max) in seconds; ratio = median / baseline median")
    for tree in map(str, trees):
        base = statistics.median(times[(tree, "baseline")])
        quick = statistics.median(times[(tree, "no-teardown")])
        print(f"\n{tree}")
        for name in commands(""):
            values = times[(tree, name)]
            median = statistics.median(values)
            ratio = "" if name == "baseline" else f"  {median / base:.2f}x"
            if name not in ("baseline", "floor", "no-teardown"):
                ratio += f"  (target <= {TARGET_RATIO:g}x; {median / quick:.2f}x the no-teardown baseline)"
            print(f"  {name:<11} {median:.3f} s ({min(values):.3f}-{max(values):.3f}){ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
