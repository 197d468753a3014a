"""bubblewrap's command line, piece by piece (bwrap.py only decides arguments, so each is checked
exactly here, fast): every namespace, no capability but what the root drop needs, an environment
built from the spec only, read-only system binds, the one writable workspace (bound after the /tmp
tmpfs, so a workspace under /tmp stays visible), masks after binds, the limiter and its JSON, the uid
a root caller's command becomes. The real sandbox is exercised in test_sandbox_escapes.py."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.workspace import bwrap
from orchestrator.workspace.bwrap import (LIMITER, LIMITER_IN_SANDBOX, SANDBOX_UID, SANDBOX_UID_BASE, SANDBOX_UID_RANGE,
                                          BwrapSpec, RLimits, bwrap_argv, limiter_prefix)
from tests.helpers.sandbox_fixtures import dirs  # noqa: F401 (a fixture)

NAMESPACES = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]


def pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def options(argv: list[str]) -> list[str]:
    """bwrap's own options: everything before the first `--`."""
    return argv[:argv.index("--")]


def after_options(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1:]


@pytest.fixture
def no_disable_userns(monkeypatch):
    monkeypatch.setattr(bwrap, "_supports", lambda flag, exe: False)


def test_every_namespace_is_unshared_and_bwrap_dies_with_its_parent(dirs, no_disable_userns):
    ws, _ = dirs
    for run_as in (None, 4242):
        opts = options(bwrap_argv(BwrapSpec(cwd=ws), ["true"], run_as=run_as, bwrap="/x/bwrap"))
        for flag in NAMESPACES + ["--die-with-parent", "--new-session", "--clearenv"]:
            assert opts.count(flag) == 1, (flag, run_as)
        assert values(opts, "--cap-drop") == ["ALL"]
        assert values(opts, "--hostname") == ["sandbox"]


def test_an_unprivileged_caller_gets_a_user_namespace_and_no_capability_back(dirs, monkeypatch):
    ws, _ = dirs
    asked = []
    monkeypatch.setattr(bwrap, "_supports", lambda flag, exe: asked.append((flag, exe)) or True)
    opts = options(bwrap_argv(BwrapSpec(cwd=ws), ["true"], run_as=None, bwrap="/x/bwrap"))
    assert opts.count("--unshare-user") == 1 and opts.count("--disable-userns") == 1
    assert asked == [("--disable-userns", "/x/bwrap")]
    assert "--cap-add" not in opts
    monkeypatch.setattr(bwrap, "_supports", lambda flag, exe: False)  # an old bwrap without the flag
    opts = options(bwrap_argv(BwrapSpec(cwd=ws), ["true"], run_as=None, bwrap="/x/bwrap"))
    assert "--unshare-user" in opts and "--disable-userns" not in opts


def test_a_root_caller_keeps_only_setuid_and_setgid_for_the_drop_to_its_uid(dirs, no_disable_userns):
    ws, _ = dirs
    argv = bwrap_argv(BwrapSpec(cwd=ws, limits=None), ["true"], run_as=4242, bwrap="/x/bwrap")
    opts = options(argv)
    assert values(opts, "--cap-add") == ["CAP_SETUID", "CAP_SETGID"]
    assert "--unshare-user" not in opts and "--disable-userns" not in opts
    # even with no rlimits, the limiter runs to become the uid: the command never runs as root
    assert after_options(argv) == limiter_prefix(None, 4242) + ["true"]
    assert json.loads(after_options(argv)[5]) == {"uid": 4242}
    assert ("--ro-bind", str(LIMITER), LIMITER_IN_SANDBOX) in [tuple(opts[i:i + 3]) for i in range(len(opts))]


def test_the_bwrap_executable_is_the_one_asked_for_else_the_one_on_path(dirs, monkeypatch, no_disable_userns):
    ws, _ = dirs
    assert bwrap_argv(BwrapSpec(cwd=ws), ["true"], bwrap="/opt/bwrap")[0] == "/opt/bwrap"
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: f"/found/{name}")
    assert bwrap_argv(BwrapSpec(cwd=ws), ["true"])[0] == "/found/bwrap"
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    assert bwrap_argv(BwrapSpec(cwd=ws), ["true"])[0] == "bwrap"


def test_the_environment_is_cleared_then_set_from_the_spec_only(dirs, no_disable_userns):
    ws, _ = dirs
    env = {"PATH": "/usr/bin", "HOME": "/h", "EMPTY": ""}
    opts = options(bwrap_argv(BwrapSpec(cwd=ws, env=env), ["true"], bwrap="b"))
    assert pairs(opts, "--setenv") == [("PATH", "/usr/bin"), ("HOME", "/h"), ("EMPTY", "")]
    assert opts.index("--clearenv") < opts.index("--setenv")


def test_system_folders_are_bound_read_only_links_kept_as_links_and_etc_holds_only_the_listed_files(
        tmp_path, monkeypatch):
    usr, lib = tmp_path / "usr", tmp_path / "lib"
    usr.mkdir()
    lib.symlink_to("usr/lib")
    monkeypatch.setattr(bwrap, "SYSTEM_DIRS", (str(lib), str(usr), str(tmp_path / "absent")))
    monkeypatch.setattr(bwrap, "ETC_FILES", ("/etc/ld.so.cache", "/etc/localtime"))
    assert bwrap._system_binds() == [
        "--symlink", "usr/lib", str(lib),
        "--ro-bind", str(usr), str(usr),
        "--perms", "0755", "--dir", "/etc",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--ro-bind-try", "/etc/localtime", "/etc/localtime"]


def test_the_system_folders_are_part_of_every_sandbox(dirs, no_disable_userns):
    ws, _ = dirs
    binds = bwrap._system_binds()
    opts = options(bwrap_argv(BwrapSpec(cwd=ws), ["true"], bwrap="b"))
    at = opts.index(binds[0])
    assert opts[at:at + len(binds)] == binds and "/etc" in binds


def test_the_real_etc_list_never_holds_accounts_or_keys():
    assert bwrap.ETC_FILES == ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                               "/etc/alternatives", "/etc/mime.types")
    assert bwrap.SYSTEM_DIRS == ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def test_nothing_is_bound_writable_but_the_writable_folders_and_sockets(dirs, tmp_path, no_disable_userns):
    ws, home = dirs
    extra = tmp_path / "ro"
    extra.mkdir()
    sock = tmp_path / "proxy.sock"
    sock.touch()
    spec = BwrapSpec(cwd=ws, writable=(ws, home), read_only=(extra,), unix_sockets=(sock,), python_runtime=False)
    opts = options(bwrap_argv(spec, ["true"], bwrap="b"))
    assert pairs(opts, "--bind") == [(str(ws), str(ws)), (str(home), str(home)), (str(sock), str(sock))]
    assert (str(extra), str(extra)) in pairs(opts, "--ro-bind")
    assert "--bind-try" not in opts and "--dev-bind" not in opts


def test_tmp_and_dev_shm_are_private_sized_tmpfs_and_dev_is_read_only(dirs, no_disable_userns):
    ws, _ = dirs
    opts = options(bwrap_argv(BwrapSpec(cwd=ws, tmp_bytes=12345, shm_bytes=678), ["true"], bwrap="b"))
    start = opts.index("--proc")
    assert opts[start:start + 18] == ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", "678",
                                      "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                                      "--perms", "1777", "--size", "12345", "--tmpfs", "/tmp"]


def test_the_defaults_of_tmp_and_shm_sizes():
    spec = BwrapSpec(cwd=Path("/"))
    assert (spec.tmp_bytes, spec.shm_bytes) == (64 * 2**20, 16 * 2**20)
    assert spec.python_runtime is True and spec.limits == RLimits()
    assert (spec.writable, spec.read_only, spec.masked, spec.unix_sockets, dict(spec.env)) == ((), (), (), (), {})


def test_a_workspace_under_tmp_is_bound_after_the_tmp_tmpfs_so_it_is_not_hidden(dirs, no_disable_userns):
    ws, home = dirs
    opts = options(bwrap_argv(BwrapSpec(cwd=ws, writable=(ws, home)), ["true"], bwrap="b"))
    tmpfs_tmp = opts.index("/tmp", opts.index("--proc"))
    assert opts.index("--bind") > tmpfs_tmp


def test_folders_above_a_bind_are_made_reachable_once(tmp_path, monkeypatch):
    parents = bwrap._Parents()
    deep = tmp_path / "a" / "b"
    got = parents(deep / "ws")
    made = [Path(p) for p in values(got, "--dir")]
    assert made == [p for p in reversed((deep / "ws").parents) if p not in (Path("/"), Path("/tmp"))]
    assert got == [x for p in made for x in ("--perms", "0755", "--dir", str(p))]
    assert parents(deep / "other") == []  # its parents were made already
    assert parents(Path("/usr/lib/python3/x")) == []  # under a system folder: bound already
    assert parents(Path("/proc/x")) == [] and parents(Path("/dev/x")) == []


def test_binds_of_the_python_runtime_and_extra_paths_come_with_their_parents(tmp_path, monkeypatch, no_disable_userns):
    base = tmp_path / "py"
    venv = tmp_path / "venvs" / "v"
    (venv / "bin").mkdir(parents=True)
    base.mkdir()
    monkeypatch.setattr(bwrap, "sys", SimpleNamespace(base_prefix=str(base), prefix=str(venv),
                                                      executable=str(venv / "bin" / "python")))
    assert bwrap.python_paths() == sorted([base, venv])
    ws = tmp_path / "ws"
    ws.mkdir()
    opts = options(bwrap_argv(BwrapSpec(cwd=ws, limits=None), ["true"], bwrap="b"))
    ro = pairs(opts, "--ro-bind")
    assert (str(base), str(base)) in ro and (str(venv), str(venv)) in ro
    assert opts.index(str(tmp_path / "venvs")) < opts.index(str(venv))  # its parent made first
    off = options(bwrap_argv(BwrapSpec(cwd=ws, limits=None, python_runtime=False), ["true"], bwrap="b"))
    assert str(base) not in off and str(venv) not in off


def test_extra_read_only_paths_are_bound_beside_the_python_runtime(tmp_path, monkeypatch, no_disable_userns):
    base, extra, ws = tmp_path / "py", tmp_path / "extra", tmp_path / "ws"
    for p in (base, extra, ws):
        p.mkdir()
    monkeypatch.setattr(bwrap, "sys", SimpleNamespace(base_prefix=str(base), prefix=str(base),
                                                      executable=str(base / "python")))
    opts = options(bwrap_argv(BwrapSpec(cwd=ws, read_only=(extra,), limits=None), ["true"], bwrap="b"))
    ro = [pair for pair in pairs(opts, "--ro-bind") if pair[0].startswith(str(tmp_path))]
    assert ro == [(str(extra), str(extra)), (str(base), str(base))]


def test_python_paths_leave_out_folders_inside_another_or_under_the_system(tmp_path, monkeypatch):
    base = tmp_path / "py"
    (base / "venv" / "bin").mkdir(parents=True)
    monkeypatch.setattr(bwrap, "sys", SimpleNamespace(base_prefix=str(base), prefix=str(base / "venv"),
                                                      executable=str(base / "venv" / "bin" / "python")))
    assert bwrap.python_paths() == [base]
    monkeypatch.setattr(bwrap, "sys", SimpleNamespace(base_prefix="/usr", prefix="/usr",
                                                      executable="/usr/bin/python3"))
    assert bwrap.python_paths() == []


def test_under_system_is_the_folder_itself_or_below_it():
    assert bwrap._under_system(Path("/usr")) and bwrap._under_system(Path("/usr/lib/python3"))
    assert not bwrap._under_system(Path("/usrx")) and not bwrap._under_system(Path("/opt/py"))


def test_a_masked_folder_exposed_by_a_bind_is_hidden_read_only_and_a_masked_file_is_dev_null(tmp_path):
    bound = tmp_path / "bound"
    (bound / "tasks").mkdir(parents=True)
    (bound / "secret.txt").write_text("x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    got = bwrap._masks([outside, bound], [bound / "secret.txt", bound / "tasks", outside / "absent", bound / "sub",
                                          bound / "tasks2"])
    assert got == ["--ro-bind", "/dev/null", str(bound / "secret.txt"),
                   "--tmpfs", str(bound / "tasks"), "--remount-ro", str(bound / "tasks")]
    (bound / "tasks2").mkdir()
    assert bwrap._masks([bound], [bound / "tasks", bound / "tasks2"]) == [
        "--tmpfs", str(bound / "tasks"), "--remount-ro", str(bound / "tasks"),
        "--tmpfs", str(bound / "tasks2"), "--remount-ro", str(bound / "tasks2")]
    assert bwrap._masks([bound], [tmp_path]) == []  # above the bind: nothing of it is exposed
    assert bwrap._masks([bound], [bound]) == ["--tmpfs", str(bound), "--remount-ro", str(bound)]


def test_masks_come_after_every_bind_and_before_the_command(tmp_path, no_disable_userns):
    ws = tmp_path / "ws"
    (ws / "hidden").mkdir(parents=True)
    argv = bwrap_argv(BwrapSpec(cwd=ws, writable=(ws,), masked=(ws / "hidden",), python_runtime=False), ["true"],
                      bwrap="b")
    opts = options(argv)
    at = opts.index("--tmpfs", opts.index("--bind"))
    assert opts[at:at + 4] == ["--tmpfs", str(ws / "hidden"), "--remount-ro", str(ws / "hidden")]


def test_the_command_runs_in_the_workspace_through_the_limiter(dirs, no_disable_userns):
    ws, home = dirs
    limits = RLimits(cpu_s=3, memory_bytes=100, file_bytes=200, max_procs=7, open_files=9)
    argv = bwrap_argv(BwrapSpec(cwd=ws / ".." / "ws", writable=(ws,), limits=limits), ["python", "-c", "x"], bwrap="b")
    opts = options(argv)
    assert opts[-2:] == ["--chdir", str(ws)]
    assert opts[-5:-2] == ["--ro-bind", str(LIMITER), LIMITER_IN_SANDBOX]
    assert after_options(argv) == limiter_prefix(limits, None) + ["python", "-c", "x"]
    spec = json.loads(after_options(argv)[5])
    assert spec == {"cpu_s": 3, "memory_bytes": 100, "file_bytes": 200, "max_procs": 7, "open_files": 9, "uid": None}


def test_without_limits_or_uid_the_command_runs_directly(dirs, no_disable_userns):
    ws, _ = dirs
    argv = bwrap_argv(BwrapSpec(cwd=ws, limits=None), ["python", "x"], bwrap="b")
    assert after_options(argv) == ["python", "x"] and LIMITER_IN_SANDBOX not in argv


def test_the_limiter_prefix_runs_the_real_interpreter_isolated(monkeypatch, tmp_path):
    exe = tmp_path / "bin" / "python"
    exe.parent.mkdir()
    exe.touch()
    monkeypatch.setattr(bwrap, "sys", SimpleNamespace(executable=str(tmp_path / "bin" / ".." / "bin" / "python")))
    prefix = limiter_prefix(RLimits(), 12)
    assert prefix[:5] == [str(exe), "-I", "-S", LIMITER_IN_SANDBOX, "limit"] and prefix[6] == "--" and len(prefix) == 7
    assert json.loads(prefix[5]) == {"cpu_s": 30, "memory_bytes": 2 * 2**30, "file_bytes": 16 * 2**20,
                                     "max_procs": 64, "open_files": 256, "uid": 12}
    assert LIMITER.name == "sandbox_exec.py" and LIMITER.is_file()


def test_a_root_callers_sandbox_draws_a_uid_of_its_own_and_others_stay_who_they_are(monkeypatch):
    asked = []
    monkeypatch.setattr(bwrap.secrets, "randbelow", lambda n: asked.append(n) or n - 1)
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 0)
    assert bwrap.sandbox_uid() == SANDBOX_UID_BASE + SANDBOX_UID_RANGE - 1 == 1_999_999
    assert asked == [800_000]
    monkeypatch.setattr(bwrap.secrets, "randbelow", lambda n: 0)
    assert bwrap.sandbox_uid() == 1_200_000
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 1000)
    assert bwrap.sandbox_uid() is None


def test_a_command_runs_as_its_folders_owner_and_never_as_root(tmp_path, monkeypatch):
    folder = tmp_path / "ws"
    folder.mkdir()
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 0)
    real_stat = os.stat
    owners = {str(folder): 4242, str(tmp_path): 0}
    monkeypatch.setattr(bwrap.os, "stat", lambda p, *a, **k: SimpleNamespace(st_uid=owners[str(p)])
                        if str(p) in owners else real_stat(p, *a, **k))
    assert bwrap.owner_uid(folder) == 4242
    assert bwrap.owner_uid(tmp_path) == SANDBOX_UID == 65534  # still root's: nobody
    assert bwrap.owner_uid(tmp_path / "gone") == 65534
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 1000)
    assert bwrap.owner_uid(folder) is None


def _fake_bwrap(folder: Path, help_text: str = "", exit_code: int = 0, stderr: str = "") -> Path:
    exe = folder / "bwrap"
    exe.write_text("#!/bin/sh\n"
                   f"if [ \"$1\" = --help ]; then echo '{help_text}'; exit 0; fi\n"
                   "if [ \"$1\" = --version ]; then echo 'bubblewrap 0.9.0'; exit 0; fi\n"
                   f"printf '%s\\n' \"$@\" > {folder}/argv\n"
                   f"echo 'first line' >&2; echo '{stderr}' >&2\n"
                   f"exit {exit_code}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.fixture
def fresh_caches():
    bwrap._supports.cache_clear()
    bwrap.bwrap_works.cache_clear()
    yield
    bwrap._supports.cache_clear()
    bwrap.bwrap_works.cache_clear()


def test_supports_reads_the_flag_from_bwraps_help(tmp_path, fresh_caches):
    exe = _fake_bwrap(tmp_path, help_text="  --disable-userns  Forbid further user namespaces")
    assert bwrap._supports("--disable-userns", str(exe)) is True
    assert bwrap._supports("--no-such-flag", str(exe)) is False
    assert bwrap._supports("--disable-userns", str(tmp_path / "missing")) is False


def test_bwrap_works_starts_a_full_sandbox_and_reports_the_version(tmp_path, monkeypatch, fresh_caches):
    exe = _fake_bwrap(tmp_path)
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: str(exe) if name == "bwrap" else None)
    monkeypatch.setattr(bwrap, "sandbox_uid", lambda: 1_234_567)  # what a root caller's probe runs as
    assert bwrap.bwrap_works() == (True, "bubblewrap 0.9.0")
    argv = (tmp_path / "argv").read_text().splitlines()
    for flag in NAMESPACES:
        assert flag in argv
    assert argv[-2:] == ["--", "/bin/true"] and argv[argv.index("--chdir") + 1] == "/"
    assert json.loads(argv[-3]) == {**vars(RLimits()), "uid": 1_234_567}
    assert pairs(argv, "--setenv") == [("PATH", "/usr/bin:/bin")]


def test_bwrap_works_says_why_not_when_namespaces_are_refused(tmp_path, monkeypatch, fresh_caches):
    exe = _fake_bwrap(tmp_path, exit_code=1, stderr="bwrap: No permissions to create new namespace")
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: str(exe))
    ok, why = bwrap.bwrap_works()
    assert ok is False and "(bwrap: No permissions to create new namespace)" in why


def test_bwrap_works_says_bwrap_is_missing(monkeypatch, fresh_caches):
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    ok, why = bwrap.bwrap_works()
    assert ok is False and "bwrap is not installed" in why


def test_rlimit_defaults():
    assert vars(RLimits()) == {"cpu_s": 30, "memory_bytes": 2 * 2**30, "file_bytes": 16 * 2**20, "max_procs": 64,
                               "open_files": 256}


def test_the_probes_are_bounded_in_time_and_never_read_the_terminal(tmp_path, monkeypatch, fresh_caches):
    exe = _fake_bwrap(tmp_path, help_text="--disable-userns")
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: str(exe))
    monkeypatch.setattr(bwrap, "sandbox_uid", lambda: None)
    calls = []
    real_run = bwrap.subprocess.run
    monkeypatch.setattr(bwrap.subprocess, "run", lambda argv, **kw: calls.append((argv[-1], kw)) or real_run(argv, **kw))
    assert bwrap.bwrap_works() == (True, "bubblewrap 0.9.0")
    assert calls == [("--help", {"capture_output": True, "text": True, "timeout": 10}),
                     ("/bin/true", {"capture_output": True, "text": True, "timeout": 20,
                                    "stdin": bwrap.subprocess.DEVNULL}),
                     ("--version", {"capture_output": True, "text": True, "timeout": 10})]


def test_a_probe_that_hangs_or_cannot_start_means_no_sandbox(tmp_path, monkeypatch, fresh_caches):
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: "/x/bwrap")
    monkeypatch.setattr(bwrap, "sandbox_uid", lambda: 5)

    def hangs(argv, **kw):
        raise bwrap.subprocess.TimeoutExpired(argv, kw["timeout"])

    monkeypatch.setattr(bwrap.subprocess, "run", hangs)
    ok, why = bwrap.bwrap_works()
    assert ok is False and why.startswith("bwrap could not start: ")
    assert bwrap._supports("--disable-userns", "/x/bwrap") is False
