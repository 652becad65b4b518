"""Helpers the tests import explicitly (`from support.program import run_cli`); tests/ is on sys.path
through pyproject.toml's `pythonpath = ["tests"]`. Fixtures stay in tests/conftest.py.

- program.py: the doors into the program (run_inprocess, run_cli, Result), clean_environ, PASSWORD,
  assert_no_secret, backend_form
- pgserver.py: the throwaway PostgreSQL server of the suite and of the benchmarks (runs as `postgres`
  under root)
- databases.py: Database, one database on that server (the `database` fixture's value)
- dbstate.py: sample data, a database migrated by the runner (migrate), a hand-migrated database, the tables
  the backend's models create (MODELS_DDL), SQL run on a test database (run_sql), snapshots of the data,
  plan/notice sentences
- checklist.py: `check`'s checklist computed in-process (items), the needs_langgraph mark
- wizard_walk.py: the in-process wizard walk (walk) and the answers the checkpoint question adds (CP)
- probe_migration.py: a migration no code knows about (PROBE) in a copy of the migrations folder (probe_dir)
- codepage.py: cp949, the strict reading of a Windows program's CP949 output (the Windows tier)
- ptyrun.py: the real program in a pseudo-terminal (pexpect)
- scripted.py: a prompter answering from a list, for the in-process wizard
- recorded_system.py, recorded.py: machines rebuilt from recorded outputs (tests/recordings/)
- fakepg.py: a wire-protocol look-alike that answers with a recorded error
- hostile.py: a second session holding locks, throwaway roles, the cheap in-process run
- backend_loader.py, backend_orm.py: scripts run under the backend's pinned libraries
  (tests/backend-requirements.txt), never imported by the tests
"""

from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
"""This folder, where the backend-side scripts are."""
