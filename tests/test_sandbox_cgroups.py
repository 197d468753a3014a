"""The memory and process cap from cgroups, on a fake cgroupfs in a temporary folder (the real one can
only be changed by root on a host that delegates it): which hierarchy is used (v1, v2, none), the
group made below this process's own group, the limits written into it, and its removal with every
process in it killed. A control file is a plain file here; `rmdir` of a group removes its control
files with it, as the kernel's cgroupfs does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.workspace import cgroups
from orchestrator.workspace.cgroups import CgroupCap


@pytest.fixture
def fake_fs(tmp_path, monkeypatch):
    """CGROUP_ROOT in a temporary folder, this process as root, /proc/self/cgroup as the test writes it."""
    root = tmp_path / "cgroup"
    root.mkdir()
    proc_cgroup = tmp_path / "proc_self_cgroup"
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 0)
    real_path = cgroups.Path
    monkeypatch.setattr(cgroups, "Path", lambda p, *rest: proc_cgroup if str(p) == "/proc/self/cgroup"
                        else real_path(p, *rest))
    real_rmdir = Path.rmdir

    def cgroupfs_rmdir(self):
        if self.is_relative_to(root) and self.name.startswith("siliconbench-"):
            if any(p.is_dir() for p in self.iterdir()):
                raise OSError(16, "busy")
            shutil.rmtree(self)
        else:
            real_rmdir(self)

    monkeypatch.setattr(Path, "rmdir", cgroupfs_rmdir)
    return root, proc_cgroup


def groups_under(folder: Path) -> list[Path]:
    return sorted(folder.glob("siliconbench-*"))


def v1(root: Path, proc_cgroup: Path) -> tuple[Path, Path]:
    memory, pids = root / "memory" / "XY" / "me", root / "pids" / "Xsb"
    memory.mkdir(parents=True)
    pids.mkdir(parents=True)
    (root / "memory" / "cgroup.procs").touch()
    proc_cgroup.write_text("12:pids:/Xsb\n4:memory:/XY/me\n3:cpu,cpuacct:/\n0::/\n")
    return memory, pids


def test_own_path_reads_this_process_group_per_controller(fake_fs):
    _, proc_cgroup = fake_fs
    proc_cgroup.write_text("9:name=systemd:/\n8:pids:/p\n4:memory,foo:/m/x\n0::/unified/y\n")
    assert cgroups._own_path("memory") == "/m/x"
    assert cgroups._own_path("pids") == "/p"
    assert cgroups._own_path("") == "/unified/y"
    assert cgroups._own_path("cpu") is None
    proc_cgroup.unlink()
    assert cgroups._own_path("memory") is None


def test_own_path_keeps_colons_inside_the_path(fake_fs):
    _, proc_cgroup = fake_fs
    proc_cgroup.write_text("0::/a:b\n")
    assert cgroups._own_path("") == "/a:b"


def test_v1_caps_memory_swap_and_processes_in_groups_below_our_own(fake_fs):
    root, proc_cgroup = fake_fs
    memory, pids = v1(root, proc_cgroup)
    cap = cgroups.create(123456, 77)
    assert cap.kind == "v1"
    [mem_group], [pids_group] = groups_under(memory), groups_under(pids)
    assert cap.groups == [mem_group, pids_group]
    assert len(mem_group.name) == len("siliconbench-") + 12
    assert (mem_group / "memory.limit_in_bytes").read_text() == "123456"
    assert (mem_group / "memory.memsw.limit_in_bytes").read_text() == "123456"
    assert (pids_group / "pids.max").read_text() == "77"
    assert cap.procs_files == [str(mem_group / "cgroup.procs"), str(pids_group / "cgroup.procs")]
    cap.kill_and_remove()
    assert groups_under(memory) == [] and groups_under(pids) == []


def test_v1_at_the_root_group_when_this_process_has_none(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "memory").mkdir()
    (root / "pids").mkdir()
    (root / "memory" / "cgroup.procs").touch()
    proc_cgroup.write_text("0::/\n")
    cap = cgroups.create(1, 2)
    assert cap.kind == "v1" and [g.parent for g in cap.groups] == [root / "memory", root / "pids"]


def test_v1_with_one_controller_unusable_leaves_nothing_behind(fake_fs):
    root, proc_cgroup = fake_fs
    memory, pids = v1(root, proc_cgroup)
    proc_cgroup.write_text("12:pids:/not/there\n4:memory:/XY/me\n")
    cap = cgroups.create(123456, 77)
    assert cap.kind == "none" and cap.groups == [] and cap.procs_files == []
    assert groups_under(memory) == []  # the memory group it did make is removed again


def test_v2_caps_memory_processes_and_swap_in_one_group_below_our_own(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "cgroup.controllers").write_text("memory pids")
    own = root / "XY.slice" / "me"
    own.mkdir(parents=True)
    proc_cgroup.write_text("0::/XY.slice/me\n")
    cap = cgroups.create(5000, 9)
    [group] = groups_under(own)
    assert cap.kind == "v2" and cap.groups == [group]
    assert {p.name: p.read_text() for p in group.iterdir()} == {"memory.max": "5000", "pids.max": "9",
                                                                "memory.swap.max": "0"}
    cap.kill_and_remove()
    assert groups_under(own) == []


def test_v2_at_the_root_when_this_process_has_no_unified_line(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "cgroup.controllers").write_text("memory pids")
    proc_cgroup.write_text("4:memory:/m\n")
    cap = cgroups.create(5000, 9)
    assert cap.kind == "v2" and [g.parent for g in cap.groups] == [root]


def test_v2_where_no_group_can_be_made_gives_no_cap(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "cgroup.controllers").write_text("memory pids")
    proc_cgroup.write_text("0::/not/delegated\n")
    cap = cgroups.create(5000, 9)
    assert cap.kind == "none" and cap.groups == []


def test_v1_is_used_only_with_both_controllers_and_a_real_hierarchy(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "memory").mkdir()
    (root / "memory" / "cgroup.procs").touch()
    proc_cgroup.write_text("0::/\n")
    assert cgroups.create(1, 2).kind == "none"  # no pids controller, no v2 either
    (root / "pids").mkdir()
    (root / "memory" / "cgroup.procs").unlink()  # a folder, not a mounted hierarchy
    assert cgroups.create(1, 2).kind == "none"
    (root / "cgroup.controllers").touch()  # hybrid: v2 when v1's memory is not mounted
    assert cgroups.create(1, 2).kind == "v2"


def test_an_ordinary_user_or_a_machine_without_cgroupfs_gets_no_cap(fake_fs, monkeypatch, tmp_path):
    root, proc_cgroup = fake_fs
    (root / "cgroup.controllers").touch()
    proc_cgroup.write_text("0::/\n")
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    assert cgroups.create(1, 2).kind == "none" and groups_under(root) == []
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path / "no-cgroupfs")
    assert cgroups.create(1, 2) == CgroupCap()


def test_a_setting_the_kernel_refuses_removes_the_half_made_group(fake_fs):
    root, _ = fake_fs
    assert cgroups._make(root, {"memory.max": "1", "no/such/file": "2"}) is None
    assert groups_under(root) == []
    assert cgroups._make(root / "absent", {"memory.max": "1"}) is None
    made = cgroups._make(root, {"memory.max": "1", "pids.max": "2"})
    assert made is not None and made.parent == root
    assert {p.name: p.read_text() for p in made.iterdir()} == {"memory.max": "1", "pids.max": "2"}


def test_probe_asks_for_a_real_cap_of_a_gib_and_64_processes(monkeypatch):
    asked = []
    monkeypatch.setattr(cgroups, "create", lambda memory_bytes, max_procs: asked.append((memory_bytes, max_procs))
                        or CgroupCap())
    assert cgroups.probe() == "none" and asked == [(2**30, 64)]


def test_probe_reports_the_kind_and_leaves_no_group(fake_fs):
    root, proc_cgroup = fake_fs
    (root / "cgroup.controllers").touch()
    proc_cgroup.write_text("0::/\n")
    assert cgroups.probe() == "v2"
    assert groups_under(root) == []
    (root / "cgroup.controllers").unlink()
    assert cgroups.probe() == "none"


def test_kill_and_remove_kills_every_process_listed_in_the_group(tmp_path):
    group = tmp_path / "siliconbench-x"
    group.mkdir()
    sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
    try:
        (group / "cgroup.procs").write_text("".join(f"{p.pid}\n" for p in sleepers))
        started = time.monotonic()
        CgroupCap([group], "v2").kill_and_remove()  # the fake file keeps listing them: it gives up after 50 rounds
        assert time.monotonic() - started < 20, "50 rounds of 10 ms: a cleanup must never hold up the run"
        assert [p.wait(timeout=10) for p in sleepers] == [-signal.SIGKILL, -signal.SIGKILL]
    finally:
        for p in sleepers:
            p.kill()
            p.wait()


def test_kill_and_remove_stops_at_an_empty_group_and_removes_it(tmp_path, monkeypatch):
    group = tmp_path / "siliconbench-y"
    group.mkdir()
    (group / "cgroup.procs").write_text("")
    reads = []
    real_read = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: reads.append(self) or real_read(self, *a, **k))
    removed = []
    monkeypatch.setattr(Path, "rmdir", lambda self: removed.append(self))
    gone = tmp_path / "siliconbench-gone"  # no procs file: nothing to kill, still removed
    CgroupCap([group, gone], "v1").kill_and_remove()
    assert reads == [group / "cgroup.procs", gone / "cgroup.procs"]
    assert removed == [group, gone]


def test_a_pid_already_gone_or_not_ours_does_not_stop_the_cleanup(tmp_path, monkeypatch):
    group = tmp_path / "siliconbench-z"
    group.mkdir()
    (group / "cgroup.procs").write_text("999999999\n")
    killed = []

    def fake_kill(pid, sig):
        killed.append((pid, sig))
        raise (ProcessLookupError if len(killed) % 2 else PermissionError)()

    monkeypatch.setattr(cgroups.os, "kill", fake_kill)
    monkeypatch.setattr(cgroups.time, "sleep", lambda s: None)
    CgroupCap([group], "v1").kill_and_remove()
    assert killed == [(999999999, signal.SIGKILL)] * 50
    assert CgroupCap().kind == "none" and CgroupCap().groups == []
    assert os.path.isdir(group)  # a real folder with a file in it: rmdir fails and that is not an error
