"""One run asks the service manager once: a `System` that remembers the read-only answers.

A failed connection needs the service's state in several places (the fix's label, the fix, the
start advice, the login advice, the report); each would otherwise start `pg_lsclusters` (Perl),
`systemctl show`, `brew services list` or `sc query` again. Only those listings are remembered, and
only until the run starts or changes something (any other command, an elevated one, PATH): then the
machine is asked afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from setup_wizard.machine.system import CommandResult, Elevation, RegistryValue, ServiceState, System

# The listings that only read the service manager's state (argv[0] as called, then the arguments).
_LISTINGS = ("pg_lsclusters", "systemctl show", "brew services list")


def _is_listing(argv: Sequence[str]) -> bool:
    line = " ".join(argv)
    return any(line == name or line.startswith(name + " ") for name in _LISTINGS)


class AskedOnce:
    """Wraps a `System`; every call goes through, the service manager's listings are asked once."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.platform = system.platform
        self.environ: MutableMapping[str, str] = system.environ  # the same mapping: PATH changes reach both
        self._answers: dict[tuple[str, ...], CommandResult] = {}
        self._states: dict[str, ServiceState] = {}

    def forget(self) -> None:
        self._answers.clear()
        self._states.clear()

    def path(self, *parts: str | Path) -> Path:
        return self.system.path(*parts)

    def which(self, name: str) -> Path | None:
        return self.system.which(name)

    def exists(self, path: Path) -> bool:
        return self.system.exists(path)

    def glob(self, pattern: str) -> list[Path]:
        return self.system.glob(pattern)

    def is_root(self) -> bool:
        return self.system.is_root()

    def registry_subkeys(self, key: str) -> list[str]:
        return self.system.registry_subkeys(key)

    def registry_values(self, key: str) -> dict[str, RegistryValue]:
        return self.system.registry_values(key)

    def service_state(self, name: str) -> ServiceState:
        if name not in self._states:
            self._states[name] = self.system.service_state(name)
        return self._states[name]

    def run(self, argv: Sequence[str], timeout: float = 60.0, user: str | None = None,
            env: Mapping[str, str] | None = None, output: Path | None = None) -> CommandResult:
        if user is None and env is None and output is None and _is_listing(argv):
            key = tuple(argv)
            if key not in self._answers:
                self._answers[key] = self.system.run(argv, timeout=timeout)
            return self._answers[key]
        if "--version" not in argv:
            self.forget()  # it may start or change something: later listings are asked again
        if output is None:  # as called: a System that predates `output` keeps working
            return self.system.run(argv, timeout=timeout, user=user, env=env)
        return self.system.run(argv, timeout=timeout, user=user, env=env, output=output)

    def run_elevated(self, program: str, args: Sequence[str], timeout: float = 60.0) -> Elevation:
        self.forget()
        return self.system.run_elevated(program, args, timeout=timeout)

    def user_path(self) -> str:
        return self.system.user_path()

    def set_user_path(self, value: str) -> None:
        self.system.set_user_path(value)
