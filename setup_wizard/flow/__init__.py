"""The one sequence every door runs: settings, connect, plan, apply, verify, result."""
