"""`siliconbench doctor`: which isolation model commands get on this machine, and what limits hold."""

from __future__ import annotations

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor() -> None:
        """Say which sandbox this machine gives model commands (bwrap, Seatbelt or none) and its limits."""
        from orchestrator.workspace.isolation import describe
        from orchestrator.workspace.sandbox import Limits

        console = Console(highlight=False)
        info, limits = describe(), Limits()
        console.print(f"isolation: {info['isolation']} ({info['detail']})", markup=False)  # wraps at the width
        console.print(f"cgroup cap: {info['cgroup']} (else rlimits and the watchdog hold)", markup=False)
        console.print(f"limits per command: {limits.timeout_s:g} s wall, {limits.cpu_s} s CPU, "
                      f"{limits.total_memory_bytes // 2**20} MiB memory, {limits.max_procs} processes, "
                      f"{limits.file_bytes // 2**20} MiB a file, {limits.disk_bytes // 2**20} MiB workspace growth, "
                      f"{limits.tmp_bytes // 2**20} MiB /tmp", markup=False)  # wrapped to the terminal
        if info["isolation"] == "none":
            console.print("model commands will be refused; install bubblewrap (apt-get install bubblewrap) "
                          "or pass --unsafe-no-sandbox to `siliconbench run`", markup=False, soft_wrap=True)
            raise typer.Exit(1)
