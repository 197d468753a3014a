"""Watches one running sandbox from outside: the memory its processes hold together, how much its
workspace grew. The kernel's limits are per process (RLIMIT_AS, RLIMIT_FSIZE); this catches the sum,
on machines where no cgroup can do it (an ordinary user, a cgroup v2 host without delegation).

Cheap by design: one pass over the process tree and one `statvfs` every PERIOD_S; the workspace is
walked when the file system's free space or free inodes dropped by more than what is left of the
allowance, and at least every WALK_PERIOD_S whatever statvfs says: another process freeing space at
the same moment hides the workspace's growth from it, and some file systems count no inodes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil


def tree_usage(folders: list[Path], max_entries: int) -> tuple[int, int]:
    """(bytes, entries) under `folders`, never following a link, stopping past max_entries."""
    size = entries = 0
    stack = [str(f) for f in folders]
    while stack and entries <= max_entries:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                for entry in it:
                    entries += 1
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    size += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return size, entries


class Watchdog:
    PERIOD_S = 0.05
    """How often the file system is asked (one statvfs): a fast writer gets ~0.05 s past the limit."""
    RSS_PERIOD_S = 0.2
    """How often the process tree's memory is summed (a pass over /proc)."""
    WALK_PERIOD_S = 1.0
    """How often the workspace is walked even when the file system's free space says nothing grew."""

    def __init__(self, pid: int, folders: list[Path], limits) -> None:
        self.pid, self.folders, self.limits = pid, folders, limits
        self.next_s = time.monotonic() + self.PERIOD_S
        self.next_rss_s = time.monotonic() + self.RSS_PERIOD_S
        self.next_walk_s = time.monotonic() + self.WALK_PERIOD_S
        self.base_bytes, self.base_entries = tree_usage(folders, limits.max_files)
        self.grown_bytes = 0
        """What the workspace had grown at the last walk: space someone else used is forgiven, never this."""
        self.fs = self._fs()

    def _fs(self) -> tuple[int, int]:
        try:
            st = os.statvfs(self.folders[0])
        except OSError:
            return 0, 0
        return st.f_bavail * st.f_frsize, st.f_favail

    def check(self) -> str | None:
        """'memory', 'disk' or 'files' when the sandbox must be stopped, else None."""
        now = time.monotonic()
        if now < self.next_s:
            return None
        self.next_s = now + self.PERIOD_S
        if now >= self.next_rss_s:
            self.next_rss_s = now + self.RSS_PERIOD_S
            if self._rss() > self.limits.total_memory_bytes:
                return "memory"
        free_bytes, free_inodes = self._fs()
        grew_bytes, grew_inodes = self.fs[0] - free_bytes, self.fs[1] - free_inodes
        if (now >= self.next_walk_s or grew_bytes > self.limits.disk_bytes - self.grown_bytes
                or grew_inodes > self.limits.max_files - self.base_entries):
            self.next_walk_s = now + self.WALK_PERIOD_S
            size, entries = tree_usage(self.folders, self.limits.max_files)
            if entries > self.limits.max_files:
                return "files"
            if size - self.base_bytes > self.limits.disk_bytes:
                return "disk"
            # someone else used the disk: count the file system from here, the workspace still from its start
            self.fs = (free_bytes, free_inodes)
            self.grown_bytes, self.base_entries = size - self.base_bytes, entries
        return None

    def _rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total
