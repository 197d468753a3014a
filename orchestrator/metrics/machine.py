"""What machine a run was measured on, for meta.json: OS, CPU or Apple chip, memory, GPUs.

Every figure that cannot be read is None (or absent), never a made-up 0. NVIDIA GPUs come from NVML
(`pip install nvidia-ml-py`) where it is importable; on a Mac the chip and model identifier come from
sysctl and the GPU working-set limit from MLX, where it is installed.
"""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import psutil

from orchestrator.metrics.gpu import nvidia_gpus


def sysctl(key: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _linux_cpu_name() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _linux_distribution() -> str | None:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def mlx_working_set_bytes() -> int | None:
    """Metal's recommended GPU working-set limit (the default wired limit), where MLX can tell."""
    if platform.system() != "Darwin":
        return None
    try:
        import mlx.core as mx

        return int(mx.metal.device_info()["max_recommended_working_set_size"])
    except Exception:  # mlx missing or without Metal
        return None


def machine_info() -> dict[str, Any]:
    """A snapshot of this machine for the results' meta.json."""
    system = platform.system()
    info: dict[str, Any] = {
        "os": system,
        "os_version": platform.release(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "cpu_cores_logical": psutil.cpu_count(logical=True) or os.cpu_count(),
        "memory_total_bytes": psutil.virtual_memory().total,
        "swap_total_bytes": psutil.swap_memory().total,
    }
    if system == "Darwin":
        info["os_version"] = platform.mac_ver()[0] or info["os_version"]
        info["model_identifier"] = sysctl("hw.model")  # e.g. Mac15,14
        info["chip"] = sysctl("machdep.cpu.brand_string")  # e.g. Apple M3 Ultra
        info["cpu"] = info["chip"]
        info["gpu_working_set_limit_bytes"] = mlx_working_set_bytes()
        limit_mb = sysctl("iogpu.wired_limit_mb")
        # 0 means macOS's default; a positive value is a limit someone raised by hand.
        info["iogpu_wired_limit_mb"] = int(limit_mb) if limit_mb and limit_mb.isdigit() else None
    else:
        info["cpu"] = _linux_cpu_name() if system == "Linux" else (platform.processor() or None)
        info["chip"] = info["cpu"]
        if system == "Linux":
            info["distribution"] = _linux_distribution()
    info["gpus"] = nvidia_gpus()
    return info
