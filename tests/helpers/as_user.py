"""Runs a command as an unprivileged user from a root test process (CI runs as root).

`setpriv` drops to a uid with no capabilities and no groups. The Python runtime may sit below a folder
only root can enter (pyenv under /root, mode 0700): the command then runs in a private mount
namespace where that folder is replaced by an empty, enterable one holding only the bind-mounted
path below it. Nothing else changes: the project tree, /tmp and the kernel's rules are the host's, so
bubblewrap meets exactly what an ordinary user's siliconbench would.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

TEST_UID = 4242


def can_drop() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("setpriv", "unshare", "mount"))


def _locked_ancestor(path: Path) -> tuple[Path, Path] | None:
    """(the first folder others cannot enter, its child on the way to `path`), or None."""
    for parent in reversed(path.parents):
        if parent == Path("/"):
            continue
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent, parent / path.relative_to(parent).parts[0]
    return None


def user_command(argv: list[str], home: Path) -> list[str]:
    """argv run as TEST_UID, with HOME=home (owned by that user)."""
    shims = []
    for need in {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(__file__).resolve()}:
        found = _locked_ancestor(need)
        if found and found not in shims:
            shims.append(found)
    script = ["set -e"]
    for i, (locked, child) in enumerate(shims):
        keep = f"/tmp/sb-as-user-{os.getpid()}-{i}"
        script += [f"mkdir -p {keep}", f"mount --bind {shlex.quote(str(child))} {keep}",
                   f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(str(locked))}",
                   f"mkdir -p {shlex.quote(str(child))}", f"mount --move {keep} {shlex.quote(str(child))}"]
    env = f"env -i PATH=/usr/local/bin:/usr/bin:/bin HOME={shlex.quote(str(home))} LANG=C.UTF-8"
    script.append(f"exec setpriv --reuid {TEST_UID} --regid {TEST_UID} --clear-groups --inh-caps=-all "
                  f"--bounding-set=-all {env} " + " ".join(shlex.quote(a) for a in argv))
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", "\n".join(script)]


def run_as_user(argv: list[str], timeout_s: float, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    home = Path(tempfile.mkdtemp(prefix="sb-user-home-"))
    os.chown(home, TEST_UID, TEST_UID)
    try:
        if extra_env:
            argv = ["env", *(f"{k}={v}" for k, v in extra_env.items()), *argv]
        return subprocess.run(user_command(argv, home), capture_output=True, text=True, timeout=timeout_s)
    finally:
        shutil.rmtree(home, ignore_errors=True)
