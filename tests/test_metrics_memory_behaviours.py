"""When the machine has its memory back after a server stops (MemorySampler.wait_released): within the
slack of the baseline, not exactly at it, and None at the timeout. The system's memory figure is pinned
with a stand-in for psutil.virtual_memory, because on a shared machine the real one moves."""

from types import SimpleNamespace

import psutil

from orchestrator.metrics.memory import MemorySampler

GIB, MIB = 2**30, 2**20


def used_is(monkeypatch, used_bytes):
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(used=used_bytes, available=GIB, total=16 * GIB))


def test_memory_within_the_slack_of_the_baseline_counts_as_released(monkeypatch):
    used_is(monkeypatch, 10 * GIB)
    sampler = MemorySampler(1, interval_s=0.01)
    waited = sampler.wait_released(baseline_bytes=10 * GIB - 300 * MIB, timeout_s=5)
    assert waited is not None and waited < 1.0  # already within the default 512 MiB slack
    assert sampler.wait_released(baseline_bytes=10 * GIB - 300 * MIB, timeout_s=0.05, slack_bytes=0) is None
    assert sampler.wait_released(baseline_bytes=10 * GIB - 600 * MIB, timeout_s=0.05) is None  # past the 512 MiB


def test_the_baseline_defaults_to_what_was_used_when_sampling_started(monkeypatch):
    used_is(monkeypatch, 4 * GIB)
    sampler = MemorySampler(1, interval_s=0.01)
    sampler.baseline_used_bytes = 3 * GIB
    assert sampler.wait_released(timeout_s=0.05) is None
    sampler.baseline_used_bytes = 4 * GIB - 100 * MIB
    assert sampler.wait_released(timeout_s=5) is not None
