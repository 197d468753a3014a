"""Builds a bubblewrap (`bwrap`) command line that contains one untrusted process tree on Linux.

bubblewrap is the sandbox Flatpak, Codex CLI and Claude Code's sandbox runtime use on Linux; this
module only decides its arguments. What a process inside gets:

- new user, PID, mount, network, IPC, UTS (and, where the kernel has it, cgroup) namespaces; no
  capabilities; no further user namespaces (`--disable-userns`, so no nested namespace can win
  capabilities back); `--die-with-parent` and `--new-session` (no terminal to inject keystrokes into);
- a fresh `/proc` (only its own processes: no `/proc/<ppid>/environ` or `/proc/<ppid>/root`), a
  minimal read-only `/dev` (null, zero, urandom, tty... and a small `/dev/shm`);
- an empty root where only these appear: read-only binds of the system's programs and libraries
  (`/usr`, `/bin`, `/lib*`, a few files of `/etc`), of the Python runtime (`sys.base_prefix`, the
  venv), and of `read_only`; read-write binds of `writable` (each at its own path); a size-limited
  tmpfs on `/tmp`. Never the home folder, `/root`, the project tree or other workspaces;
  `masked` paths (the installed tasks, hidden tests, reference trajectories) are hidden under an
  empty tmpfs wherever a bind would expose them;
- the network: none at all (a new namespace with only a downed loopback). `unix_sockets` binds the
  named socket files in, the one way out a caller may open on purpose (a model server's proxy);
- an environment built from `env` only (`--clearenv`); nothing of the caller's leaks in;
- resource limits (CPU s, address space, file size, processes, no core files) set INSIDE the new user
  namespace by `sandbox_exec.py limit`, so RLIMIT_NPROC counts only this sandbox's processes.

API (also used by the harness runner to contain whole harness processes):

    spec = BwrapSpec(cwd=ws, writable=(ws, home), env={"PATH": ..., "HOME": str(home)},
                     limits=RLimits(cpu_s=60), unix_sockets=(proxy_sock,))
    uid = sandbox_uid(); hand_over(ws, home, uid=uid)     # root: a uid of its own; else None
    argv = bwrap_argv(spec, ["node", "harness.js"], run_as=uid)
    subprocess.Popen(argv, start_new_session=True, stdin=DEVNULL, ...)   # kill bwrap = kill all

- a root caller passes `run_as=` a uid of the sandbox's own (`sandbox_uid()`, or `owner_uid(ws)` once
  handed over) after giving it the writable folders (`orchestrator.workspace.sandbox.hand_over`):
  kernel code exempts uid 0 from RLIMIT_NPROC, and a command running as root would own root's files.
  An unprivileged caller passes None.
- `bwrap_works()` probes once whether this machine can start such a sandbox.
- killing the bwrap process (SIGKILL) ends every process inside: its PID namespace dies with it.
- memory and process caps beyond the rlimits (cgroups, the watchdog) are the caller's: see sandbox.py.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_UID = 65534
"""nobody: what a root caller's sandbox runs as when its folders were not handed to a uid of its own."""
SANDBOX_UID_BASE, SANDBOX_UID_RANGE = 1_200_000, 800_000
"""Where each root-run workspace's own uid is drawn from (never uid 0, which RLIMIT_NPROC ignores)."""
LIMITER_IN_SANDBOX = "/run/siliconbench/sandbox_exec.py"
LIMITER = Path(__file__).with_name("sandbox_exec.py")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/alternatives", "/etc/mime.types")
"""What dynamic linking and the allowed tools need of /etc; never passwd, shadow, hosts or ssl keys."""


@dataclass(frozen=True)
class RLimits:
    cpu_s: int = 30
    memory_bytes: int = 2 * 2**30
    """Address space of each process (RLIMIT_AS)."""
    file_bytes: int = 16 * 2**20
    """Largest file a process may write (RLIMIT_FSIZE)."""
    max_procs: int = 64
    """Processes (and threads) of the sandbox's user inside its own user namespace."""
    open_files: int = 256


@dataclass(frozen=True)
class BwrapSpec:
    cwd: Path
    writable: tuple[Path, ...] = ()
    """Folders bound read-write at their own path (the workspace, its home)."""
    read_only: tuple[Path, ...] = ()
    """Extra paths bound read-only at their own path (beyond the system and the Python runtime)."""
    masked: tuple[Path, ...] = ()
    """Paths hidden under an empty tmpfs wherever a bind would expose them."""
    env: Mapping[str, str] = field(default_factory=dict)
    limits: RLimits | None = field(default_factory=RLimits)
    tmp_bytes: int = 64 * 2**20
    """Size of the private tmpfs on /tmp."""
    shm_bytes: int = 16 * 2**20
    unix_sockets: tuple[Path, ...] = ()
    """Socket files bound in (the network namespace stays empty)."""
    python_runtime: bool = True
    """Bind the running Python (base prefix and venv) read-only."""


def python_paths() -> list[Path]:
    """The folders the running interpreter needs: its prefix, its base prefix, its executable's."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent}
    kept = sorted(p for p in paths if not _under_system(p))
    return [p for p in kept if not any(p != q and p.is_relative_to(q) for q in kept)]


def _under_system(path: Path) -> bool:
    return any(path == Path(d) or path.is_relative_to(d) for d in SYSTEM_DIRS if Path(d).exists())


def _system_binds() -> list[str]:
    args: list[str] = []
    for d in SYSTEM_DIRS:
        p = Path(d)
        if p.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(p), d]
        elif p.is_dir():
            args += ["--ro-bind", d, d]
    args += ["--perms", "0755", "--dir", "/etc"]  # reachable by the sandbox's user, holding only these
    for f in ETC_FILES:
        args += ["--ro-bind-try", f, f]
    return args


def _masks(bound: Sequence[Path], masked: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for m in masked:
        m = Path(m).resolve()
        if any(m == b or m.is_relative_to(b) for b in bound) and m.exists():
            if m.is_dir():
                args += ["--tmpfs", str(m), "--remount-ro", str(m)]
            else:
                args += ["--ro-bind", "/dev/null", str(m)]
    return args


class _Parents:
    """Creates the folders above each bind as 0755: bwrap copies the host's modes, and a 0700 /root
    or mkdtemp folder would keep the sandbox's unprivileged user from reaching what is bound below."""

    def __init__(self) -> None:
        self.made = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")} | {Path(d) for d in SYSTEM_DIRS}

    def __call__(self, path: Path) -> list[str]:
        args: list[str] = []
        for parent in reversed(path.parents):
            if parent not in self.made and not any(parent.is_relative_to(d) for d in SYSTEM_DIRS):
                args += ["--perms", "0755", "--dir", str(parent)]
                self.made.add(parent)
        return args


def bwrap_argv(spec: BwrapSpec, command: Sequence[str], run_as: int | None = None,
               bwrap: str | None = None) -> list[str]:
    """The full argv: `bwrap ...options... -- [limiter] command`.

    run_as: None for an unprivileged caller (bwrap makes a user namespace; the limiter sets the rlimits
    inside it). A uid for a root caller (`sandbox_uid()`): bwrap runs privileged, keeps only
    CAP_SETUID/CAP_SETGID for the limiter, which sets the rlimits and becomes that uid before the
    command starts, so the command holds no capability and no root identity.
    """
    exe = bwrap or shutil.which("bwrap") or "bwrap"
    args = [exe, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if run_as is None:
        args.append("--unshare-user")
        if _supports("--disable-userns", exe):
            args.append("--disable-userns")
    else:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    args += ["--hostname", "sandbox", "--clearenv"]
    for key, value in spec.env.items():
        args += ["--setenv", key, value]
    args += _system_binds()
    parents = _Parents()
    ro = [Path(p).resolve() for p in spec.read_only]
    if spec.python_runtime:
        ro += python_paths()
    for p in ro:
        args += parents(p) + ["--ro-bind", str(p), str(p)]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(spec.shm_bytes),
             "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--perms", "1777", "--size", str(spec.tmp_bytes), "--tmpfs", "/tmp"]
    rw = [Path(p).resolve() for p in spec.writable]
    for p in rw:
        args += parents(p) + ["--bind", str(p), str(p)]
    for s in spec.unix_sockets:
        args += parents(Path(s)) + ["--bind", str(s), str(s)]
    args += _masks(ro + rw, spec.masked)
    if spec.limits is not None or run_as is not None:
        args += parents(Path(LIMITER_IN_SANDBOX)) + ["--ro-bind", str(LIMITER), LIMITER_IN_SANDBOX]
    args += ["--chdir", str(Path(spec.cwd).resolve()), "--"]
    if spec.limits is not None or run_as is not None:
        args += limiter_prefix(spec.limits, run_as)
    return args + list(command)


def limiter_prefix(limits: RLimits | None, run_as: int | None = None) -> list[str]:
    """`python -I -S sandbox_exec.py limit SPEC --`: sets the rlimits inside (and drops to `run_as`),
    then execs the command."""
    spec = dict(vars(limits)) if limits is not None else {}
    spec["uid"] = run_as
    return [str(Path(sys.executable).resolve()), "-I", "-S", LIMITER_IN_SANDBOX, "limit", json.dumps(spec), "--"]


def sandbox_uid() -> int | None:
    """A uid for a root caller's sandbox, else None (an ordinary user stays who they are).

    A fresh one from a range no account uses: without a user namespace, RLIMIT_NPROC counts every
    process of that uid on the machine, so sandboxes sharing one (nobody) would eat each other's
    process cap. Give the sandbox's folders to it (`sandbox.hand_over`) and run every command of
    that workspace as their owner (`owner_uid`)."""
    if os.geteuid() != 0:
        return None
    return SANDBOX_UID_BASE + secrets.randbelow(SANDBOX_UID_RANGE)


def owner_uid(folder: Path) -> int | None:
    """The uid a root caller runs a command in `folder` as: its owner, once handed over; else nobody."""
    if os.geteuid() != 0:
        return None
    try:
        owner = os.stat(folder).st_uid
    except OSError:
        return SANDBOX_UID
    return owner if owner != 0 else SANDBOX_UID


@functools.lru_cache(maxsize=4)
def _supports(flag: str, exe: str) -> bool:
    try:
        out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return flag in out.stdout + out.stderr


@functools.lru_cache(maxsize=1)
def bwrap_works() -> tuple[bool, str]:
    """(True, version) when a sandbox with every namespace starts here, else (False, why)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap is not installed (apt-get install bubblewrap, dnf install bubblewrap)"
    spec = BwrapSpec(cwd=Path("/"), limits=RLimits(), env={"PATH": "/usr/bin:/bin"})
    try:
        out = subprocess.run(bwrap_argv(spec, ["/bin/true"], sandbox_uid(), exe), capture_output=True,
                             text=True, timeout=20, stdin=subprocess.DEVNULL)
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"bwrap could not start: {err}"
    if out.returncode != 0:
        why = (out.stderr.strip().splitlines() or ["no message"])[-1]
        return False, f"bwrap cannot create its namespaces here ({why}); user namespaces may be disabled"
    return True, version
