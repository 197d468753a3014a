"""Runs one command of a model's choosing, contained by the platform's sandbox, bounded, never a shell.

- Linux: bubblewrap (bwrap.py): new user/PID/mount/network/IPC/UTS namespaces, only the workspace and
  its home writable, a private size-limited /tmp, read-only binds of just the system and the Python
  runtime, no capabilities; a root caller's commands run as nobody. macOS: Seatbelt (seatbelt.py):
  no network, no writes outside the workspace, no reads of the user's home. Neither: model commands
  are refused unless the user passed --unsafe-no-sandbox (then only rlimits and a timeout hold, and
  the results say so).
- limits: rlimits inside the sandbox (CPU s, address space, file size, processes, open files, no core),
  a memory and process cgroup where this machine lets us make one, and a watchdog here that kills the
  sandbox when its processes together hold more than `total_memory_bytes` or its workspace grows past
  `disk_bytes` / `max_files`;
- a wall-clock timeout and an output cap enforced while reading; then the sandbox is killed: its
  PID namespace takes every process with it, whatever `setsid` or double forks it tried.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.workspace import cgroups
from orchestrator.workspace.bwrap import LIMITER, BwrapSpec, RLimits, bwrap_argv, limiter_prefix, owner_uid
from orchestrator.workspace.isolation import current_isolation
from orchestrator.workspace.watchdog import Watchdog

UNSAFE_SITE = str(Path(__file__).with_name("sandbox_site"))


@dataclass
class Limits:
    timeout_s: float = 30.0
    cpu_s: int = 30
    memory_bytes: int = 2 * 2**30
    """Address space of one process."""
    total_memory_bytes: int = 2 * 2**30
    """Resident memory of all the sandbox's processes together."""
    file_bytes: int = 16 * 2**20
    max_procs: int = 64
    output_bytes: int = 16 * 1024
    disk_bytes: int = 256 * 2**20
    """Growth of the workspace (and its home) during one command."""
    max_files: int = 20_000
    """Files and folders the workspace may hold after a command."""
    tmp_bytes: int = 64 * 2**20


@dataclass
class SandboxResult:
    exit_code: int | None
    output: str
    timed_out: bool = False
    cut: bool = False
    stopped: str | None = None
    """Why the watchdog killed it (memory, disk, files), or None."""
    refused: bool = False
    """No sandbox here and --unsafe-no-sandbox not given: nothing ran."""


def hand_over(*paths: Path, uid: int | None = None) -> None:
    """A root caller's sandbox runs as a uid of its own: give it the folders it must write (links are
    never followed). `uid` None: the owner of the first path's folder (a file added to a workspace)."""
    if os.geteuid() != 0:
        return
    if uid is None:
        uid = owner_uid(Path(paths[0]).parent)
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                try:
                    os.lchown(name, uid, uid)
                except OSError:
                    pass
        if not os.path.isdir(top):
            try:
                os.lchown(top, uid, uid)
            except OSError:
                pass


def scrubbed_env(home: Path, tmp: str = "/tmp") -> dict[str, str]:
    """Built from scratch: nothing of the caller's (API keys, tokens) reaches a command."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home), "TMPDIR": tmp, "USER": "sandbox", "LOGNAME": "sandbox",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1",
        "NO_COLOR": "1", "COLUMNS": "80",
        # Plugins installed beside siliconbench would make output depend on the machine, and loading
        # them costs ~2 s a run: the fixtures need plain pytest.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def _masked() -> tuple[Path, ...]:
    """What a bind of the Python runtime must never expose: the installed tasks (hidden tests,
    reference trajectories), the project tree, the caller's home."""
    from orchestrator.taskdef import TASKS_DIR

    project = Path(__file__).resolve().parents[2]
    return (TASKS_DIR, project / "tasks", project / "orchestrator", project / "tests", Path.home())


def _rlimits(limits: Limits) -> RLimits:
    return RLimits(cpu_s=limits.cpu_s, memory_bytes=limits.memory_bytes, file_bytes=limits.file_bytes,
                   max_procs=limits.max_procs)


def _command(argv: list[str], cwd: Path, home: Path, limits: Limits, isolation: str,
             cap: cgroups.CgroupCap) -> tuple[list[str], dict[str, str]]:
    env = scrubbed_env(home)
    if isolation == "bwrap":
        spec = BwrapSpec(cwd=cwd, writable=(cwd, home), masked=_masked(), env=env, limits=_rlimits(limits),
                         tmp_bytes=limits.tmp_bytes)
        full = bwrap_argv(spec, argv, run_as=owner_uid(cwd))
        if cap.groups:  # join the cgroup before bwrap forks anything, then become bwrap
            full = [sys.executable, "-I", "-S", str(LIMITER), "join", json.dumps(cap.procs_files), "--", *full]
        return full, {}
    if isolation == "seatbelt":
        from orchestrator.workspace.seatbelt import sandbox_exec_argv

        env["TMPDIR"] = str(home)
        prefix = limiter_prefix(_rlimits(limits))
        prefix[3] = str(LIMITER)  # no bind on macOS: the limiter runs from where it lies
        return sandbox_exec_argv([cwd, home], [*prefix, *argv], readable=[LIMITER], masked=_masked()[:-1]), env
    env["TMPDIR"] = str(home)
    env["PYTHONPATH"] = UNSAFE_SITE  # best effort only: Python's sockets refuse the network
    prefix = limiter_prefix(_rlimits(limits))
    prefix[3] = str(LIMITER)
    return [*prefix, *argv], env


def run_contained(argv: list[str], cwd: Path, home: Path, limits: Limits | None = None) -> SandboxResult:
    limits = limits or Limits()
    iso = current_isolation()
    if not iso.usable:
        return SandboxResult(None, f"error: {iso.refusal}", refused=True)
    cap = cgroups.create(limits.total_memory_bytes, limits.max_procs) if iso.name == "bwrap" else cgroups.CgroupCap()
    try:
        full, env = _command(argv, Path(cwd), Path(home), limits, iso.name, cap)
        proc = subprocess.Popen(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as err:
        cap.kill_and_remove()
        return SandboxResult(None, f"error: the sandbox could not start ({err.strerror or err})")
    watchdog = Watchdog(proc.pid, [Path(cwd), Path(home)], limits)
    chunks, timed_out, cut, stopped = [], False, False, "error"
    try:
        chunks, timed_out, cut, stopped = _read(proc, limits, watchdog)
    finally:
        _kill(proc, cap, force=timed_out or cut or stopped is not None)
    output = b"".join(chunks)[: limits.output_bytes].decode("utf-8", errors="replace")
    ended = timed_out or stopped is not None
    return SandboxResult(None if ended else proc.returncode, output, timed_out, cut, stopped)


def _read(proc: subprocess.Popen, limits: Limits, watchdog: Watchdog):
    chunks: list[bytes] = []
    size, timed_out, cut, stopped = 0, False, False, None
    deadline = time.monotonic() + limits.timeout_s
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], min(left, Watchdog.PERIOD_S))
        stopped = watchdog.check()
        if stopped:
            break
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
        size += len(data)
        if size > limits.output_bytes:
            cut = True
            break
    return chunks, timed_out, cut, stopped


def _kill(proc: subprocess.Popen, cap: cgroups.CgroupCap, force: bool) -> None:
    """Everything the command started ends here: bwrap's PID namespace dies with bwrap, the session
    group catches the rest (unsafe mode), the cgroup is emptied and removed."""
    if force:
        _kill_group(proc.pid)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
    _kill_group(proc.pid)  # children left behind in the session
    cap.kill_and_remove()
    proc.stdout.close()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

