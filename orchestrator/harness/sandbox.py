"""The whole harness inside bubblewrap, with a bridge to the metering proxy as its only way out.

The sandbox itself is orchestrator/workspace/bwrap.py's (the same one raw runs' commands get): no
network, a pid namespace of its own (killing bwrap kills every process of the harness), nothing of
the user's home, credentials, the project tree or other workspaces. What this module adds for a
harness: its install folder read-only, the workspace copy and a fresh state folder writable, the
proxy's unix socket bound in, limits a Node or Bun program can live with, and bridge.py in front of
the harness, listening on the sandbox's loopback and leading to that socket.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from orchestrator.errors import UserError
from orchestrator.taskdef import TASKS_DIR
from orchestrator.workspace.bwrap import BwrapSpec, RLimits, bwrap_argv, sandbox_uid
from orchestrator.workspace.sandbox import hand_over

BRIDGE = Path(__file__).with_name("bridge.py")
HARNESS_UID = 65533
BRIDGE_PORT = 8808
"""Loopback port of the bridge inside the sandbox (its network namespace is its own: any port is free)."""


def harness_limits(wall_s: float) -> RLimits:
    """Node and Bun reserve tens of GB of address space and run many threads: the raw-command limits
    would kill them at start. The wall clock and the pid namespace are what bound a harness."""
    return RLimits(cpu_s=int(wall_s) + 60, memory_bytes=2**40, file_bytes=256 * 2**20, max_procs=1024,
                   open_files=4096)


def install_root(executable: Path) -> Path:
    """The folder to expose for an installed program: its npm package, its venv, or its own folder."""
    real = executable.resolve()
    parts = real.parts
    if "node_modules" in parts:
        i = len(parts) - 1 - parts[::-1].index("node_modules")
        scoped = parts[i + 1].startswith("@")  # @scope/name is one folder deeper
        return Path(*parts[: i + (3 if scoped else 2)])
    if real.parent.name == "bin" and (real.parent.parent / "pyvenv.cfg").exists():
        return real.parent.parent
    return real.parent


def harness_uid() -> int | None:
    """A root caller runs harnesses as a uid of their own, not nobody: a harness's many threads would
    otherwise count against the process cap of every raw command sandbox running beside it."""
    return None if sandbox_uid() is None else HARNESS_UID


def _hand_over(*paths: Path) -> None:
    """Give the harness's uid the folders it must write (nothing to do when not root)."""
    uid = harness_uid()
    if uid is not None:
        hand_over(*paths, uid=uid)


def harness_argv(command: list[str], env: dict[str, str], workdir: Path, state: Path, socket_path: Path,
                 executable: Path, wall_s: float) -> list[str]:
    if shutil.which("bwrap") is None:
        raise UserError("harness runs need bubblewrap to contain the harness and its commands: install it with "
                        "`apt-get install bubblewrap` (Linux; macOS is not supported yet)")
    uid = harness_uid()
    _hand_over(workdir, state)
    if uid is not None:
        os.chmod(socket_path, 0o666)  # the harness is not root; the socket's folder is root's own (0700)
    # The bridge runs from the state folder: binding it where it lives would show the project's path.
    bridge_copy = state / ".siliconbench-bin" / BRIDGE.name
    bridge_copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BRIDGE, bridge_copy)
    _hand_over(bridge_copy.parent)
    spec = BwrapSpec(cwd=workdir, writable=(workdir, state), read_only=(install_root(executable),),
                     masked=(TASKS_DIR,), env=env, limits=harness_limits(wall_s), unix_sockets=(socket_path,),
                     tmp_bytes=512 * 2**20)
    bridge = [str(Path(sys.executable).resolve()), "-I", str(bridge_copy), str(socket_path), str(BRIDGE_PORT), "--"]
    return bwrap_argv(spec, bridge + command, run_as=uid)
