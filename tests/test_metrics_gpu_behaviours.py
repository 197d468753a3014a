"""GPU memory through NVML (orchestrator/metrics/gpu.py): every GPU counted, unknown is None, never 0.

No NVIDIA driver is here, so `pynvml` is a stand-in module object with NVML's functions and answers
(device memory as `nvmlDeviceGetMemoryInfo` returns it); the code under test is the real session type.
"""

from types import SimpleNamespace

from orchestrator.metrics.gpu import Nvml

GIB = 2**30


def fake_pynvml(used, total, driver=b"550.54", fail_after=None):
    """NVML with len(used) GPUs; `fail_after`: memory queries past that many raise (a GPU off the bus)."""
    asked = {"n": 0, "shutdown": 0}

    def memory(handle):
        asked["n"] += 1
        if fail_after is not None and asked["n"] > fail_after:
            raise RuntimeError("NVMLError_GpuIsLost")
        return SimpleNamespace(used=used[handle], total=total[handle])

    def shutdown():
        asked["shutdown"] += 1

    return SimpleNamespace(
        nvmlInit=lambda: None, nvmlDeviceGetCount=lambda: len(used), nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetMemoryInfo=memory, nvmlDeviceGetName=lambda h: f"GPU {h}".encode(),
        nvmlSystemGetDriverVersion=lambda: driver, nvmlShutdown=shutdown), asked


def test_gpu_memory_used_is_the_sum_over_every_gpu():
    pynvml, _ = fake_pynvml(used=[30 * GIB, 12 * GIB], total=[80 * GIB, 80 * GIB])
    assert Nvml(pynvml).used_bytes() == 42 * GIB


def test_each_gpu_is_described_with_its_name_driver_and_memory():
    pynvml, _ = fake_pynvml(used=[1, 2], total=[80 * GIB, 24 * GIB])
    assert Nvml(pynvml).devices() == [
        {"index": 0, "name": "GPU 0", "driver": "550.54", "memory_total_bytes": 80 * GIB, "memory_used_bytes": 1},
        {"index": 1, "name": "GPU 1", "driver": "550.54", "memory_total_bytes": 24 * GIB, "memory_used_bytes": 2}]


def test_a_gpu_lost_mid_run_makes_the_figure_unknown_not_a_partial_sum():
    pynvml, _ = fake_pynvml(used=[30 * GIB, 12 * GIB], total=[80 * GIB, 80 * GIB], fail_after=1)
    assert Nvml(pynvml).used_bytes() is None


def test_no_gpu_means_unknown_and_a_closed_session_reads_nothing():
    pynvml, asked = fake_pynvml(used=[], total=[])
    assert Nvml(pynvml).used_bytes() is None
    pynvml, asked = fake_pynvml(used=[5], total=[10])
    nvml = Nvml(pynvml)
    with nvml:
        assert nvml.used_bytes() == 5
    assert asked["shutdown"] == 1 and nvml.used_bytes() is None
