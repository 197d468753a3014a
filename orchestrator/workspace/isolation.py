"""Which isolation this machine gives model commands, and whether the user allowed running without one.

bwrap on Linux, seatbelt (sandbox-exec) on macOS, else none. With none, model commands are refused
unless the user passed --unsafe-no-sandbox (or set SILICONBENCH_UNSAFE_NO_SANDBOX=1, which is how the
flag reaches child processes); every results folder records which one ran (`describe()`).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from dataclasses import dataclass

UNSAFE_ENV = "SILICONBENCH_UNSAFE_NO_SANDBOX"


@dataclass(frozen=True)
class Isolation:
    name: str
    """bwrap, seatbelt or none."""
    detail: str
    unsafe_allowed: bool

    @property
    def usable(self) -> bool:
        return self.name != "none" or self.unsafe_allowed

    @property
    def refusal(self) -> str:
        return (f"no sandbox on this machine ({self.detail}): model commands are not run; install bubblewrap "
                "(Linux) or run on macOS, or pass --unsafe-no-sandbox to run them uncontained")


def allow_unsafe(allowed: bool = True) -> None:
    """The --unsafe-no-sandbox flag: run model commands even with no sandbox (rlimits and timeout only)."""
    if allowed:
        os.environ[UNSAFE_ENV] = "1"
    else:
        os.environ.pop(UNSAFE_ENV, None)


@functools.lru_cache(maxsize=1)
def detect() -> tuple[str, str]:
    """(name, detail) of the best isolation this machine can start, probed once."""
    if sys.platform.startswith("linux"):
        from orchestrator.workspace.bwrap import bwrap_works, sandbox_uid

        ok, detail = bwrap_works()
        if ok:
            who = "each workspace's commands run as a uid of its own" if sandbox_uid() is not None else "commands run as this user"
            return "bwrap", f"{detail}; {who}"
        return "none", detail
    if sys.platform == "darwin":
        from orchestrator.workspace.seatbelt import seatbelt_works

        ok, detail = seatbelt_works()
        return ("seatbelt", detail) if ok else ("none", detail)
    return "none", f"no sandbox known for {sys.platform}"


def current_isolation() -> Isolation:
    name, detail = detect()
    return Isolation(name, detail, os.environ.get(UNSAFE_ENV) == "1")


def describe() -> dict:
    """What a results folder records about the isolation its runs had."""
    iso = current_isolation()
    from orchestrator.workspace import cgroups

    return {"isolation": iso.name if iso.name != "none" else ("none (unsafe)" if iso.unsafe_allowed else "none"),
            "detail": iso.detail, "unsafe_no_sandbox": iso.unsafe_allowed and iso.name == "none",
            "cgroup": cgroups.probe() if iso.name == "bwrap" else "none"}


def which_sandbox_exec() -> str | None:
    return shutil.which("sandbox-exec") or (os.path.exists("/usr/bin/sandbox-exec") and "/usr/bin/sandbox-exec") or None


def require_isolation(unsafe_no_sandbox: bool = False) -> Isolation:
    """Before a run starts: the isolation it will have, or one line saying why it cannot start."""
    from orchestrator.errors import UserError

    if unsafe_no_sandbox:
        allow_unsafe(True)
    iso = current_isolation()
    if not iso.usable:
        raise UserError(iso.refusal)
    return iso
