"""A launched (or attached) server that the runner can ask to come back after it died.

It also owns the memory sampler of the server's process tree, because a restart means a new PID.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .config import ModelConfig


class ManagedServer:
    def __init__(self, config: ModelConfig, log_path: Path, max_restarts: int = 2, sample_memory: bool = True):
        self.config = config
        self.log_path = log_path
        self.max_restarts = max_restarts
        self.sample_memory = sample_memory
        self.restarts = 0
        self.server: Any = None
        self.sampler: Any = None
        self.base_url = ""
        self._cm: Any = None
        self._lock = threading.Lock()

    # ---- lifecycle ----
    def start(self) -> Any:
        from backends import launch  # lazy: the backends pull in their own dependencies

        cm = launch(self.config, log_path=self.log_path)
        self.server = cm.__enter__()
        self._cm = cm
        self.base_url = self.server.base_url
        if self.sample_memory and getattr(self.server, "pid", None):
            from .memory import MemorySampler

            self.sampler = MemorySampler(self.server.pid)
            self.sampler.start()
        return self.server

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        cm, self._cm = self._cm, None
        if cm is not None:
            cm.__exit__(None, None, None)

    def __enter__(self) -> "ManagedServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- what the runner asks ----
    def ensure_alive(self) -> bool:
        """True when the server answers (restarting it if it died and restarts are left)."""
        with self._lock:
            if self.server is not None and self.server.is_alive():
                return True
            if self._cm is None or self.server.pid is None or self.restarts >= self.max_restarts:
                return False  # attached servers are not ours to restart
            self.restarts += 1
            self.stop()
            self.start()
            return True

    def mark(self) -> dict[str, Any]:
        if self.sampler is None:
            return {}
        snap = self.sampler.mark()
        return snap if isinstance(snap, dict) else vars(snap)

    @property
    def peak_rss_bytes(self) -> int | None:
        return getattr(self.sampler, "overall_peak_bytes", None) if self.sampler else None
