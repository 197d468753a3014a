"""macOS physical footprint of a process: what Activity Monitor's "Memory" column shows.

An MLX server keeps its weights and KV cache in Metal buffers, which its resident set size can miss
(mlx-lm issue #1807); the kernel's physical footprint counts them. It is read with libproc's
`proc_pid_rusage(pid, RUSAGE_INFO_V2, &info)` through ctypes, field `ri_phys_footprint`.

UNVERIFIED: written from Apple's <sys/resource.h> layout and tested here only against a stand-in for the
libproc call (the struct's packing and the parsing); it has not yet run on a Mac. The records carry the
figure beside RSS, never instead of it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from typing import Callable

import psutil

RUSAGE_INFO_V2 = 2
FOOTPRINT_VERIFIED = False
"""Flip to True once a Mac run has compared the figure with Activity Monitor / footprint(1)."""


class RusageInfoV2(ctypes.Structure):
    """struct rusage_info_v2 from <sys/resource.h> (macOS 10.10+; later versions only append fields)."""

    _fields_ = [("ri_uuid", ctypes.c_uint8 * 16)] + [(name, ctypes.c_uint64) for name in (
        "ri_user_time", "ri_system_time", "ri_pkg_idle_wkups", "ri_interrupt_wkups", "ri_pageins",
        "ri_wired_size", "ri_resident_size", "ri_phys_footprint", "ri_proc_start_abstime",
        "ri_proc_exit_abstime", "ri_child_user_time", "ri_child_system_time", "ri_child_pkg_idle_wkups",
        "ri_child_interrupt_wkups", "ri_child_pageins", "ri_child_elapsed_abstime",
        "ri_diskio_bytesread", "ri_diskio_byteswritten")]


RusageCall = Callable[[int, int, ctypes.c_void_p], int]


def libproc_call() -> RusageCall | None:
    """libproc's proc_pid_rusage on macOS; None elsewhere or when it cannot be loaded."""
    if platform.system() != "Darwin":
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("proc") or "/usr/lib/libproc.dylib", use_errno=True)
        fn = lib.proc_pid_rusage
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    fn.restype = ctypes.c_int
    return fn


def phys_footprint_bytes(pid: int, call: RusageCall | None) -> int | None:
    """The process's physical footprint in bytes, or None (no libproc, no such process, not ours)."""
    if call is None:
        return None
    info = RusageInfoV2()
    if call(pid, RUSAGE_INFO_V2, ctypes.cast(ctypes.byref(info), ctypes.c_void_p)) != 0:
        return None
    return int(info.ri_phys_footprint)


def tree_footprint_bytes(pid: int, call: RusageCall | None) -> int | None:
    """Footprint of `pid` and its descendants; None when the root cannot be read."""
    if call is None:
        return None
    try:
        pids = [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return None
    root = phys_footprint_bytes(pid, call)
    if root is None:
        return None
    return root + sum(v for p in pids[1:] if (v := phys_footprint_bytes(p, call)) is not None)
