"""Shared pieces of the hostile suites: a prelude for attack scripts, and running the driver as root
and as an unprivileged user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers.as_user import can_drop, run_as_user

DRIVER = Path(__file__).with_name("hostile_driver.py")
SECRET_NAME = "SILICONBENCH_TEST_SECRET"

PRELUDE = '''import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, fn):
    """Prints ESCAPED when fn returns something truthy (it got what it wanted), else BLOCKED."""
    try:
        got = fn()
    except BaseException as err:
        print(f"BLOCKED:{name}:{type(err).__name__}", flush=True)
        return
    print(f"ESCAPED:{name}:{str(got)[:120]}" if got else f"BLOCKED:{name}:nothing", flush=True)
def check(ret):
    if ret != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return True
'''

WHO = ["as_caller", "as_user"]


def run_cases(who: str, cases: list[dict], timeout_s: float = 600, tmpdir: Path | None = None) -> dict[str, dict]:
    """Results by case id; the driver runs as this process's user, or dropped to an unprivileged one."""
    if who == "as_user" and not can_drop():
        pytest.skip("dropping to an unprivileged user needs root (CI runs as root); this run is that user already")
    spec = Path(tempfile.mkstemp(prefix="sb-cases-", suffix=".json")[1])
    spec.write_text(json.dumps(cases))
    os.chmod(spec, 0o644)
    env = {SECRET_NAME: "hunter2-do-not-leak"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    try:
        argv = [sys.executable, str(DRIVER), str(spec)]
        if who == "as_user":
            done = run_as_user(argv, timeout_s, env)
        else:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **env})
    finally:
        spec.unlink()
    assert done.returncode == 0, f"the driver died (the benchmark would have): {done.stderr[-3000:]}"
    data = json.loads(done.stdout)
    assert (data["uid"] != 0) == (who == "as_user" or os.geteuid() != 0)
    return {c["id"]: c for c in data["cases"]}


def outputs(result: dict) -> str:
    return "\n".join(r for r in result["results"] if r)


def assert_all_blocked(result: dict, expected: list[str]) -> None:
    """Every named attempt ran and was blocked; nothing escaped; no exception left the tools."""
    text = outputs(result)
    assert not result["errors"], result["errors"]
    assert "ESCAPED:" not in text, text
    for name in expected:
        assert f"BLOCKED:{name}:" in text, f"attempt {name} never ran: {text}"
