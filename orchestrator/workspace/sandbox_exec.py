"""The first program inside a sandbox: sets its limits, drops to the sandbox's user, then execs.

    python -I -S sandbox_exec.py limit SPEC_JSON -- argv...
    python -I -S sandbox_exec.py join PROCS_FILES_JSON -- argv...   (outside: enter cgroups, then exec)

SPEC_JSON: {"cpu_s", "memory_bytes", "file_bytes", "max_procs", "open_files" (any may be null), "uid"
(null, or the uid to become: a root caller's bwrap runs privileged and keeps CAP_SETUID/CAP_SETGID
for this step only)}.

It runs inside the sandbox's own user namespace (or after bwrap set up the mounts as root) so
RLIMIT_NPROC counts only the sandbox's processes, never the caller's. Standard library only, with
`-I -S`: nothing of the workspace (a fake `os.py`, a `.pth`) can load before the limits hold.
"""

import json
import os
import resource
import sys

LIMITS = (("cpu_s", resource.RLIMIT_CPU), ("memory_bytes", resource.RLIMIT_AS),
          ("file_bytes", resource.RLIMIT_FSIZE), ("max_procs", resource.RLIMIT_NPROC),
          ("open_files", resource.RLIMIT_NOFILE))


def apply(spec: dict) -> None:
    for key, kind in LIMITS:
        value = spec.get(key)
        if value is None:
            continue
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass  # a platform without that limit (RLIMIT_AS on macOS): the watchdog still holds
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    uid = spec.get("uid")
    if uid is not None:
        # Group first: after setuid the process may no longer change its groups. Leaving uid 0 for
        # good clears every capability that bwrap let through.
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("sandbox: could not leave uid 0")


def join(procs_files: list) -> None:
    """Enter the sandbox's cgroups before bwrap forks anything: every process it starts is then inside."""
    for path in procs_files:
        with open(path, "w") as f:
            f.write(str(os.getpid()))


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[1] not in ("limit", "join") or "--" not in sys.argv:
        sys.stderr.write("usage: sandbox_exec.py limit|join JSON -- argv...\n")
        os._exit(2)
    spec = json.loads(sys.argv[2])
    apply(spec) if sys.argv[1] == "limit" else join(spec)
    argv = sys.argv[sys.argv.index("--") + 1:]
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        sys.stderr.write(f"{argv[0]}: {err.strerror}\n")
        os._exit(127)


if __name__ == "__main__":
    main()
