"""The watchdog's decisions, with a scripted clock and a scripted file system (statvfs) where the real
ones are slow or shared: memory summed over the whole process tree, the workspace's growth in bytes and
in files, each checked only when its period came, and the limit exceeded (not reached) is what stops.
The real thing (a sandbox filling the disk, forking memory hogs) runs in test_sandbox_escapes.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from orchestrator.workspace import watchdog
from orchestrator.workspace.sandbox import Limits
from orchestrator.workspace.watchdog import Watchdog, tree_usage
from tests.helpers.sandbox_fixtures import awkward_scandir


def blocks(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def test_tree_usage_counts_every_entry_and_its_allocated_bytes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "f").write_bytes(b"x" * 10_000)
    (tmp_path / "a" / "b" / "g").write_bytes(b"y" * 5000)
    (tmp_path / "top").write_bytes(b"z")
    entries = [tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "f", tmp_path / "a" / "b" / "g", tmp_path / "top"]
    assert tree_usage([tmp_path], 100) == (sum(blocks(p) for p in entries), 5)
    assert blocks(tmp_path / "a" / "f") >= 10_000  # allocated bytes, not a count of entries


def test_tree_usage_sums_several_folders_and_skips_missing_ones(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "ws" / "f").write_bytes(b"x" * 4096)
    (tmp_path / "home" / "g").write_bytes(b"x" * 8192)
    got = tree_usage([tmp_path / "ws", tmp_path / "home", tmp_path / "gone"], 100)
    assert got == (blocks(tmp_path / "ws" / "f") + blocks(tmp_path / "home" / "g"), 2)


def test_tree_usage_never_follows_a_link(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(5):
        (big / str(i)).write_bytes(b"x" * 8192)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "to_dir").symlink_to("../big")  # short targets: the links themselves take no block
    (ws / "to_file").symlink_to("../big/0")
    own = blocks(ws / "to_dir") + blocks(ws / "to_file")
    assert own < 8192  # what the links point at is bigger: counting it would show
    assert tree_usage([ws], 100) == (own, 2)


def test_tree_usage_stops_descending_once_past_the_limit(tmp_path):
    for d in "abc":
        (tmp_path / d).mkdir()
        for i in range(10):
            (tmp_path / d / str(i)).touch()
    # the top holds 3 entries: at the limit it goes on (one more folder: 13), past it it stops
    assert tree_usage([tmp_path], 3)[1] == 13
    assert tree_usage([tmp_path], 2)[1] == 3
    assert tree_usage([tmp_path], 33)[1] == 33


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeFs:
    """statvfs of the workspace's file system: free blocks of 1 KiB and free inodes, set by the test."""
    free_bytes: int = 10**9
    free_inodes: int = 10**6
    calls: int = 0

    def __call__(self, path):
        self.calls += 1
        return SimpleNamespace(f_bavail=self.free_bytes // 1024, f_frsize=1024, f_favail=self.free_inodes)


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    """A watchdog over tmp_path/ws with a scripted clock, statvfs, process-tree memory and walk counter."""
    clock, fs = Clock(), FakeFs()
    monkeypatch.setattr(watchdog.time, "monotonic", clock)
    monkeypatch.setattr(watchdog.os, "statvfs", fs)
    rss = SimpleNamespace(value=0, calls=0)

    def fake_rss(self):
        rss.calls += 1
        return rss.value

    monkeypatch.setattr(Watchdog, "_rss", fake_rss)
    walks = []
    real_usage = watchdog.tree_usage
    monkeypatch.setattr(watchdog, "tree_usage", lambda folders, max_entries: walks.append(max_entries)
                        or real_usage(folders, max_entries))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "seed.txt").write_text("x")

    def make(**limits) -> Watchdog:
        return Watchdog(4242, [ws], Limits(**limits))

    return SimpleNamespace(clock=clock, fs=fs, rss=rss, walks=walks, ws=ws, make=make)


def test_the_file_system_is_asked_once_a_period_not_on_every_check(scripted):
    start = scripted.clock.now
    dog = scripted.make()
    assert scripted.fs.calls == 1  # the starting point
    assert dog.base_entries == 1 and dog.fs == (10**9 // 1024 * 1024, 10**6)
    assert dog.next_s == pytest.approx(start + 0.05) and dog.next_rss_s == pytest.approx(start + 0.2)
    scripted.clock.now = dog.next_s - 0.001
    assert dog.check() is None and scripted.fs.calls == 1
    scripted.clock.now = dog.next_s  # due
    assert dog.check() is None and scripted.fs.calls == 2
    assert dog.check() is None and scripted.fs.calls == 2  # the next one is a period later
    assert dog.next_s == pytest.approx(scripted.clock.now + 0.05)
    scripted.clock.now = dog.next_s
    assert dog.check() is None and scripted.fs.calls == 3
    assert Watchdog.PERIOD_S == 0.05 and Watchdog.RSS_PERIOD_S == 0.2


def test_memory_over_the_total_stops_the_sandbox_once_its_period_came(scripted):
    dog = scripted.make(total_memory_bytes=1000)
    scripted.rss.value = 1001
    scripted.clock.now = dog.next_rss_s - 0.001
    assert dog.check() is None and scripted.rss.calls == 0 and scripted.fs.calls == 2
    scripted.clock.now = max(dog.next_rss_s, dog.next_s)
    assert dog.check() == "memory" and scripted.rss.calls == 1


def test_memory_at_the_total_is_allowed_and_summed_again_a_period_later(scripted):
    dog = scripted.make(total_memory_bytes=1000)
    scripted.rss.value = 1000
    scripted.clock.now = dog.next_rss_s
    assert dog.check() is None and scripted.rss.calls == 1
    assert dog.next_rss_s == pytest.approx(scripted.clock.now + 0.2)
    scripted.rss.value = 5000
    scripted.clock.now = dog.next_s
    assert dog.check() is None and scripted.rss.calls == 1
    scripted.clock.now = dog.next_rss_s
    assert dog.check() == "memory" and scripted.rss.calls == 2


def test_a_workspace_grown_past_its_disk_allowance_stops_the_sandbox(scripted):
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    (scripted.ws / "big.bin").write_bytes(os.urandom(200_000))
    scripted.fs.free_bytes -= 200 * 1024
    scripted.clock.now = dog.next_s
    assert dog.check() == "disk"
    assert scripted.walks[-1] == 1000


def test_disk_used_by_someone_else_is_forgiven_and_counting_starts_again(scripted):
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    start_walks = len(scripted.walks)
    scripted.fs.free_bytes -= 500 * 1024  # the file system lost space, the workspace did not grow
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1
    assert dog.fs == (10**9 // 1024 * 1024 - 500 * 1024, 10**6)
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1  # no new drop: no walk
    # now the workspace grows by more than the allowance, measured from the new starting point
    (scripted.ws / "big.bin").write_bytes(os.urandom(200_000))
    scripted.fs.free_bytes -= 200 * 1024
    scripted.clock.now = dog.next_s
    assert dog.check() == "disk"


def test_growth_the_file_system_hides_is_found_by_the_walk_every_walk_period(scripted):
    """Another process freed as much as the workspace grew: statvfs shows no drop, the periodic walk
    still finds the growth (and the inodes a file system without inode counts never reports)."""
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    start_walks = len(scripted.walks)
    (scripted.ws / "big.bin").write_bytes(os.urandom(200_000))  # free space left as it was
    scripted.clock.now = dog.next_walk_s - 0.001
    assert dog.check() is None and len(scripted.walks) == start_walks  # before the period: not walked
    scripted.clock.now = dog.next_s  # the next look, now past the walk period
    assert dog.check() == "disk" and len(scripted.walks) == start_walks + 1


def test_the_periodic_walk_comes_once_a_walk_period_and_forgives_nothing(scripted):
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    assert Watchdog.WALK_PERIOD_S == 1.0
    start_walks = len(scripted.walks)
    (scripted.ws / "part.bin").write_bytes(os.urandom(60_000))  # within the allowance, hidden from statvfs
    scripted.clock.now = dog.next_walk_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1
    assert dog.next_walk_s == scripted.clock.now + 1.0
    assert dog.grown_bytes == blocks(scripted.ws / "part.bin")
    scripted.clock.now = dog.next_s  # a check inside the period: no walk
    assert dog.check() is None and len(scripted.walks) == start_walks + 1
    (scripted.ws / "more.bin").write_bytes(os.urandom(60_000))  # 120 kB in all, still hidden from statvfs
    scripted.clock.now = dog.next_walk_s
    assert dog.check() == "disk"


def test_space_someone_else_used_is_forgiven_but_never_what_the_workspace_grew(scripted):
    (scripted.ws / "before.bin").write_bytes(os.urandom(300_000))  # there before the command: not growth
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    start_walks = len(scripted.walks)
    (scripted.ws / "first.bin").write_bytes(os.urandom(60_000))
    scripted.fs.free_bytes -= 500 * 1024  # mostly someone else's: walked, 60 kB is within the allowance
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1
    assert dog.base_bytes == tree_usage([scripted.ws], 1000)[0] - blocks(scripted.ws / "first.bin")
    assert dog.grown_bytes == blocks(scripted.ws / "first.bin")
    scripted.fs.free_bytes -= 20 * 1024  # within what the allowance has left (about 40 kB): not walked
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1
    # 60 kB more: 120 kB since the command started. The file system lost only 60 kB since the last
    # look, yet that is past what the allowance had left: walked, and stopped.
    (scripted.ws / "second.bin").write_bytes(os.urandom(60_000))
    scripted.fs.free_bytes -= 40 * 1024
    scripted.clock.now = dog.next_s
    assert dog.check() == "disk"


def test_after_forgiving_the_file_allowance_counts_the_files_already_there(scripted):
    dog = scripted.make(max_files=50, disk_bytes=10**9)
    for i in range(30):
        (scripted.ws / f"f{i}").touch()
    scripted.fs.free_inodes -= 60  # walked: 31 entries, fine
    scripted.clock.now = dog.next_s
    assert dog.check() is None and dog.base_entries == 31
    start_walks = len(scripted.walks)
    scripted.fs.free_inodes -= 19  # 19 more inodes: 50 - 31 left, not past it, so no walk
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks
    scripted.fs.free_inodes -= 1
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1


def test_growth_is_measured_from_what_the_workspace_held_at_the_start(scripted):
    (scripted.ws / "before.bin").write_bytes(os.urandom(300_000))  # there before the command
    dog = scripted.make(disk_bytes=100_000, max_files=1000)
    assert dog.base_bytes == tree_usage([scripted.ws], 1000)[0]
    (scripted.ws / "small.bin").write_bytes(os.urandom(50_000))
    scripted.fs.free_bytes -= 150 * 1024  # a drop past the allowance makes it look: 50 kB grew
    scripted.clock.now = dog.next_s
    assert dog.check() is None


def test_growth_of_exactly_the_allowance_is_allowed_and_one_block_more_is_not(scripted):
    dog = scripted.make(disk_bytes=10**9, max_files=1000)
    (scripted.ws / "grow.bin").write_bytes(os.urandom(8192))
    dog.limits.disk_bytes = tree_usage([scripted.ws], 1000)[0] - dog.base_bytes  # what it grew, to the byte
    scripted.fs.free_bytes -= dog.limits.disk_bytes + 4096
    scripted.clock.now = dog.next_s
    assert dog.check() is None
    with open(scripted.ws / "grow.bin", "ab") as f:
        f.write(os.urandom(4096))
    scripted.fs.free_bytes -= dog.limits.disk_bytes + 4096
    scripted.clock.now = dog.next_s
    assert dog.check() == "disk"


def test_a_drop_of_free_space_up_to_the_allowance_is_not_even_walked(scripted):
    dog = scripted.make(disk_bytes=100 * 1024, max_files=1000)
    start_walks = len(scripted.walks)
    scripted.fs.free_bytes -= 100 * 1024
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks
    scripted.fs.free_bytes -= 1024
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1


def test_more_files_than_allowed_stops_the_sandbox(scripted):
    dog = scripted.make(max_files=20, disk_bytes=10**9)
    for i in range(20):
        (scripted.ws / f"f{i}").touch()
    scripted.fs.free_inodes -= 20
    scripted.clock.now = dog.next_s
    assert dog.check() == "files"  # 21 entries with the seed


def test_exactly_the_allowed_number_of_files_is_fine(scripted):
    dog = scripted.make(max_files=20, disk_bytes=10**9)
    start_walks = len(scripted.walks)
    for i in range(19):
        (scripted.ws / f"f{i}").touch()
    scripted.fs.free_inodes -= 19  # 19 new inodes: the walk is due only past 20 - 1 (the seed)
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks
    scripted.fs.free_inodes -= 1  # someone else's inode: walked, 20 entries, still fine
    scripted.clock.now = dog.next_s
    assert dog.check() is None and len(scripted.walks) == start_walks + 1


def test_a_statvfs_that_fails_counts_as_no_space(monkeypatch, tmp_path):
    def broken(path):
        raise OSError("gone")

    monkeypatch.setattr(watchdog.os, "statvfs", broken)
    dog = Watchdog(os.getpid(), [tmp_path / "gone"], Limits())
    assert dog.fs == (0, 0) and dog._fs() == (0, 0)


def _wait_for(predicate, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_memory_is_summed_over_children_and_grandchildren(tmp_path):
    """Real processes: a parent holding little, whose child and grandchild hold 64 MiB each."""
    ready = tmp_path / "ready"
    code = ("import os, subprocess, sys, time\n"
            "held = b'y' * (64 * 2**20)\n"
            "child = subprocess.Popen([sys.executable, '-c', \"import time, pathlib; block = b'x' * (64 * 2**20); "
            f"pathlib.Path({str(ready)!r}).write_text('1'); time.sleep(60)\"])\n"
            "time.sleep(60)\n")
    outer = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])"])
    try:
        _wait_for(ready.exists)
        dog = Watchdog(outer.pid, [tmp_path], Limits())
        total = dog._rss()
        own = psutil.Process(outer.pid).memory_info().rss
        assert total >= 128 * 2**20 and total > own + 120 * 2**20
    finally:
        for p in psutil.Process(outer.pid).children(recursive=True):
            p.kill()
        outer.kill()
        outer.wait()


def test_a_process_already_gone_holds_no_memory(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert Watchdog(proc.pid, [tmp_path], Limits())._rss() == 0


class FakeProc:
    def __init__(self, rss, kids=(), gone=False):
        self.rss, self.kids, self.gone = rss, list(kids), gone

    def children(self, recursive=False):
        assert recursive is True
        return self.kids

    def memory_info(self):
        if self.gone:
            raise psutil.NoSuchProcess(1)
        return SimpleNamespace(rss=self.rss)


def test_memory_is_the_exact_sum_over_the_tree_skipping_processes_that_just_ended(monkeypatch, tmp_path):
    tree = FakeProc(100, [FakeProc(20), FakeProc(7, gone=True), FakeProc(3)])
    monkeypatch.setattr(watchdog.psutil, "Process", lambda pid: tree if pid == 4242 else pytest.fail(pid))
    assert Watchdog(4242, [tmp_path], Limits())._rss() == 123


def test_a_folder_that_cannot_be_listed_or_an_entry_that_vanished_does_not_end_the_count(tmp_path, monkeypatch):
    for d in ("a_ok", "z_locked"):
        (tmp_path / d).mkdir()
    (tmp_path / "a_ok" / "0_vanished").touch()
    (tmp_path / "a_ok" / "f").write_bytes(b"x" * 8192)
    awkward_scandir(monkeypatch)
    expected = blocks(tmp_path / "a_ok") + blocks(tmp_path / "z_locked") + blocks(tmp_path / "a_ok" / "f")
    assert tree_usage([tmp_path], 100) == (expected, 4)
