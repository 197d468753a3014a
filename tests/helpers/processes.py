"""Process checks scoped to what a test started, for a machine shared with other sessions.

Machine-wide scans ("no llama-server is running") fail when another session runs its own server and
pass when ours was never started; these follow the process tree of the process the test started, and
wait on conditions under a deadline instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import psutil


def wait_for(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def alive(pids) -> list[int]:
    """The pids that still run (zombies, already dead and only waiting to be reaped, do not)."""
    found = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_gone(pids, timeout_s: float = 15.0) -> list[int]:
    """Wait until none of `pids` runs; those still running at the deadline."""
    pids = list(pids)
    wait_for(lambda: not alive(pids), timeout_s)
    return alive(pids)


def descendants(pid: int) -> dict[int, str]:
    try:
        return {c.pid: c.name() for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return {}


class TreeWatcher:
    """Records every process that appears under `pid` (children, grandchildren...) while it runs.

    A server launched in a session of its own is still its launcher's child, so it is seen here even
    though a process-group scan would miss it.
    """

    def __init__(self, pid: int, interval_s: float = 0.05):
        self.pid, self.interval_s = pid, interval_s
        self.seen: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "TreeWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.seen.update(descendants(self.pid))
            self._stop.wait(self.interval_s)

    def named(self, name: str) -> list[int]:
        return [pid for pid, n in self.seen.items() if n == name]
