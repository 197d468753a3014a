"""A launched (or attached) server that the runner can ask to come back after it died.

It also owns the memory sampler of the server's process tree, because a restart means a new PID.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from orchestrator.config import ModelConfig


KV_USAGE_METRICS = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")  # new name, then the old one


def vllm_kv_cache_usage(base_url: str) -> float | None:
    """vLLM's KV-cache use (0-1) from its Prometheus /metrics, or None where it cannot be read."""
    try:
        text = httpx.get(base_url.removesuffix("/v1") + "/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    for name in KV_USAGE_METRICS:
        for line in text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                try:
                    return float(line.rsplit(" ", 1)[-1])
                except ValueError:
                    return None
    return None


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
            from orchestrator.metrics.memory import MemorySampler

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
            if self.server is not None and self._answers():
                return True
            if self._cm is None or self.server.pid is None or self.restarts >= self.max_restarts:
                return False  # attached servers are not ours to restart
            self.restarts += 1
            self.stop()
            self.start()
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
        if self.config.backend == "vllm" and self.server is not None:
            # vLLM reserves GPU memory up front, so device memory says little: its KV-cache use does.
            data["kv_cache_usage_perc"] = vllm_kv_cache_usage(self.server.base_url)
        return data

    @property
    def peak_rss_bytes(self) -> int | None:
        return getattr(self.sampler, "overall_peak_bytes", None) if self.sampler else None
