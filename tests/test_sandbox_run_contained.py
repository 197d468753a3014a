"""run_contained's own duties, fast: the command line it builds for each isolation (bwrap, Seatbelt,
none), the environment built from scratch, the rlimits really set by the limiter, the wall-clock
timeout, the output cap, the watchdog's stops, the refusal without a sandbox, every process of the
command gone afterwards, and the folders a root caller hands to the sandbox's uid.

The commands here run with isolation "none" under --unsafe-no-sandbox (the limiter, the reading loop,
the watchdog and the killing are the same code as under bwrap, without bwrap's start-up cost); what
bubblewrap itself contains is tested for real in test_sandbox_escapes.py and test_sandbox_hostile.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.taskdef import TASKS_DIR
from orchestrator.workspace import cgroups, isolation, sandbox, seatbelt
from orchestrator.workspace.bwrap import LIMITER, LIMITER_IN_SANDBOX, BwrapSpec, RLimits, owner_uid
from orchestrator.workspace.sandbox import UNSAFE_SITE, Limits, SandboxResult, run_contained, scrubbed_env
from tests.helpers.sandbox_fixtures import dirs, py, unsafe  # noqa: F401 (fixtures)

PROJECT = Path(__file__).resolve().parent.parent


def test_the_default_limits():
    assert vars(Limits()) == {"timeout_s": 30.0, "cpu_s": 30, "memory_bytes": 2 * 2**30,
                              "total_memory_bytes": 2 * 2**30, "file_bytes": 16 * 2**20, "max_procs": 64,
                              "output_bytes": 16 * 1024, "disk_bytes": 256 * 2**20, "max_files": 20_000,
                              "tmp_bytes": 64 * 2**20}


def test_a_result_is_neither_stopped_nor_refused_unless_said():
    assert vars(SandboxResult(0, "x")) == {"exit_code": 0, "output": "x", "timed_out": False, "cut": False,
                                           "stopped": None, "refused": False}


def test_the_environment_is_built_from_scratch(tmp_path):
    assert scrubbed_env(tmp_path) == {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path), "TMPDIR": "/tmp", "USER": "sandbox", "LOGNAME": "sandbox",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1",
        "NO_COLOR": "1", "COLUMNS": "80", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    assert scrubbed_env(tmp_path, tmp="/x")["TMPDIR"] == "/x"


def test_a_bind_of_the_runtime_never_exposes_tasks_project_or_home():
    assert sandbox._masked() == (TASKS_DIR, PROJECT / "tasks", PROJECT / "orchestrator", PROJECT / "tests",
                                 Path.home())


def test_each_limit_reaches_the_limiter_under_its_own_name():
    limits = Limits(cpu_s=1, memory_bytes=2, file_bytes=3, max_procs=4, total_memory_bytes=5, disk_bytes=6)
    assert sandbox._rlimits(limits) == RLimits(cpu_s=1, memory_bytes=2, file_bytes=3, max_procs=4, open_files=256)


def test_under_bwrap_the_sandbox_gets_the_workspace_and_home_writable_and_the_limits(dirs, monkeypatch):
    ws, home = dirs
    seen = {}
    monkeypatch.setattr(sandbox, "bwrap_argv", lambda spec, argv, run_as: seen.update(spec=spec, argv=argv,
                                                                                      run_as=run_as) or ["BWRAP", *argv])
    limits = Limits(cpu_s=3, tmp_bytes=4321)
    full, env = sandbox._command(["ls"], ws, home, limits, "bwrap", cgroups.CgroupCap())
    assert full == ["BWRAP", "ls"] and env == {}
    assert seen["spec"] == BwrapSpec(cwd=ws, writable=(ws, home), masked=sandbox._masked(), env=scrubbed_env(home),
                                     limits=sandbox._rlimits(limits), tmp_bytes=4321)
    assert seen["run_as"] == owner_uid(ws) and seen["argv"] == ["ls"]


def test_under_bwrap_with_a_cgroup_the_limiter_joins_it_before_bwrap_starts(dirs, monkeypatch):
    ws, home = dirs
    monkeypatch.setattr(sandbox, "bwrap_argv", lambda spec, argv, run_as: ["BWRAP", *argv])
    cap = cgroups.CgroupCap([Path("/cg/memory/g"), Path("/cg/pids/g")], "v1")
    full, env = sandbox._command(["ls"], ws, home, Limits(), "bwrap", cap)
    assert full == [sys.executable, "-I", "-S", str(LIMITER), "join",
                    json.dumps(["/cg/memory/g/cgroup.procs", "/cg/pids/g/cgroup.procs"]), "--", "BWRAP", "ls"]
    assert env == {}


def test_the_real_bwrap_command_line_holds_the_workspace_and_the_limits(dirs):
    ws, home = dirs
    limits = Limits(cpu_s=3, memory_bytes=1000, file_bytes=2000, max_procs=5, tmp_bytes=4321)
    full, _ = sandbox._command(["ls"], ws, home, limits, "bwrap", cgroups.CgroupCap())
    opts = full[:full.index("--")]
    binds = [(opts[i + 1], opts[i + 2]) for i, a in enumerate(opts) if a == "--bind"]
    assert binds == [(str(ws.resolve()), str(ws.resolve())), (str(home.resolve()), str(home.resolve()))]
    assert opts[opts.index("/tmp", opts.index("--proc")) - 3:opts.index("/tmp", opts.index("--proc"))] == [
        "--size", "4321", "--tmpfs"]
    after = full[full.index("--") + 1:]
    assert after[3:5] == [LIMITER_IN_SANDBOX, "limit"] and after[-2:] == ["--", "ls"]
    assert json.loads(after[5]) == {"cpu_s": 3, "memory_bytes": 1000, "file_bytes": 2000, "max_procs": 5,
                                    "open_files": 256, "uid": owner_uid(ws)}
    assert {"--unshare-net", "--unshare-pid", "--clearenv"} <= set(opts)


def test_under_seatbelt_the_workspace_and_home_are_writable_and_the_limiter_readable(dirs, monkeypatch):
    ws, home = dirs
    seen = {}

    def fake_argv(writable, command, readable=(), masked=()):
        seen.update(writable=writable, command=command, readable=readable, masked=masked)
        return ["SANDBOX-EXEC", *command]

    monkeypatch.setattr(seatbelt, "sandbox_exec_argv", fake_argv)
    limits = Limits(cpu_s=3)
    full, env = sandbox._command(["ls"], ws, home, limits, "seatbelt", cgroups.CgroupCap())
    prefix = sandbox.limiter_prefix(sandbox._rlimits(limits))
    prefix[3] = str(LIMITER)
    assert full == ["SANDBOX-EXEC", *prefix, "ls"]
    assert seen == {"writable": [ws, home], "command": [*prefix, "ls"], "readable": [LIMITER],
                    "masked": sandbox._masked()[:-1]}
    assert env == {**scrubbed_env(home), "TMPDIR": str(home)}


def test_without_a_sandbox_only_the_limiter_and_a_best_effort_site_hold(dirs):
    ws, home = dirs
    limits = Limits(cpu_s=3)
    full, env = sandbox._command(["ls"], ws, home, limits, "none", cgroups.CgroupCap())
    assert full == [str(Path(sys.executable).resolve()), "-I", "-S", str(LIMITER), "limit",
                    json.dumps({**vars(sandbox._rlimits(limits)), "uid": None}), "--", "ls"]
    assert env == {**scrubbed_env(home), "TMPDIR": str(home), "PYTHONPATH": UNSAFE_SITE}
    assert Path(UNSAFE_SITE, "sitecustomize.py").is_file()


def test_without_a_sandbox_or_the_flag_nothing_runs(dirs, monkeypatch):
    ws, home = dirs
    monkeypatch.setattr(isolation, "detect", lambda: ("none", "scripted: no sandbox"))
    monkeypatch.setenv(isolation.UNSAFE_ENV, "0")
    result = run_contained(py("open('ran', 'w')"), ws, home)
    assert result == SandboxResult(None, "error: " + isolation.Isolation("none", "scripted: no sandbox", False).refusal,
                                   refused=True)
    assert not (ws / "ran").exists()


def test_a_command_runs_in_the_workspace_and_its_exit_code_and_both_streams_come_back(dirs, unsafe):
    ws, home = dirs
    code = "import os, sys\nprint(os.getcwd())\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n"
    result = run_contained(py(code), ws, home, Limits(timeout_s=30))
    assert result == SandboxResult(3, f"{ws}\nto stderr\n")


def test_the_command_sees_only_the_scrubbed_environment(dirs, unsafe, monkeypatch):
    ws, home = dirs
    monkeypatch.setenv("SILICONBENCH_TEST_SECRET", "hunter2")
    result = run_contained(py("import json, os; print(json.dumps(dict(os.environ)))"), ws, home)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {**scrubbed_env(home), "TMPDIR": str(home), "PYTHONPATH": UNSAFE_SITE}


def test_the_rlimits_hold_inside_the_command(dirs, unsafe):
    ws, home = dirs
    code = ("import resource as r\nprint([r.getrlimit(k) for k in (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_FSIZE, "
            "r.RLIMIT_NPROC, r.RLIMIT_NOFILE, r.RLIMIT_CORE)])\n")
    limits = Limits(cpu_s=7, memory_bytes=3 * 2**30, file_bytes=2**20, max_procs=50)
    result = run_contained(py(code), ws, home, limits)
    assert result.exit_code == 0, result.output
    assert result.output == str([(7, 7), (3 * 2**30, 3 * 2**30), (2**20, 2**20), (50, 50), (256, 256), (0, 0)]) + "\n"


def test_a_file_over_the_size_limit_cannot_be_written(dirs, unsafe):
    ws, home = dirs
    code = ("import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "try:\n    open('big', 'wb').write(b'x' * 300_000)\n    print('WROTE')\nexcept OSError as e:\n    print('refused', e.errno)\n")
    result = run_contained(py(code), ws, home, Limits(file_bytes=100_000))
    assert "WROTE" not in result.output and os.path.getsize(ws / "big") <= 100_000


def test_a_command_past_its_time_limit_is_stopped_and_keeps_what_it_printed(dirs, unsafe):
    ws, home = dirs
    started = time.monotonic()
    result = run_contained(py("import time\nprint('started', flush=True)\ntime.sleep(60)\n"), ws, home,
                           Limits(timeout_s=3))  # time enough to start and print on a loaded machine
    assert time.monotonic() - started < 20
    assert result == SandboxResult(None, "started\n", timed_out=True)


def test_a_timeout_also_ends_the_processes_the_command_started(dirs, unsafe):
    ws, home = dirs
    code = ("import subprocess, sys, time\n"
            "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print(kid.pid, flush=True)\ntime.sleep(60)\n")
    result = run_contained(py(code), ws, home, Limits(timeout_s=2))
    assert result.timed_out
    kid = int(result.output.split()[0])
    assert _gone(kid)


def _gone(pid: int, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_child_left_running_after_the_command_exits_is_killed(dirs, unsafe):
    ws, home = dirs
    code = ("import subprocess, sys\n"
            "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], stdout=subprocess.DEVNULL,"
            " stderr=subprocess.DEVNULL)\nprint(kid.pid)\n")
    result = run_contained(py(code), ws, home, Limits(timeout_s=30))
    assert result.exit_code == 0 and not result.timed_out
    assert _gone(int(result.output.split()[0]))


def test_output_up_to_the_cap_comes_back_whole(dirs, unsafe):
    ws, home = dirs
    result = run_contained(py("import sys; sys.stdout.write('a' * 1000)"), ws, home, Limits(output_bytes=1000))
    assert result == SandboxResult(0, "a" * 1000)


def test_output_past_the_cap_is_cut_at_it_and_the_command_stopped(dirs, unsafe):
    ws, home = dirs
    started = time.monotonic()
    result = run_contained(py("import sys, time\nsys.stdout.write('a' * 1000 + 'b')\nsys.stdout.flush()\n"
                              "time.sleep(60)\n"), ws, home, Limits(output_bytes=1000, timeout_s=30))
    assert time.monotonic() - started < 20
    assert result.cut is True and result.output == "a" * 1000
    assert result.timed_out is False and result.stopped is None


def test_a_flood_is_cut_at_the_cap(dirs, unsafe):
    ws, home = dirs
    result = run_contained(py("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"), ws, home,
                           Limits(output_bytes=100_000, timeout_s=30))
    assert result.cut is True and result.output == "x" * 100_000 and not result.timed_out


def test_memory_held_past_the_total_stops_the_command(dirs, unsafe):
    ws, home = dirs
    started = time.monotonic()
    code = "import time\nblock = b'x' * (200 * 2**20)\nprint('HELD', flush=True)\ntime.sleep(60)\n"
    result = run_contained(py(code), ws, home, Limits(total_memory_bytes=64 * 2**20, timeout_s=30))
    assert time.monotonic() - started < 25
    assert result.stopped == "memory" and result.exit_code is None and not result.timed_out


def test_a_workspace_grown_past_its_disk_allowance_stops_the_command(dirs, unsafe):
    ws, home = dirs
    code = ("import os, time\nwith open('fill.bin', 'wb') as f:\n    f.write(os.urandom(4 * 2**20))\n    f.flush()\n"
            "    os.fsync(f.fileno())\nprint('WROTE', flush=True)\ntime.sleep(60)\n")
    result = run_contained(py(code), ws, home, Limits(disk_bytes=2**20, timeout_s=30))
    assert result.stopped == "disk" and result.exit_code is None and not result.timed_out


def test_too_many_files_stop_the_command(dirs, unsafe):
    ws, home = dirs
    code = "import time\nfor i in range(300):\n    open(f'f{i}', 'w').close()\nprint('MADE', flush=True)\ntime.sleep(60)\n"
    result = run_contained(py(code), ws, home, Limits(max_files=100, timeout_s=30))
    assert result.stopped == "files" and result.exit_code is None


def test_a_sandbox_that_cannot_start_says_so(dirs, unsafe):
    ws, home = dirs
    result = run_contained(py("print(1)"), ws / "gone", home)
    assert result == SandboxResult(None, "error: the sandbox could not start (No such file or directory)")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another uid needs root")
def test_a_root_caller_hands_every_folder_and_file_to_the_sandboxs_uid_but_never_a_links_target(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("host's")
    top = tmp_path / "ws"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "f.py").write_text("x")
    (top / "link").symlink_to(outside)
    home = tmp_path / "home"
    home.mkdir()
    sandbox.hand_over(top, home, uid=4242)
    for p in (top, top / "sub", top / "sub" / "f.py", top / "link", home):
        st = os.lstat(p)
        assert (st.st_uid, st.st_gid) == (4242, 4242), p
    assert (os.stat(outside).st_uid, os.stat(outside).st_gid) == (0, 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another uid needs root")
def test_a_file_added_later_goes_to_its_folders_owner(tmp_path):
    top = tmp_path / "ws"
    top.mkdir()
    os.chown(top, 4343, 4343)
    (top / "new.py").write_text("x")
    sandbox.hand_over(top / "new.py")
    assert (os.lstat(top / "new.py").st_uid, os.lstat(top / "new.py").st_gid) == (4343, 4343)
    os.chown(top, 0, 0)  # a folder still root's: the file goes to nobody
    sandbox.hand_over(top / "new.py")
    assert os.lstat(top / "new.py").st_uid == 65534


def test_an_ordinary_caller_hands_nothing_over(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    before = os.lstat(tmp_path / "f").st_uid
    calls = []
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.os, "lchown", lambda *a: calls.append(a))
    sandbox.hand_over(tmp_path, uid=4242)
    assert calls == [] and os.lstat(tmp_path / "f").st_uid == before


def test_hand_over_goes_on_past_a_file_it_cannot_change(tmp_path, monkeypatch):
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").write_text("y")
    calls = []

    def lchown(path, uid, gid):
        calls.append((os.path.basename(path), uid, gid))
        raise PermissionError

    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    monkeypatch.setattr(sandbox.os, "lchown", lchown)
    sandbox.hand_over(tmp_path, uid=7)
    assert sorted(calls) == sorted([(tmp_path.name, 7, 7), ("a", 7, 7), ("b", 7, 7)])
    calls.clear()
    sandbox.hand_over(tmp_path / "a", uid=8)
    assert calls == [("a", 8, 8)]


def test_the_watchdog_is_given_the_command_and_both_folders(dirs, unsafe, monkeypatch):
    ws, home = dirs
    seen = []
    real = sandbox.Watchdog

    class Recording(real):
        def __init__(self, pid, folders, limits):
            seen.append((pid, folders, limits))
            super().__init__(pid, folders, limits)

    monkeypatch.setattr(sandbox, "Watchdog", Recording)
    limits = Limits(timeout_s=30)
    proc_pids = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(sandbox.subprocess, "Popen", lambda *a, **k: proc_pids.append(p := real_popen(*a, **k)) or p)
    run_contained(py("pass"), ws, home, limits)
    assert seen == [(proc_pids[0].pid, [ws, home], limits)]


def test_output_that_is_not_utf8_is_replaced_not_an_error(dirs, unsafe):
    ws, home = dirs
    result = run_contained(py("import sys; sys.stdout.buffer.write(b'ok\\xff')"), ws, home)
    assert result == SandboxResult(0, "ok\ufffd")


@pytest.fixture
def kills(monkeypatch):
    """Records how each run's processes were ended: whether at once (force) or after waiting."""
    seen = []
    real = sandbox._kill
    monkeypatch.setattr(sandbox, "_kill", lambda proc, cap, force: seen.append(force) or real(proc, cap, force))
    return seen


def test_a_command_cut_timed_out_or_stopped_is_killed_at_once_and_one_that_ended_is_waited_for(dirs, unsafe, kills):
    ws, home = dirs
    run_contained(py("print('done')"), ws, home)
    run_contained(py("import time\nprint('x' * 200, flush=True)\ntime.sleep(60)\n"), ws, home,
                  Limits(output_bytes=100))
    run_contained(py("import time; time.sleep(60)"), ws, home, Limits(timeout_s=0.5))
    run_contained(py("import time\nopen('f', 'wb').write(b'x' * 2**20)\ntime.sleep(60)\n"), ws, home,
                  Limits(disk_bytes=1000, timeout_s=30))
    assert kills == [False, True, True, True]


def test_a_command_that_closed_its_output_gets_five_seconds_then_its_group_is_killed(monkeypatch):
    """A scripted process (the real one lingering is in test_sandbox_limiter.py: it costs the 5 s)."""
    log = []

    class Lingering:
        pid = 2**22 + 12345
        stdout = __import__("io").BytesIO()

        def wait(self, timeout=None):
            log.append(("wait", timeout))
            if timeout is not None:
                raise subprocess.TimeoutExpired("cmd", timeout)

    class Cap:
        def kill_and_remove(self):
            log.append("cgroup removed")

    monkeypatch.setattr(sandbox, "_kill_group", lambda pgid: log.append(("kill", pgid)))
    proc = Lingering()
    sandbox._kill(proc, Cap(), force=False)
    assert log == [("wait", 5), ("kill", proc.pid), ("wait", None), ("kill", proc.pid), "cgroup removed"]
    assert proc.stdout.closed


def test_kill_ends_the_group_empties_the_cgroup_and_closes_the_pipe(monkeypatch):
    proc = subprocess.Popen(py("import time; time.sleep(60)"), stdout=subprocess.PIPE, start_new_session=True)

    class Cap:
        removed = 0

        def kill_and_remove(self):
            Cap.removed += 1

    groups = []
    real_group = sandbox._kill_group
    monkeypatch.setattr(sandbox, "_kill_group", lambda pgid: groups.append(pgid) or real_group(pgid))
    sandbox._kill(proc, Cap(), force=True)
    assert proc.returncode == -9 and groups == [proc.pid, proc.pid] and Cap.removed == 1 and proc.stdout.closed
    sandbox._kill_group(proc.pid)  # a group already gone is no error


def test_run_contained_makes_a_cgroup_under_bwrap_only_and_always_removes_it(dirs, monkeypatch):
    ws, home = dirs
    made = []

    class Cap(cgroups.CgroupCap):
        def kill_and_remove(self):
            made.append("removed")

    def create(memory_bytes, max_procs):
        made.append((memory_bytes, max_procs))
        return Cap([Path("/cg/x")], "v2")

    monkeypatch.setattr(sandbox.cgroups, "create", create)
    monkeypatch.setattr(isolation, "detect", lambda: ("bwrap", "scripted"))
    passed = []
    monkeypatch.setattr(sandbox, "_command", lambda argv, cwd, home_, limits, iso, cap: passed.append((iso, cap))
                        or passed.append((cwd, home_)) or (argv, {}))
    result = run_contained(py("print('in')"), ws, home, Limits(total_memory_bytes=5 * 2**20, max_procs=9))
    assert result == SandboxResult(0, "in\n")
    assert made == [(5 * 2**20, 9), "removed"] and passed[0][0] == "bwrap" and passed[0][1].groups == [Path("/cg/x")]
    assert passed[1] == (ws, home)
    made.clear()
    assert run_contained(py("1"), ws / "gone", home).output.startswith("error: the sandbox could not start")
    assert made == [(2 * 2**30, 64), "removed"]  # removed though nothing started


def test_no_cgroup_is_made_without_bwrap(dirs, unsafe, monkeypatch):
    ws, home = dirs
    monkeypatch.setattr(sandbox.cgroups, "create", lambda *a: pytest.fail("a cgroup without bwrap"))
    assert run_contained(py("print(1)"), ws, home).exit_code == 0


def test_a_command_never_reads_the_callers_input(dirs, unsafe):
    ws, home = dirs
    read_end, write_end = os.pipe()
    os.write(write_end, b"the caller's input\n")
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        result = run_contained(py("import sys; print(repr(sys.stdin.read(5)))"), ws, home, Limits(timeout_s=30))
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert result == SandboxResult(0, "''\n")
