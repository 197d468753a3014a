"""After each model command: what it left in the workspace that no later reader should meet.

FIFOs (a reader blocks for ever), sockets, device nodes, and symbolic links that lead out of the
workspace (`ln -s /proc/self/mem x`, `ln -s / root`) are removed; the command's output says so. Every
later step (tools, the grader's diff, process checks) then meets only files, folders and links that
stay inside. Bounded like the grader's walk; links are never followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_ENTRIES = 20_000


def _leads_out(path: str, root: Path) -> bool:
    try:
        return not Path(path).resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop of links leads nowhere: out
        return True


def remove_special_files(root: Path) -> list[str]:
    """Removes them; returns 'relative/path (kind)' for each."""
    root = root.resolve()
    removed, seen, stack = [], 0, [str(root)]
    while stack and seen <= MAX_ENTRIES:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                    else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "link out of the workspace" if stat.S_ISLNK(mode) and _leads_out(entry.path, root)
                    else None)
            if kind:
                try:
                    os.unlink(entry.path)
                    removed.append(f"{Path(entry.path).relative_to(root).as_posix()} ({kind})")
                except OSError:
                    pass
            elif stat.S_ISDIR(mode):
                stack.append(entry.path)
    return removed


def remove_tree(top: Path) -> None:
    """rmtree that also removes what a model made unremovable (`chmod 000` on a folder), and never raises."""
    import shutil

    try:
        os.chmod(top, 0o700)
    except OSError:
        pass
    for dirpath, dirnames, _ in os.walk(top):  # top-down: each folder is opened up before it is entered
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass
    shutil.rmtree(top, ignore_errors=True)
