"""Applies the sandbox's limits to itself, then becomes the command (exec): run as a separate program.

Doing this in a fresh process instead of a `preexec_fn` keeps it safe when several task runs execute
commands from threads at once (preexec_fn can deadlock a threaded parent).

    python -m orchestrator.workspace.sandbox_exec SPEC_JSON -- argv...

SPEC_JSON: {"cpu_s", "memory_bytes", "file_bytes", "max_procs", "cgroup_procs" (a pids-cgroup
`cgroup.procs` file to join, or null), "isolate" (bool: no network, read-only filesystem),
"writable" (folders that stay writable)}.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18


def _isolate(writable: list[str]) -> bool:
    """Linux, as root: a new, empty network namespace (no interface but a downed loopback) and a
    private mount namespace where every filesystem is read-only except the `writable` folders (the
    run's workspace and home). Model-written code can then neither reach a network nor touch a file
    outside its workspace."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
            return False
        libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        for path in writable:
            libc.mount(path.encode(), path.encode(), None, MS_BIND | MS_REC, None)
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for point in points:
            if point == "/dev" or any(point == w or point.startswith(w + "/") for w in writable):
                continue
            libc.mount(None, point.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        os.chdir(os.getcwd())  # the old cwd still points into the now read-only mount: re-enter it
        return True
    except (OSError, AttributeError):
        return False


def apply(spec: dict) -> None:
    if spec.get("cgroup_procs"):
        # Root ignores RLIMIT_NPROC; a pids cgroup caps a fork bomb whoever runs it.
        with open(spec["cgroup_procs"], "w") as f:
            f.write(str(os.getpid()))
    if spec.get("isolate"):
        _isolate(spec.get("writable") or [])
    limits = [(resource.RLIMIT_CPU, spec.get("cpu_s")), (resource.RLIMIT_AS, spec.get("memory_bytes")),
              (resource.RLIMIT_FSIZE, spec.get("file_bytes")), (resource.RLIMIT_CORE, 0)]
    if spec.get("max_procs") and os.geteuid() != 0:
        limits.append((resource.RLIMIT_NPROC, spec["max_procs"]))
    for kind, value in limits:
        if value is None:
            continue
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass  # a platform without that limit (RLIMIT_AS on macOS): the timeout still holds


def main() -> None:
    spec = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    apply(spec)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        sys.stderr.write(f"{argv[0]}: {err.strerror}\n")
        os._exit(127)


if __name__ == "__main__":
    main()
