"""Runs INSIDE the Windows Python under Wine: exercises RealSystem for real and prints one JSON line.

`python.exe probe.py ACTION [ARG...]`; the tier (test_realsystem.py) writes registry fixtures with
`wine reg add` first and reads the registry back with `wine reg query` afterwards.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _installations(extra_env: dict[str, str]) -> object:
    from setup_wizard.machine.discovery import discover
    from setup_wizard.machine.real_system import RealSystem
    from setup_wizard.record import values

    environ = dict(os.environ)  # upper-case keys, as Windows gives them
    environ.update(extra_env)
    found = discover(RealSystem(environ))
    return [{**values(i), "bindir": str(i.bindir), "datadir": str(i.datadir) if i.datadir else None,
             "origin": i.origin.value}
            for i in found.installations]


def main(action: str, args: list[str]) -> object:
    from setup_wizard.machine import install_checks
    from setup_wizard.machine.real_system import RealSystem, console_encoding
    from setup_wizard.machine.win32 import windows_api

    system = RealSystem()
    if action == "discover":
        return _installations(dict(arg.split("=", 1) for arg in args))
    if action == "add-to-path":
        said: list[str] = []
        done = install_checks.add_bin_to_path(system, Path(args[0]), lambda _q: True, said.append)
        return {"done": done, "said": said, "process_path_starts": system.environ["PATH"].split(";")[0]}
    if action == "user-path":
        return {"value": system.user_path()}
    if action == "broadcast":
        import ctypes

        api = windows_api()
        result = ctypes.c_size_t()
        returned = api.user32.SendMessageTimeoutW(0xFFFF, 0x001A, 0, "Environment", 0x0002, 5000,
                                                  ctypes.byref(result))
        return {"returned": int(returned), "restype": api.user32.SendMessageTimeoutW.restype.__name__,
                "pointer_size": ctypes.sizeof(ctypes.c_void_p)}
    if action == "elevate":
        elevation = system.run_elevated(args[0], args[1:], timeout=30)
        return {"error": elevation.error, "exit_code": elevation.exit_code,
                "prompt_seconds": elevation.prompt_seconds}
    if action == "console":
        result = system.run(["cmd.exe", "/c", "echo " + args[0]], timeout=30)
        return {"encoding": console_encoding(), "text": result.text, "raw": result.stdout.hex()}
    if action == "service":
        return {"state": system.service_state(args[0]).value}
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    # The answer goes out as ASCII JSON: it must survive any code page.
    print(json.dumps(main(sys.argv[1], sys.argv[2:]), ensure_ascii=True))
