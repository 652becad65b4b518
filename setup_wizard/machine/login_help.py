"""Help for a failed login, for the machine in front of the person: data first, Korean from messages.

A failed login is rarely a typo. The password was set somewhere: the EDB installer asked for it,
winget's unattended install used `postgres`, Chocolatey printed a generated one, a teammate's .env
carried theirs, Debian's `postgres` role has none at all (peer authentication), Homebrew's superuser
is the macOS user with no password. And two installations listen on 5432 and 5433, so the right
password often goes to the wrong server. `login_advice` says only what applies to this machine;
`login_fix` numbers it for a Step's fix.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath

from setup_wizard.config.settings import Settings, SourceKind
from setup_wizard.machine.discovery import Discovery, Installation, Origin, psql_path
from setup_wizard.machine.system import PG_INSTALLATIONS_KEY, Platform, System
from setup_wizard.messages import login as msg
from setup_wizard.record import record

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CHOCOLATEY_DEFAULT = r"C:\ProgramData\chocolatey"


class Kind(str, Enum):
    """How an installation came onto this machine: it decides where its password was set."""

    EDB = "edb"  # the EDB installer, run by hand or by winget (the two cannot be told apart)
    CHOCOLATEY = "chocolatey"
    SCOOP = "scoop"
    DEBIAN = "debian"  # Debian/Ubuntu and PGDG apt packages: peer authentication for postgres
    PGDG_RPM = "pgdg"
    HOMEBREW = "homebrew"
    POSTGRES_APP = "postgres.app"
    UNKNOWN = "unknown"


@record
class Cluster:
    """A server of this machine as Debian's pg_lsclusters lists it (the data folder and the port)."""

    version: str
    name: str
    port: int
    datadir: Path
    owner: str
    running: bool = False  # pg_lsclusters' status column: online, down


def is_local(host: str) -> bool:
    return host in LOCAL_HOSTS or host.startswith("/")


def env_get(environ: Mapping[str, str], name: str) -> str | None:
    """A variable ignoring case: Windows keeps os.environ keys upper-case (CHOCOLATEYINSTALL)."""
    if name in environ:
        return environ[name]
    for key, value in environ.items():
        if key.upper() == name.upper():
            return value
    return None


def _chocolatey_root(system: System) -> str:
    return env_get(system.environ, "ChocolateyInstall") or CHOCOLATEY_DEFAULT


def chocolatey_installed(system: System, version: str) -> bool:
    """Chocolatey keeps each package under lib\\<id>: postgresql17, or the postgresql meta-package."""
    lib = system.path(_chocolatey_root(system), "lib")
    return any(system.exists(system.path(lib, name)) for name in (f"postgresql{version}", "postgresql"))


def kind_of(system: System, installation: Installation) -> Kind:
    folder = str(installation.bindir).replace("\\", "/").lower()
    if system.platform is Platform.WINDOWS:
        if "/scoop/" in folder:
            return Kind.SCOOP
        if installation.origin in (Origin.REGISTRY, Origin.PROGRAM_FILES) or "/program files/postgresql/" in folder:
            return Kind.CHOCOLATEY if chocolatey_installed(system, installation.version) else Kind.EDB
        return Kind.UNKNOWN
    known = {Origin.DEBIAN: Kind.DEBIAN, Origin.PGDG: Kind.PGDG_RPM, Origin.HOMEBREW: Kind.HOMEBREW,
             Origin.POSTGRES_APP: Kind.POSTGRES_APP}
    if installation.origin in known:
        return known[installation.origin]
    if folder.startswith("/usr/lib/postgresql/"):
        return Kind.DEBIAN
    if "/homebrew/" in folder or "/cellar/" in folder or folder.startswith("/usr/local/opt/"):
        return Kind.HOMEBREW
    if "postgres.app" in folder:
        return Kind.POSTGRES_APP
    return Kind.UNKNOWN


def registry_superuser(system: System, installation: Installation) -> str | None:
    """The EDB installer's `Super User` for this installation (matched by its base folder)."""
    for name in system.registry_subkeys(PG_INSTALLATIONS_KEY):
        values = system.registry_values(PG_INSTALLATIONS_KEY + "\\" + name)
        base = values.get("Base Directory")
        if isinstance(base, str) and str(PureWindowsPath(base, "bin")).lower() == str(installation.bindir).lower():
            user = values.get("Super User")
            return user if isinstance(user, str) and user else None
    return None


def debian_clusters(system: System) -> list[Cluster]:
    """pg_lsclusters: `Ver Cluster Port Status Owner Datadir Logfile` (the columns are not translated)."""
    if system.platform is not Platform.LINUX or system.which("pg_lsclusters") is None:
        return []
    if system.environ.get("SETUP_WIZARD_IGNORE_SYSTEM_POSTGRES"):  # tests: a machine with no system PostgreSQL
        return []
    listing = system.run(["pg_lsclusters", "--no-header"], timeout=15)
    clusters: list[Cluster] = []
    for line in listing.text.splitlines() if listing.ok else []:
        parts = line.split()
        if len(parts) >= 6 and parts[2].isdigit():
            clusters.append(Cluster(parts[0], parts[1], int(parts[2]), Path(parts[5]), parts[4],
                                    parts[3].startswith("online")))
    return clusters


def serving(system: System, discovery: Discovery | None, settings: Settings) -> list[Installation]:
    """The installations that may be the server on this port (all of them when nothing says which)."""
    if discovery is None or not is_local(settings.host) or not discovery.installations:
        return []
    installations = list(discovery.installations)
    on_port = [i for i in installations if i.port == settings.port]
    if on_port:
        return on_port
    clusters = debian_clusters(system)
    if clusters:  # Debian lists every server with its port: none on this port, no advice about them
        versions = {c.version for c in clusters if c.port == settings.port}
        return [i for i in installations if i.version in versions]
    if any(i.port is not None for i in installations):  # the registry knows the ports, and not this one
        return [i for i in installations if i.port is None]
    return installations


def os_user(system: System) -> str:
    return env_get(system.environ, "USER") or env_get(system.environ, "LOGNAME") or env_get(
        system.environ, "USERNAME") or "나의-사용자-이름"


# --- commands, written for the shell of this platform ------------------------------------------------
def _powershell_arg(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_./:=\\-]+", text) else "'" + text.replace("'", "''") + "'"


def command(system: System, program: str, args: list[str]) -> str:
    """`program args` to paste into this platform's usual shell: PowerShell on Windows, else sh."""
    if system.platform is Platform.WINDOWS:
        return " ".join([f'& "{program}"', *(_powershell_arg(a) for a in args)])
    return " ".join(shlex.quote(part) for part in [program, *args])


def _psql(system: System, installation: Installation | None, discovery: Discovery | None) -> str:
    """`psql` when the one on PATH belongs to this installation (or is Debian's wrapper), else its full path."""
    on_path = discovery.psql_on_path if discovery is not None else None
    if on_path is not None:
        if installation is None or kind_of(system, installation) in (Kind.DEBIAN, Kind.PGDG_RPM):
            return "psql"
        if str(_parent(system, on_path)).lower() == str(installation.bindir).lower():
            return "psql"
    return str(psql_path(system, installation)) if installation is not None else "psql"


def _parent(system: System, path: Path) -> Path:
    flavour = PureWindowsPath if system.platform is Platform.WINDOWS else PurePosixPath
    return Path(str(flavour(str(path)).parent))


def try_command(system: System, discovery: Discovery | None, installation: Installation | None,
                settings: Settings) -> str:
    """A psql line that asks for the password the wizard uses, the way the wizard connects (over TCP,
    so peer or trust rules for the local socket do not hide a wrong password), to the maintenance
    database only."""
    psql = _psql(system, installation, discovery)
    return command(system, psql, ["-U", settings.user, "-h", settings.host, "-p", str(settings.port),
                                  "-d", "postgres"])


# --- the advice ----------------------------------------------------------------------------------------
def _password_source(settings: Settings) -> list[str]:
    source = settings.source("password")
    if source is None or settings.password is None:
        return []
    if source.kind is SourceKind.ENV_FILE:
        path = settings.env_file if settings.env_file is not None else Path("backend/.env")
        return [msg.LOGIN_HELP_FROM_ENV_FILE.format(path=path, key=source.key or "POSTGRES_PASSWORD")]
    if source.kind is SourceKind.DEFAULT:
        return [msg.LOGIN_HELP_FROM_DEFAULT]
    if source.kind is SourceKind.ENVIRON:
        return [msg.LOGIN_HELP_FROM_ENVIRON.format(key=source.key or "PGPASSWORD")]
    if source.kind is SourceKind.DSN:
        return [msg.LOGIN_HELP_FROM_DSN]
    return []


def _windows_lines(system: System, installation: Installation, kind: Kind, settings: Settings) -> list[str]:
    superuser = registry_superuser(system, installation) or "postgres"
    lines: list[str] = []
    if kind is Kind.CHOCOLATEY:
        log = str(system.path(_chocolatey_root(system), "logs", "chocolatey.log"))
        search = f'Select-String -Path "{log}" -Pattern "Generated password"'
        lines.append(msg.LOGIN_HELP_CHOCOLATEY.format(version=installation.version, command=search))
    elif kind is Kind.EDB:
        lines.append(msg.LOGIN_HELP_EDB.format(version=installation.version, bindir=installation.bindir,
                                               superuser=superuser))
        lines.append(msg.LOGIN_HELP_WINGET.format(version=installation.version))
    elif kind is Kind.SCOOP:
        lines.append(msg.LOGIN_HELP_SCOOP)
    if superuser != settings.user and kind is not Kind.SCOOP:
        lines.append(msg.LOGIN_HELP_SUPERUSER.format(superuser=superuser, user=settings.user))
    return lines


def _unix_lines(system: System, installation: Installation, kind: Kind, settings: Settings) -> list[str]:
    if kind in (Kind.DEBIAN, Kind.PGDG_RPM):
        port = str(settings.port)
        enter = command(system, "sudo", ["-u", "postgres", "psql", "-p", port])
        return [msg.LOGIN_HELP_DEBIAN.format(command=enter),
                msg.LOGIN_HELP_SET_PASSWORD.format(user=settings.user)]
    if kind in (Kind.HOMEBREW, Kind.POSTGRES_APP):
        name = os_user(system)
        first = msg.LOGIN_HELP_HOMEBREW if kind is Kind.HOMEBREW else msg.LOGIN_HELP_POSTGRES_APP
        enter = command(system, str(psql_path(system, installation)), ["-p", str(settings.port), "-d", "postgres"])
        lines = [first.format(os_user=name, command=enter)]
        if settings.user != name:
            lines.append(msg.LOGIN_HELP_MAC_USER.format(os_user=name, user=settings.user))
        lines.append(msg.LOGIN_HELP_SET_PASSWORD.format(user=settings.user))
        return lines
    return []


def _installation_lines(system: System, installations: list[Installation], settings: Settings) -> list[str]:
    lines: list[str] = []
    seen: set[Kind] = set()
    for installation in installations:
        kind = kind_of(system, installation)
        if kind in seen and kind is not Kind.EDB:
            continue
        seen.add(kind)
        if system.platform is Platform.WINDOWS:
            more = _windows_lines(system, installation, kind, settings)
        else:
            more = _unix_lines(system, installation, kind, settings)
        lines += [line for line in more if line not in lines]
    return lines


def _state(running: bool | None) -> str:
    if running is None:
        return ""
    return " " + (msg.LOGIN_HELP_STATE_RUNNING if running else msg.LOGIN_HELP_STATE_STOPPED)


def _port_lines(system: System, discovery: Discovery | None, settings: Settings) -> list[str]:
    """Two servers on one machine: 5432 and 5433. The right password often goes to the wrong one.

    Only what was observed: the port each server is set to and, where Debian says it, whether it runs.
    A server that is not running did not refuse this login: something else answers on this port."""
    if discovery is None or not is_local(settings.host):
        return []
    found: dict[tuple[int, str], bool | None] = {
        (i.port, i.version): None for i in discovery.installations if i.port is not None}
    if not found:
        found = {(c.port, c.version): c.running for c in debian_clusters(system)}
    ports = sorted(found)
    if len(ports) >= 2:
        servers = ", ".join(msg.LOGIN_HELP_SERVER_ON_PORT.format(version=v, port=p) + _state(found[(p, v)])
                            for p, v in ports)
        return [msg.LOGIN_HELP_PORTS.format(servers=servers, port=settings.port)]
    versions = sorted({i.version for i in discovery.installations})
    if len(versions) >= 2 and not ports:
        return [msg.LOGIN_HELP_PORTS_UNKNOWN.format(versions=", ".join(versions), port=settings.port)]
    if len(ports) == 1 and ports[0][0] != settings.port:
        (other, version), running = ports[0], found[ports[0]]
        text = msg.LOGIN_HELP_OTHER_PORT_STOPPED if running is False else msg.LOGIN_HELP_OTHER_PORT
        return [text.format(version=version, other=other, port=settings.port, state=_state(running).strip())]
    return []


def login_advice(system: System, discovery: Discovery | None, settings: Settings, code: str = "auth_failed",
                 reset_available: bool = False, in_wizard: bool = False) -> list[str]:
    """Ordered Korean advice lines for a failed login, only what applies to this machine.

    `in_wizard`: shown with the wizard's question, so the last line points at its choices, not a rerun."""
    installations = serving(system, discovery, settings)
    lines: list[str] = []
    lines += _port_lines(system, discovery, settings)
    if code == "auth_failed":
        lines += _password_source(settings)
    if not is_local(settings.host):
        lines.append(msg.LOGIN_HELP_REMOTE.format(host=settings.host))
    lines += _installation_lines(system, installations, settings)
    first = installations[0] if installations else (discovery.chosen if discovery is not None else None)
    lines.append(msg.LOGIN_HELP_TRY.format(command=try_command(system, discovery, first, settings)))
    if reset_available:
        lines.append(msg.LOGIN_HELP_RESET)
    if code == "password_missing":
        lines.append(msg.LOGIN_HELP_PUT_IN_ENV.format(user=settings.user, host=settings.host, port=settings.port,
                                                      dbname=settings.dbname))
    else:
        lines.append(msg.LOGIN_HELP_RETYPE if in_wizard else msg.LOGIN_HELP_SAVE)
    return lines


def login_fix(system: System, discovery: Discovery | None, settings: Settings, code: str,
              reset_available: bool = False, in_wizard: bool = False) -> str | None:
    """The numbered fix for a failed login (auth_failed, password_missing); None for other codes."""
    if code not in ("auth_failed", "password_missing"):
        return None
    lines = login_advice(system, discovery, settings, code, reset_available, in_wizard)
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))
