"""The limiter (sandbox_exec.py), the first program inside every sandbox, run for real without bwrap:
it sets each rlimit, forbids core files, leaves root for good when told a uid, joins the cgroups it is
given before the command starts, and execs the command in its own process. Also the best-effort site
of --unsafe-no-sandbox: no Internet socket can be made there."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from orchestrator.workspace.bwrap import LIMITER
from orchestrator.workspace.sandbox import UNSAFE_SITE, Limits, SandboxResult, run_contained
from tests.helpers.sandbox_fixtures import dirs, py, unsafe  # noqa: F401 (fixtures)

LIMITS_PRINTER = ("import resource as r, os\n"
                  "print(os.getpid(), [r.getrlimit(k) for k in (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_FSIZE, "
                  "r.RLIMIT_NPROC, r.RLIMIT_NOFILE, r.RLIMIT_CORE)])\n")


def _allow_core_files() -> None:
    """Start from a machine that would write core files, so turning them off is seen."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (2**20 if hard == resource.RLIM_INFINITY else hard, hard))


def limiter(mode: str, spec, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-S", str(LIMITER), mode, json.dumps(spec), "--", *command],
                          capture_output=True, text=True, timeout=60, preexec_fn=_allow_core_files)


def test_every_limit_is_set_soft_and_hard_and_core_files_are_off():
    spec = {"cpu_s": 9, "memory_bytes": 3 * 2**30, "file_bytes": 5 * 2**20, "max_procs": 77, "open_files": 99,
            "uid": None}
    out = limiter("limit", spec, sys.executable, "-c", LIMITS_PRINTER)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(" ", 1)[1] == str([(9, 9), (3 * 2**30, 3 * 2**30), (5 * 2**20, 5 * 2**20), (77, 77),
                                               (99, 99), (0, 0)]) + "\n"


def test_a_limit_left_null_is_left_as_it_was():
    import resource

    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    out = limiter("limit", {"cpu_s": 9, "open_files": None}, sys.executable, "-c", LIMITS_PRINTER)
    got = eval(out.stdout.split(" ", 1)[1])
    assert got[0] == (9, 9) and got[4] == before and got[5] == (0, 0)


def test_the_command_replaces_the_limiter_in_the_same_process(tmp_path):
    procs = [tmp_path / "memory.procs", tmp_path / "pids.procs"]
    out = limiter("join", [str(p) for p in procs], sys.executable, "-c", "import os; print(os.getpid())")
    assert out.returncode == 0, out.stderr
    pid = out.stdout.strip()
    assert [p.read_text() for p in procs] == [pid, pid]  # the command itself is in each group


@pytest.mark.skipif(os.geteuid() != 0, reason="leaving root needs root")
def test_a_root_caller_leaves_root_for_good_with_no_groups():
    # a system program: this Python may sit below a folder only root can enter
    out = limiter("limit", {"uid": 4242}, "/bin/grep", "-E", "^(Uid|Gid|Groups|CapEff):", "/proc/self/status")
    assert out.returncode == 0, out.stderr
    status = dict(line.split(":", 1) for line in out.stdout.splitlines())
    assert status["Uid"].split() == ["4242"] * 4 and status["Gid"].split() == ["4242"] * 4
    assert status["Groups"].split() == [] and int(status["CapEff"], 16) == 0


def test_a_missing_command_exits_127_and_a_bad_call_exits_2():
    missing = limiter("limit", {}, "/no/such/program")
    assert missing.returncode == 127 and "/no/such/program" in missing.stderr
    bad = subprocess.run([sys.executable, "-I", "-S", str(LIMITER), "limit", "{}", "true"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("usage:")
    other = subprocess.run([sys.executable, "-I", "-S", str(LIMITER), "escape", "{}", "--", "true"],
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 2


def test_without_a_sandbox_python_commands_cannot_open_an_internet_socket():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    code = ("import socket\n"
            "for make in (lambda: socket.create_connection(('127.0.0.1', PORT), timeout=2),\n"
            "             lambda: socket.socket(socket.AF_INET6), lambda: socket.socket()):\n"
            "    try:\n        make()\n        print('OPEN')\n    except OSError as e:\n        print('blocked')\n"
            "print('unix', socket.socket(socket.AF_UNIX).family == socket.AF_UNIX)\n").replace("PORT", str(port))
    with listener:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", "PYTHONPATH": UNSAFE_SITE})
        assert out.stdout == "blocked\nblocked\nblocked\nunix True\n", out.stderr
        with pytest.raises((TimeoutError, socket.timeout)):
            listener.accept()


def test_a_command_that_closes_its_output_and_lingers_is_killed_not_waited_on(dirs, unsafe):
    ws, home = dirs
    started = time.monotonic()
    result = run_contained(py("import os, time\nos.close(1)\nos.close(2)\ntime.sleep(60)\n"), ws, home,
                           Limits(timeout_s=30))
    assert time.monotonic() - started < 25  # 5 s of grace, then the group is killed
    assert result == SandboxResult(-9, "")


