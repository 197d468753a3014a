"""Memory of a model server while it runs: its whole process tree, the system, and the GPU.

`MemorySampler(pid)` samples on a background thread every `interval_s` and once more at each `mark()`,
so a turn shorter than the interval is still seen. Sampled per turn because memory peaks during
prefill, not at load.

- tree RSS: the root process and all its descendants (vLLM's engine, llama-server's children);
  processes that exit mid-walk are normal and skipped;
- system: used and available memory, swap used; on macOS wired memory and the tree's physical footprint
  (what Activity Monitor shows), because an MLX server's RSS can miss its Metal buffers (mlx-lm issue
  #1807); with NVIDIA GPUs, device memory used from NVML
  (vLLM's up-front reservation shows there).

Unknown figures are None, never 0. `cpu_seconds` is the sampler's own CPU time (the sampling thread's
`time.thread_time()` plus the samples taken inside `mark()`), so its overhead can be reported.
"""

from __future__ import annotations

import platform
import threading
import time
from dataclasses import dataclass

import psutil

from orchestrator.metrics.footprint import libproc_call, tree_footprint_bytes
from orchestrator.metrics.gpu import Nvml
from orchestrator.metrics.machine import mlx_working_set_bytes


@dataclass
class MemorySnapshot:
    """One turn's memory figures; names match TurnRecord's fields."""

    server_peak_rss_bytes: int | None = None
    """Peak RSS of the server's process tree since the previous mark."""
    server_peak_footprint_bytes: int | None = None
    """macOS only: peak physical footprint of the tree (Metal buffers included; metrics/footprint.py,
    unverified until a Mac has run it)."""
    system_used_bytes: int | None = None
    system_available_bytes: int | None = None
    swap_used_bytes: int | None = None
    wired_bytes: int | None = None
    gpu_used_bytes: int | None = None
    gpu_working_set_limit_bytes: int | None = None


def tree_rss_bytes(pid: int) -> int | None:
    """RSS of `pid` and every descendant; None once `pid` itself is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return None
    total, seen_root = 0, False
    for proc in procs:
        try:
            total += proc.memory_info().rss
            seen_root = seen_root or proc.pid == pid
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue  # exited (or not ours) between listing and reading: normal mid-walk
    return total if seen_root else None


class MemorySampler:
    def __init__(self, pid: int, interval_s: float = 0.2):
        self.pid = pid
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._peak_since_mark: int | None = None
        self._footprint_since_mark: int | None = None
        self._rusage = None
        self._overall_peak: int | None = None
        self._latest = MemorySnapshot()
        self._cpu_s = 0.0
        self.samples = 0
        """Samples taken so far (the background thread's and mark()'s), for the sampler's own cost."""
        self._darwin = platform.system() == "Darwin"
        self._nvml: Nvml | None = None
        self._working_set: int | None = None
        self.baseline_used_bytes: int | None = None
        """System memory used when sampling started: what `wait_released` waits to get back to."""

    # --- lifecycle ---

    def start(self) -> "MemorySampler":
        if self._thread is not None:
            return self
        self._nvml = None if self._darwin else Nvml.open()
        self._working_set = mlx_working_set_bytes() if self._darwin else None
        self._rusage = libproc_call() if self._darwin else None
        self.baseline_used_bytes = psutil.virtual_memory().used
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, name=f"memory-sampler-{self.pid}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._nvml is not None:
            self._nvml.close()
            self._nvml = None

    def __enter__(self) -> "MemorySampler":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    # --- sampling ---

    def _sample(self) -> None:
        self.samples += 1
        started = time.thread_time()
        rss = tree_rss_bytes(self.pid)
        footprint = tree_footprint_bytes(self.pid, self._rusage)
        vm = psutil.virtual_memory()
        snap = MemorySnapshot(
            system_used_bytes=vm.used,
            system_available_bytes=vm.available,
            swap_used_bytes=psutil.swap_memory().used,
            wired_bytes=getattr(vm, "wired", None) if self._darwin else None,
            gpu_used_bytes=self._nvml.used_bytes() if self._nvml else None,
            gpu_working_set_limit_bytes=self._working_set,
        )
        with self._lock:
            if rss is not None:
                self._peak_since_mark = max(rss, self._peak_since_mark or 0)
                self._overall_peak = max(rss, self._overall_peak or 0)
            if footprint is not None:
                self._footprint_since_mark = max(footprint, self._footprint_since_mark or 0)
            self._latest = snap
            self._cpu_s += time.thread_time() - started

    def mark(self) -> MemorySnapshot:
        """Peak tree RSS since the previous mark (None if the server was never seen) and the latest
        system figures; starts the next interval."""
        self._sample()
        with self._lock:
            snap = MemorySnapshot(**{**vars(self._latest), "server_peak_rss_bytes": self._peak_since_mark,
                                     "server_peak_footprint_bytes": self._footprint_since_mark})
            self._peak_since_mark = self._footprint_since_mark = None
        return snap

    @property
    def overall_peak_bytes(self) -> int | None:
        """Highest tree RSS seen since start."""
        with self._lock:
            return self._overall_peak

    @property
    def cpu_seconds(self) -> float:
        """CPU time spent sampling, in seconds."""
        with self._lock:
            return self._cpu_s

    def wait_released(self, baseline_bytes: int | None = None, timeout_s: float = 120.0,
                      slack_bytes: int = 512 * 2**20) -> float | None:
        """After the server stops: seconds until system memory used is back within `slack_bytes` of
        `baseline_bytes` (default: what was used at start), or None at the timeout."""
        baseline = self.baseline_used_bytes if baseline_bytes is None else baseline_bytes
        if baseline is None:
            baseline = psutil.virtual_memory().used
        began = time.monotonic()
        deadline = began + timeout_s
        while True:
            if psutil.virtual_memory().used <= baseline + slack_bytes:
                return time.monotonic() - began
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(self.interval_s, max(0.0, deadline - time.monotonic())) or 0.01)
