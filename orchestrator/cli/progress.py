"""A progress bar over task runs, with one line per finished run printed above it."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.text import Text
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
            self.console.print(run_line(record, self.console.width), soft_wrap=True)
            self._progress.advance(self._task)
            self.status(f"{self.passed}/{self.finished} passed")


def run_line(record: RunRecord, width: int) -> Text:
    """One finished run on one line of `width` columns: the verdict and figures always whole; a long
    model label is shortened first, then the task name, each with an ellipsis."""
    mode = "" if record.mode == "raw" else f" ({record.mode})"
    verdict = Text("pass", style="green") if record.passed else Text("fail", style="red") + f" {record.reason}"
    figures = f"  {record.turns} turns, {record.tool_calls} calls, {record.wall_s:.1f} s"
    fixed = len(verdict) + len(f"   r{record.run}{mode}: ") + 1  # the line less both names and figures
    if width - fixed - len(figures) < 24:  # names would be unreadable: the figures go compact
        figures = f"  {record.turns}t {record.tool_calls}c {record.wall_s:.0f}s"
    model, task = record.model, record.task
    room = width - fixed - len(figures)
    if len(model) + len(task) > room:
        model = _shorten(model, max(room - len(task), 8))
    if len(model) + len(task) > room:
        task = _shorten(task, max(room - len(model), 8))
    line = Text(f"  {model} {task} r{record.run}{mode}: ") + verdict + figures
    line.truncate(width, overflow="ellipsis")
    return line


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
