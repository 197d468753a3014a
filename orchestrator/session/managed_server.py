"""A model server as a session uses it: the one lifecycle type (backends.ModelServer) plus the memory
sampler of its process tree and the restart policy of a benchmark run.

The sampler lives here, not in the backend, because a restart means a new PID to follow.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from backends import ModelServer
from orchestrator.config import ModelConfig


class ManagedServer:
    def __init__(self, config: ModelConfig, log_path: Path, max_restarts: int = 2, sample_memory: bool = True):
        self.config = config
        self.max_restarts = max_restarts
        self.sample_memory = sample_memory
        self.server = ModelServer(config, log_path)
        self.sampler: Any = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def restarts(self) -> list[dict[str, str]]:
        return [asdict(r) for r in self.server.restarts]

    # ---- lifecycle ----
    def start(self) -> ModelServer:
        self.server.start()
        self._follow_memory()
        return self.server

    def stop(self) -> None:
        self._stop_sampler()
        self.server.stop()

    def __enter__(self) -> "ManagedServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _follow_memory(self) -> None:
        if self.sample_memory and self.server.pid:
            from orchestrator.metrics.memory import MemorySampler

            self.sampler = MemorySampler(self.server.pid)
            self.sampler.start()

    def _stop_sampler(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()

    # ---- what the runner asks ----
    def ensure_alive(self) -> bool:
        """True when the server answers (restarting it if it died and restarts are left)."""
        with self._lock:
            if self._answers():
                return True
            if not self.server.launched or len(self.server.restarts) >= self.max_restarts:
                return False  # attached servers are not ours to restart
            self._stop_sampler()
            self.server.restart("stopped answering during a task run")
            self._follow_memory()
            return True

    def _answers(self) -> bool:
        """Alive and answering. A server that just crashed can look alive for a moment: give a silent
        one a few seconds to finish dying, so the retry meets a fresh server rather than the corpse."""
        if not self.server.is_alive():
            return False
        try:
            if httpx.get(f"{self.base_url}/models", timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if self.server.process is not None:
            try:
                self.server.process.wait(timeout=3)
            except Exception:  # still running but silent: treated as dead, the restart kills it
                pass
        return False

    def mark(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.sampler is not None:
            snap = self.sampler.mark()
            data = dict(snap if isinstance(snap, dict) else vars(snap))
        data.update(self.server.server_metrics())
        return data

    @property
    def peak_rss_bytes(self) -> int | None:
        return getattr(self.sampler, "overall_peak_bytes", None) if self.sampler else None
