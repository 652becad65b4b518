"""The program's doors: exit codes and output modes (cli.main, a real process), the process contract
(streams, signals), `check` and its items, the same verdict through the wizard, --yes and check."""
