"""Applies the sandbox's limits to itself, then becomes the command (exec): run as a separate program.

Doing this in a fresh process instead of a `preexec_fn` keeps it safe when several task runs execute
commands from threads at once (preexec_fn can deadlock a threaded parent).

    python -m orchestrator.sandbox_exec SPEC_JSON -- argv...

SPEC_JSON: {"cpu_s", "memory_bytes", "file_bytes", "max_procs", "cgroup_procs" (a pids-cgroup
`cgroup.procs` file to join, or null), "no_network" (bool)}.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNET = 0x40000000


def _drop_network() -> bool:
    """A new, empty network namespace: no interface but a downed loopback. Linux, as root."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def apply(spec: dict) -> None:
    if spec.get("cgroup_procs"):
        # Root ignores RLIMIT_NPROC; a pids cgroup caps a fork bomb whoever runs it.
        with open(spec["cgroup_procs"], "w") as f:
            f.write(str(os.getpid()))
    if spec.get("no_network"):
        _drop_network()
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
