"""On-demand benchmark: reading a large backend/.env, the wizard against python-dotenv's own dotenv_values.

Not part of the test suite; it prints figures and never asserts timings. Run it as

    PYTHONPATH=. python benchmarks/bench_envfile.py [--lines 10000 100000] [--repeat 3] [--quadratic]

For each size it writes a .env of short lines (`K123=v3`, a few `${K1}` references, DATABASE_URL last)
and times, best of --repeat:

- wizard: everything a run does with the file: read_env_file (the settings) and the backend's view
  (config/backend.backend_view: its verdict), with the parse cache emptied first, so the one parse the
  run makes is counted;
- dotenv_values(path, interpolate=False): python-dotenv's parse alone, the floor;
- dotenv_values(path): python-dotenv's default, with interpolation, which copies the environment and
  every earlier value for each line; its cost grows with the square of the file, so at 100,000 lines it
  is only measured with --quadratic (minutes).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def write_env(path: Path, lines: int) -> None:
    body = [f"K{i}=v{i % 10}" if i % 1000 else f"K{i}=${{K1}}x" for i in range(1, lines)]
    body.append("DATABASE_URL=postgresql+psycopg://app:pw@localhost:5433/real_estate")
    path.write_text("\n".join(body) + "\n", encoding="utf-8")


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def wizard_read(project: Path) -> None:
    from setup_wizard.config.backend import inspect_backend
    from setup_wizard.config.dotenv_backend import parse_env_text
    from setup_wizard.config.envfile import read_env_file

    parse_env_text.cache_clear()
    environ = dict(os.environ)
    read_env_file(project / "backend" / ".env", environ)
    view = inspect_backend(project, environ)
    assert view.url and view.url.startswith("postgresql+psycopg://"), view.problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quadratic", action="store_true", help="also time dotenv_values' interpolation at 100k")
    args = parser.parse_args()

    from importlib.metadata import version

    from dotenv import dotenv_values

    print(f"python {platform.python_version()}, python-dotenv {version('python-dotenv')}, "
          f"{os.cpu_count()} cores")
    print(f"{'lines':>8} {'bytes':>9} {'wizard':>9} {'dotenv_values(interpolate=False)':>33} "
          f"{'dotenv_values()':>16}")
    for lines in args.lines:
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder)
            (project / "backend" / "app").mkdir(parents=True)
            env = project / "backend" / ".env"
            write_env(env, lines)
            ours = best(lambda project=project: wizard_read(project), args.repeat)
            floor = best(lambda env=env: dotenv_values(env, interpolate=False), args.repeat)
            if lines <= 20_000 or args.quadratic:
                full = f"{best(lambda env=env: dotenv_values(env), 1):15.3f}s"
            else:
                full = f"{'(--quadratic)':>16}"
            print(f"{lines:>8} {env.stat().st_size:>9} {ours:8.3f}s {floor:32.3f}s {full}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
