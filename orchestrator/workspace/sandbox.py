"""Runs one command of a model's choosing, contained: no shell, limits, scrubbed env, no network.

- argv only (never a shell); cwd is the run's workspace copy;
- CPU time, address space, file size and core limits; a process cap (a pids cgroup when running as
  root on Linux, where RLIMIT_NPROC does not bind; RLIMIT_NPROC otherwise);
- an environment built from scratch: nothing of the caller's (API keys, tokens) leaks in;
- no network and a read-only filesystem outside the workspace: fresh network and mount namespaces
  on Linux as root; elsewhere Python's sockets are disabled through a sitecustomize (the read-only
  commands allowed besides Python do not use the network) and the limits still hold;
- a wall-clock timeout and an output cap enforced while reading, after which the whole process group
  (and cgroup) is killed, so an infinite loop or 100 MB of output cannot hold the run.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

EXEC_WRAPPER = str(Path(__file__).with_name("sandbox_exec.py"))
SOCKET_BLOCKER = str(Path(__file__).with_name("sandbox_site"))
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")


@dataclass
class Limits:
    timeout_s: float = 30.0
    cpu_s: int = 30
    memory_bytes: int = 2 * 2**30
    file_bytes: int = 16 * 2**20
    max_procs: int = 64
    output_bytes: int = 16 * 1024


@dataclass
class SandboxResult:
    exit_code: int | None
    output: str
    timed_out: bool = False
    cut: bool = False


def _pids_cgroup(max_procs: int) -> Path | None:
    if os.geteuid() != 0 or not PIDS_CGROUP_ROOT.is_dir():
        return None
    group = PIDS_CGROUP_ROOT / "siliconbench" / uuid.uuid4().hex[:12]
    try:
        group.mkdir(parents=True)
        (group / "pids.max").write_text(str(max_procs))
    except OSError:
        return None
    return group


def _kill_cgroup(group: Path | None) -> None:
    if group is None:
        return
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
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    try:
        group.rmdir()
    except OSError:
        pass


def scrubbed_env(home: Path, network_blocked_by_namespace: bool) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1", "COLUMNS": "80",
        # Plugins installed beside siliconbench would make output depend on the machine, and loading
        # them costs ~2 s a run: the fixtures need plain pytest.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    if not network_blocked_by_namespace:
        env["PYTHONPATH"] = SOCKET_BLOCKER
    return env


def run_contained(argv: list[str], cwd: Path, home: Path, limits: Limits | None = None) -> SandboxResult:
    limits = limits or Limits()
    group = _pids_cgroup(limits.max_procs)
    in_namespace = group is not None and sys.platform.startswith("linux")
    spec = {"cpu_s": limits.cpu_s, "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
            "max_procs": limits.max_procs, "cgroup_procs": str(group / "cgroup.procs") if group else None,
            "isolate": in_namespace, "writable": [str(Path(cwd).resolve()), str(Path(home).resolve())]}
    proc = subprocess.Popen([sys.executable, EXEC_WRAPPER, json.dumps(spec), "--", *argv], cwd=cwd,
                            env=scrubbed_env(home, in_namespace), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    chunks: list[bytes] = []
    size, timed_out, cut = 0, False, False
    deadline = time.monotonic() + limits.timeout_s
    fd = proc.stdout.fileno()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
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
    finally:
        if timed_out or cut:
            _kill_group(proc.pid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
        _kill_group(proc.pid)  # children left behind in the session
        _kill_cgroup(group)
        proc.stdout.close()
    output = b"".join(chunks)[: limits.output_bytes].decode("utf-8", errors="replace")
    return SandboxResult(None if timed_out else proc.returncode, output, timed_out, cut)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
