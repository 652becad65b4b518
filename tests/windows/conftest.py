"""The Windows tier: a real Windows CPython (winpython.py) runs the program under Wine.

Collected only when SETUP_WIZARD_WINE=1: the default `python -m pytest -q` stays fast and needs no Wine.
`.ci/run` prepares the interpreter and runs this tier after the main suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import winpython
from harness import Wine

ENABLED = os.environ.get("SETUP_WIZARD_WINE") == "1"
if not ENABLED:
    collect_ignore_glob = ["test_*.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.wine)


@pytest.fixture(scope="session")
def wine() -> Iterator[Wine]:
    try:
        prepared = winpython.prepare()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        pytest.fail(f"the Windows tier was asked for (SETUP_WIZARD_WINE=1) but cannot run: {error}")
    root = Path(tempfile.mkdtemp(prefix="setup_wizard_wine_"))
    prefix = winpython.copy_prefix(prepared.prefix_template, root / "prefix")
    session = Wine(prepared, prefix)
    server = shutil.which("wineserver")
    if server:  # one wineserver for the whole session: each python.exe then starts in ~2 s, not ~8
        subprocess.run([server, "-p"], env=session.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, timeout=60)
    # Wine's own background processes (services.exe, winedevice.exe, explorer...) start with the
    # first program and outlive it: started here, they hold /dev/null, not a test's pipes (which
    # would keep subprocess.run waiting for ever).
    subprocess.run([prepared.wine, "wineboot"], env=session.env(), stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=300)
    try:
        yield session
    finally:
        if server:
            subprocess.run([server, "-k"], env=session.env(), check=False, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
