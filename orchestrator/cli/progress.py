"""A progress bar over task runs, with one line per finished run printed above it."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from orchestrator.results.records import RunRecord


class RunProgress:
    def __init__(self, console: Console, total: int, label: str = ""):
        self.console = console
        self.label = label
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self._task = self._progress.add_task(label or "runs", total=total)
        self._lock = threading.Lock()
        self.passed = 0
        self.finished = 0

    def __enter__(self) -> "RunProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def status(self, text: str) -> None:
        self._progress.update(self._task, description=f"{self.label} {text}".strip())

    def ready(self, managed) -> None:
        server = managed.server
        load = getattr(server, "load_s", None)
        took = f" in {load:.1f} s" if load is not None else ""
        self.console.print(f"server ready{took}: {server.base_url}")
        self.status("running")

    def done(self, record: RunRecord) -> None:
        with self._lock:
            self.finished += 1
            self.passed += record.passed
            mark = "[green]pass[/]" if record.passed else f"[red]fail[/] {record.reason}"
            self.console.print(f"  {record.model} {record.task} r{record.run} ({record.mode}): {mark}  "
                               f"{record.turns} turns, {record.tool_calls} calls, {record.wall_s:.1f} s")
            self._progress.advance(self._task)
            self.status(f"{self.passed}/{self.finished} passed")
