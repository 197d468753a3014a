"""A memory and process cap for one sandbox from the kernel's cgroups, where this machine lets us make one.

cgroup v1 (a `memory` and a `pids` hierarchy) or v2 (one unified tree whose controllers are delegated
to us). Root usually can; an ordinary user usually cannot, and the sandbox then relies on its rlimits
(RLIMIT_NPROC inside its own user namespace, RLIMIT_AS per process) and on the watchdog of sandbox.py.
Nothing here is required: every step that fails leaves the group out.

The sandboxed processes cannot leave the group: /sys is not mounted in the sandbox, so no
`cgroup.procs` of a parent group is there to write.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's group in a v1 controller ('memory') or in v2 (controller '')."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            return path
    return None


@dataclass
class CgroupCap:
    groups: list[Path] = field(default_factory=list)
    kind: str = "none"
    """v1, v2 or none: what holds the memory and process cap beyond the rlimits."""

    @property
    def procs_files(self) -> list[str]:
        return [str(g / "cgroup.procs") for g in self.groups]

    def kill_and_remove(self) -> None:
        for group in self.groups:
            for _ in range(50):  # a fork bomb keeps spawning until every member is gone
                try:
                    pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                time.sleep(0.01)
            try:
                group.rmdir()
            except OSError:
                pass


def _make(parent: Path, settings: dict[str, str]) -> Path | None:
    group = parent / f"siliconbench-{uuid.uuid4().hex[:12]}"
    try:
        group.mkdir()
    except OSError:
        return None
    try:
        for name, value in settings.items():
            (group / name).write_text(value)
    except OSError:
        try:
            group.rmdir()
        except OSError:
            pass
        return None
    return group


def create(memory_bytes: int, max_procs: int) -> CgroupCap:
    """A fresh group (or two, on v1) capping memory and processes; an empty cap where none can be made."""
    if os.geteuid() != 0 or not CGROUP_ROOT.is_dir():
        return CgroupCap()
    v1_memory, v1_pids = CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"
    if v1_memory.is_dir() and v1_pids.is_dir() and (v1_memory / "cgroup.procs").exists():
        mem = _make(v1_memory / (_own_path("memory") or "/").lstrip("/"),
                    {"memory.limit_in_bytes": str(memory_bytes)})
        pids = _make(v1_pids / (_own_path("pids") or "/").lstrip("/"), {"pids.max": str(max_procs)})
        groups = [g for g in (mem, pids) if g is not None]
        if len(groups) == 2:
            try:  # also cap swap where the kernel accounts it, else memory just moves to swap
                (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            except OSError:
                pass
            return CgroupCap(groups, "v1")
        CgroupCap(groups).kill_and_remove()
        return CgroupCap()
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        own = CGROUP_ROOT / (_own_path("") or "/").lstrip("/")
        group = _make(own, {"memory.max": str(memory_bytes), "pids.max": str(max_procs)})
        if group is not None:
            try:
                (group / "memory.swap.max").write_text("0")
            except OSError:
                pass
        return CgroupCap([group], "v2") if group else CgroupCap()
    return CgroupCap()


def probe() -> str:
    """v1, v2 or none: whether this machine lets siliconbench cap a sandbox's memory and processes."""
    cap = create(2**30, 64)
    cap.kill_and_remove()
    return cap.kind
