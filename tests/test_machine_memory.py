"""Machine snapshot and the memory sampler, against real processes (no fakes: psutil runs here)."""

import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from orchestrator.metrics.machine import machine_info
from orchestrator.metrics.memory import MemorySampler, MemorySnapshot, tree_rss_bytes

ALLOC_MB = 200

# A parent that starts a child holding ALLOC_MB of touched memory; both wait on stdin. The parent
# reports the child's pid once the memory is resident, so the test waits on a line, not on time.
PARENT = textwrap.dedent(f"""
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c",
        "import sys; block = b'x' * ({ALLOC_MB} * 2**20); print('ready', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    print(child.pid, flush=True)
    sys.stdin.readline()
    child.stdin.write("bye\\n"); child.stdin.flush(); child.wait()
    print("released", flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def tree():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    yield parent, child_pid
    if parent.poll() is None:
        parent.kill()
    parent.wait()


def test_peak_sees_memory_held_by_a_grandchild(tree):
    parent, child_pid = tree
    # The allocation lives in the child, not in the process whose pid the sampler watches.
    assert psutil.Process(parent.pid).memory_info().rss < ALLOC_MB * 2**20
    # A long interval: only start() and mark() sample, so what each mark sees is deterministic.
    with MemorySampler(parent.pid, interval_s=3600) as sampler:
        held = sampler.mark()
        assert held.server_peak_rss_bytes >= ALLOC_MB * 2**20
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "released"
        after = sampler.mark()
        assert after.server_peak_rss_bytes < ALLOC_MB * 2**20, "each mark starts a new peak"
        assert sampler.overall_peak_bytes >= ALLOC_MB * 2**20, "the overall peak keeps the high"
    assert sampler.cpu_seconds > 0


def test_snapshot_fields_are_turn_record_fields_and_unknown_is_none(tree):
    from orchestrator.results.records import TurnRecord

    parent, _ = tree
    with MemorySampler(parent.pid) as sampler:
        snap = sampler.mark()
    assert set(vars(snap)) <= set(TurnRecord.model_fields)
    assert snap.system_used_bytes > 0 and snap.system_available_bytes > 0
    assert snap.swap_used_bytes is not None
    if sys.platform != "darwin":
        assert snap.wired_bytes is None, "wired memory is a macOS figure: unknown here, not 0"


def test_a_vanished_server_gives_none_not_zero():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert tree_rss_bytes(proc.pid) is None
    sampler = MemorySampler(proc.pid, interval_s=3600).start()
    try:
        snap = sampler.mark()
    finally:
        sampler.stop()
    assert snap.server_peak_rss_bytes is None and sampler.overall_peak_bytes is None


def test_mark_with_no_server_seen_since_last_mark_is_none_after_exit(tree):
    parent, _ = tree
    sampler = MemorySampler(parent.pid, interval_s=3600).start()
    try:
        assert sampler.mark().server_peak_rss_bytes is not None
        parent.kill()
        parent.wait()
        assert sampler.mark().server_peak_rss_bytes is None
    finally:
        sampler.stop()


def test_wait_released_returns_when_back_under_baseline_and_none_at_timeout():
    sampler = MemorySampler(1, interval_s=0.01)
    used = psutil.virtual_memory().used
    assert sampler.wait_released(baseline_bytes=used + 2**30, timeout_s=5) is not None
    assert sampler.wait_released(baseline_bytes=0, timeout_s=0.05, slack_bytes=0) is None


def test_snapshot_defaults_are_unknown():
    assert all(v is None for v in vars(MemorySnapshot()).values())


def test_machine_info_describes_this_machine():
    info = machine_info()
    assert info["os"] and info["memory_total_bytes"] == psutil.virtual_memory().total
    assert info["cpu_cores_logical"] >= 1
    assert "gpus" in info
    if sys.platform == "darwin":
        assert info["chip"] and info["model_identifier"]
    try:
        import pynvml  # noqa: F401
    except ImportError:
        assert info["gpus"] is None


def test_the_sampler_counts_its_samples_and_its_own_cpu(tree):
    parent, _ = tree
    sampler = MemorySampler(parent.pid, interval_s=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while sampler.samples < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = sampler.samples
        sampler.mark()  # a mark takes one more sample of its own
        assert before >= 5 and sampler.samples > before
        assert sampler.cpu_seconds > 0
    finally:
        sampler.stop()
