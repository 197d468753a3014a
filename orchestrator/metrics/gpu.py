"""NVIDIA GPUs through NVML, opened in one place: the machine snapshot, the memory sampler and the
backends' capacity check all ask through this one session type."""

from __future__ import annotations

from typing import Any


class Nvml:
    """One NVML session. `Nvml.open()` is None when NVML is not installed or has no driver to talk to."""

    def __init__(self, pynvml: Any) -> None:
        self._nvml = pynvml
        self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]

    @classmethod
    def open(cls) -> "Nvml | None":
        try:
            import pynvml

            pynvml.nvmlInit()
            return cls(pynvml)
        except Exception:  # not installed, NVMLError_LibraryNotFound, DriverNotLoaded: no GPU to read
            return None

    def devices(self) -> list[dict[str, Any]]:
        """Each GPU's index, name, driver and memory (total and used, bytes)."""
        driver = _text(self._nvml.nvmlSystemGetDriverVersion())
        out = []
        for i, handle in enumerate(self._handles):
            memory = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            out.append({"index": i, "name": _text(self._nvml.nvmlDeviceGetName(handle)), "driver": driver,
                        "memory_total_bytes": int(memory.total), "memory_used_bytes": int(memory.used)})
        return out

    def used_bytes(self) -> int | None:
        if not self._handles:
            return None
        try:
            return sum(int(self._nvml.nvmlDeviceGetMemoryInfo(h).used) for h in self._handles)
        except Exception:  # a GPU that fell off the bus mid-run: unknown, not zero
            return None

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:
            pass
        self._handles = []

    def __enter__(self) -> "Nvml":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def nvidia_gpus() -> list[dict[str, Any]] | None:
    """Each NVIDIA GPU's name and memory; None without NVML."""
    nvml = Nvml.open()
    if nvml is None:
        return None
    with nvml:
        try:
            return nvml.devices()
        except Exception:
            return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
