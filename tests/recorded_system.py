"""A machine described by recorded outputs, for tests: the Windows logic runs on any OS.

Calls that change something are logged in `actions`. Each recording in tests/recordings/ says whether
it was captured on a real machine or written from documentation.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from setup_wizard.machine.system import (
    ERROR_CANCELLED,
    ERROR_SERVICE_DOES_NOT_EXIST,
    CommandResult,
    Elevation,
    Platform,
    RegistryValue,
    ServiceState,
    join_path,
    parse_sc_query,
)


@dataclass
class RecordedSystem:
    """A machine described by recorded outputs. Calls that change something are logged in `actions`.

    registry: HKLM key path -> {value name: value}; subkeys are derived from the key paths.
    services: name -> (sc query return code, its bytes as recorded).
    commands: " ".join(argv) -> CommandResult, matched exactly, else by the program's base name.
    """

    platform: Platform = Platform.WINDOWS
    environ: MutableMapping[str, str] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    registry: dict[str, dict[str, RegistryValue]] = field(default_factory=dict)
    services: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    commands: dict[str, CommandResult] = field(default_factory=dict)
    elevation: Elevation = field(default_factory=lambda: Elevation(error=ERROR_CANCELLED))
    root: bool = False
    user_path_value: str = ""
    actions: list[str] = field(default_factory=list)

    def path(self, *parts: str | Path) -> Path:
        return join_path(self.platform, *parts)

    def _norm(self, path: str | Path) -> str:
        text = str(path)
        return text.lower().replace("/", "\\") if self.platform.is_windows else text

    def which(self, name: str) -> Path | None:
        separator = ";" if self.platform.is_windows else ":"
        names = [name + ".exe", name] if self.platform.is_windows else [name]
        for folder in self.environ.get("PATH", "").split(separator):
            if not folder:
                continue
            for candidate in names:
                path = self.path(folder, candidate)
                if self.exists(path):
                    return path
        return None

    def exists(self, path: Path) -> bool:
        wanted = self._norm(path)
        return any(self._norm(f) == wanted or self._norm(f).startswith(wanted + self._sep) for f in self.files)

    @property
    def _sep(self) -> str:
        return "\\" if self.platform.is_windows else "/"

    def glob(self, pattern: str) -> list[Path]:
        wanted = self._norm(pattern)
        depth = wanted.count(self._sep)
        hits: set[str] = set()
        for f in self.files:
            original = str(f).replace("/", self._sep) if self.platform.is_windows else str(f)
            candidate = self._sep.join(original.split(self._sep)[: depth + 1])
            if fnmatch.fnmatchcase(self._norm(candidate), wanted):
                hits.add(candidate)
        return sorted(self.path(h) for h in hits)

    def is_root(self) -> bool:
        return self.root

    def registry_subkeys(self, key: str) -> list[str]:
        prefix = key.lower().rstrip("\\") + "\\"
        names = {k[len(prefix):].split("\\")[0] for k in self.registry if k.lower().startswith(prefix)}
        return sorted(names)

    def registry_values(self, key: str) -> dict[str, RegistryValue]:
        for k, values in self.registry.items():
            if k.lower() == key.lower():
                return dict(values)
        return {}

    def service_state(self, name: str) -> ServiceState:
        returncode, output = self.services.get(name, (ERROR_SERVICE_DOES_NOT_EXIST, b""))
        return parse_sc_query(returncode, output)

    def run(self, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None) -> CommandResult:
        line = " ".join(argv)
        self.actions.append("run " + line)
        if line in self.commands:
            return self.commands[line]
        base = PureWindowsPath(argv[0]).name if self.platform.is_windows else PurePosixPath(argv[0]).name
        for key, result in self.commands.items():
            if key.split(" ")[0] == base and key.split(" ")[1:] == list(argv[1:]):
                return result
        return CommandResult(-1, error="FileNotFoundError: not recorded")

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation:
        self.actions.append("elevated " + " ".join([program, *args]))
        return self.elevation

    def user_path(self) -> str:
        return self.user_path_value

    def set_user_path(self, value: str) -> None:
        self.actions.append("set user PATH " + value)
        self.user_path_value = value
