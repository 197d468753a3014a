"""The macOS physical footprint reader (orchestrator/metrics/footprint.py).

libproc exists only on a Mac, so here a stand-in for `proc_pid_rusage` writes into the buffer it is given,
the way the kernel does: what is tested is the struct layout (the footprint's byte offset), the call's
arguments and the parsing, and the sampler's bookkeeping. The figure itself stays marked unverified
(FOOTPRINT_VERIFIED) until a Mac run compares it with Activity Monitor.
"""

import ctypes
import os
import platform
import subprocess
import sys

import pytest

from orchestrator.metrics import footprint as fp
from orchestrator.metrics.memory import MemorySampler

# <sys/resource.h>: 16 bytes of uuid, then uint64 fields; ri_phys_footprint is the 8th of them.
FOOTPRINT_OFFSET = 16 + 7 * 8


def kernel_like(values: dict[int, int], calls: list):
    """A proc_pid_rusage stand-in: writes footprint (and resident size, just before it) for known pids."""
    def call(pid, flavor, buffer):
        calls.append((pid, flavor))
        if pid not in values:
            return -1  # ESRCH, as the real call answers for a process that is gone
        base = buffer.value if isinstance(buffer, ctypes.c_void_p) else buffer
        ctypes.c_uint64.from_address(base + FOOTPRINT_OFFSET).value = values[pid]
        ctypes.c_uint64.from_address(base + FOOTPRINT_OFFSET - 8).value = 1  # ri_resident_size: not it
        return 0
    return call


def test_struct_layout_matches_the_header():
    assert fp.RusageInfoV2.ri_phys_footprint.offset == FOOTPRINT_OFFSET
    assert fp.RusageInfoV2.ri_resident_size.offset == FOOTPRINT_OFFSET - 8
    assert ctypes.sizeof(fp.RusageInfoV2) == 16 + 18 * 8


def test_footprint_is_read_from_the_buffer_the_call_fills():
    calls = []
    assert fp.phys_footprint_bytes(4242, kernel_like({4242: 21 * 2**30}, calls)) == 21 * 2**30
    assert calls == [(4242, fp.RUSAGE_INFO_V2)]
    assert fp.phys_footprint_bytes(7, kernel_like({}, [])) is None
    assert fp.phys_footprint_bytes(7, None) is None


def test_tree_footprint_adds_children_and_skips_the_gone():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        me = os.getpid()
        values = {me: 5 * 2**30, child.pid: 2 * 2**30}
        assert fp.tree_footprint_bytes(me, kernel_like(values, [])) == 7 * 2**30
        del values[child.pid]  # a child that exits between listing and reading is skipped
        assert fp.tree_footprint_bytes(me, kernel_like(values, [])) == 5 * 2**30
        assert fp.tree_footprint_bytes(me, kernel_like({}, [])) is None, "unreadable root: unknown, not 0"
    finally:
        child.kill()
        child.wait()


def test_sampler_records_the_peak_footprint_per_turn(monkeypatch):
    values = {os.getpid(): 3 * 2**30}
    monkeypatch.setattr("orchestrator.metrics.memory.libproc_call", lambda: kernel_like(values, []))
    sampler = MemorySampler(os.getpid(), interval_s=60)
    sampler._darwin = True  # the Darwin-only path, driven by the stand-in call
    with sampler:
        values[os.getpid()] = 9 * 2**30
        sampler._sample()
        values[os.getpid()] = 4 * 2**30
        first = sampler.mark()
        second = sampler.mark()
    assert first.server_peak_footprint_bytes == 9 * 2**30
    assert second.server_peak_footprint_bytes == 4 * 2**30
    assert first.server_peak_rss_bytes is not None, "RSS stays beside the footprint"


@pytest.mark.platform_skip
@pytest.mark.skipif(platform.system() == "Darwin", reason="on macOS libproc is there: this checks its absence")
def test_no_footprint_off_a_mac():
    assert fp.libproc_call() is None
    with MemorySampler(os.getpid(), interval_s=60) as sampler:
        assert sampler.mark().server_peak_footprint_bytes is None
    assert fp.FOOTPRINT_VERIFIED is False
