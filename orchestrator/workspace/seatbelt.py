"""The macOS sandbox: a Seatbelt profile for `sandbox-exec`, generated per command, as Codex CLI and
Claude Code's sandbox runtime do (Apple's own tools still use it, deprecated name notwithstanding).

The profile denies by default, then allows: running programs and forking; reading the system (but
nothing of the user's home except the Python runtime and the workspace); writing only the workspace
folders, /dev/null and the terminals; signals only within the sandbox; no network at all (no
`network*` rule is allowed, and one deny says so). Rules are evaluated last-match-wins, so each
allow after the home deny re-opens exactly one folder. Paths are passed as `-D` parameters, never
pasted into the profile text, so no quote in a path can change a rule.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

SANDBOX_EXEC = "/usr/bin/sandbox-exec"

BASE_RULES = """(version 1)
(deny default)
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
(allow sysctl-read)
(allow file-read-metadata)
(allow file-read*)
(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))
(allow ipc-posix-sem)
(allow ipc-posix-shm-read-data ipc-posix-shm-write-data ipc-posix-shm-write-create)
(allow file-write-data (literal "/dev/null") (literal "/dev/zero") (regex #"^/dev/tty"))
(allow file-ioctl (literal "/dev/null") (literal "/dev/zero") (regex #"^/dev/tty"))
(deny network*)
"""


def _param_rules(action: str, names: Sequence[str]) -> str:
    if not names:
        return ""
    paths = " ".join(f'(subpath (param "{n}"))' for n in names)
    return f"({action} {paths})\n"


def _named(prefix: str, paths: Sequence[Path], params: dict[str, str]) -> list[str]:
    names = []
    for i, p in enumerate(paths):
        params[f"{prefix}_{i}"] = str(Path(p).resolve())
        names.append(f"{prefix}_{i}")
    return names


def profile(writable: Sequence[Path], home: Path | None, readable: Sequence[Path],
            masked: Sequence[Path] = ()) -> tuple[str, dict[str, str]]:
    """(profile text, -D parameters). Writes: `writable` only. Reads: everything but `home` and
    `masked` (the installed tasks, the project's code), except `readable` and `writable`.

    The order is the same whether Seatbelt settles a conflict by the last rule or by the most
    specific one: each re-opening comes after, and lies deeper than, what it re-opens."""
    params: dict[str, str] = {}
    text = BASE_RULES
    if home is not None:
        params["HOME_DIR"] = str(Path(home).resolve())
        text += _param_rules("deny file-read*", ["HOME_DIR"])
    text += _param_rules("deny file-read*", _named("MASK", masked, params))
    text += _param_rules("allow file-read*", _named("READ", readable, params))
    write_names = _named("WRITE", writable, params)
    text += _param_rules("allow file-read*", write_names)
    text += _param_rules("allow file-write*", write_names)
    return text, params


def runtime_paths() -> list[Path]:
    """What commands need to read: the Python runtime (often under the home: pyenv, a venv, uv)."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent}
    return sorted(paths)


def sandbox_exec_argv(writable: Sequence[Path], command: Sequence[str], readable: Sequence[Path] = (),
                      masked: Sequence[Path] = ()) -> list[str]:
    """`/usr/bin/sandbox-exec -p PROFILE -D ... command` (never a sandbox-exec found on PATH)."""
    text, params = profile(writable, Path.home(), [*runtime_paths(), *readable], masked)
    argv = [SANDBOX_EXEC, "-p", text]
    for key, value in params.items():
        argv += ["-D", f"{key}={value}"]
    return argv + list(command)


@functools.lru_cache(maxsize=1)
def seatbelt_works() -> tuple[bool, str]:
    if not os.path.exists(SANDBOX_EXEC):
        return False, f"{SANDBOX_EXEC} is missing"
    try:
        out = subprocess.run(sandbox_exec_argv([Path("/tmp")], ["/usr/bin/true"]), capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"sandbox-exec could not start: {err}"
    if out.returncode != 0:
        return False, f"sandbox-exec refused the profile: {out.stderr.strip()[-200:]}"
    return True, "Seatbelt (sandbox-exec), generated profile"
