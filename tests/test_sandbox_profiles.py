"""What the sandboxes are built from: bubblewrap's arguments, the Seatbelt profile (checked rule by
rule here, and for real where a Mac runs the suite), the refusal without a sandbox, and `doctor`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from orchestrator.errors import UserError
from orchestrator.taskdef import TASKS_DIR, load_task
from orchestrator.workspace import isolation
from orchestrator.workspace.bwrap import SANDBOX_UID, BwrapSpec, RLimits, bwrap_argv
from orchestrator.workspace.seatbelt import BASE_RULES, profile, sandbox_exec_argv
from orchestrator.workspace.workspace import Workspace

PROJECT = Path(__file__).resolve().parent.parent


def _pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "home").mkdir()
    return BwrapSpec(cwd=tmp_path / "repo", writable=(tmp_path / "repo", tmp_path / "home"),
                     masked=(TASKS_DIR, PROJECT / "tests", Path.home()), env={"PATH": "/usr/bin"},
                     limits=RLimits(max_procs=7), tmp_bytes=12345)


@pytest.mark.parametrize("run_as", [None, SANDBOX_UID])
def test_bwrap_gets_every_namespace_and_no_capability(spec, run_as):
    argv = bwrap_argv(spec, ["true"], run_as=run_as)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                 "--new-session", "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    if run_as is None:
        assert "--unshare-user" in argv and "--cap-add" not in argv
    else:  # root: only what the limiter needs to become nobody, which clears them
        assert {argv[i + 1] for i, a in enumerate(argv) if a == "--cap-add"} == {"CAP_SETUID", "CAP_SETGID"}
        assert f'"uid": {run_as}' in " ".join(argv)
    assert '"max_procs": 7' in " ".join(argv)


def test_bwrap_binds_only_the_workspace_writable_and_never_home_project_or_tasks(spec):
    argv = bwrap_argv(spec, ["true"])
    writable = {dst for _, dst in _pairs(argv, "--bind")}
    assert writable == {str(p.resolve()) for p in spec.writable}
    read_only = {src for src, _ in _pairs(argv, "--ro-bind")}
    for forbidden in (str(Path.home()), "/root", str(PROJECT), str(TASKS_DIR), "/etc", "/home", "/"):
        assert forbidden not in read_only, forbidden
    assert not [s for s in read_only if s.startswith(str(PROJECT)) and not s.endswith("sandbox_exec.py")]
    assert argv[argv.index("/tmp") - 2:argv.index("/tmp")] == ["12345", "--tmpfs"]
    assert ["--proc", "/proc"] == argv[argv.index("--proc"):argv.index("--proc") + 2]
    assert "--remount-ro" in argv and argv[argv.index("--remount-ro") + 1] == "/dev"


def test_a_bind_that_would_expose_the_installed_tasks_masks_them(tmp_path):
    exposed = BwrapSpec(cwd=tmp_path, read_only=(TASKS_DIR.parent,), masked=(TASKS_DIR,), limits=None)
    argv = bwrap_argv(exposed, ["true"])
    assert str(TASKS_DIR) in [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]
    assert argv.index(str(TASKS_DIR)) > argv.index(str(TASKS_DIR.parent))  # the mask comes after the bind


def test_seatbelt_profile_denies_by_default_and_opens_exactly_the_workspace(tmp_path):
    home = tmp_path / "home'\")(allow file-write* (subpath \"/"  # a path that tries to break out of a rule
    text, params = profile([tmp_path / "ws"], home, [Path(sys.base_prefix)])
    assert text.startswith(BASE_RULES) and BASE_RULES.splitlines()[1] == "(deny default)"
    assert "(deny network*)" in text and "allow network" not in text
    assert str(home) not in text and str(tmp_path) not in text, "paths go in -D parameters, never in the text"
    assert params["HOME_DIR"] == str(home.resolve()) and params["WRITE_0"] == str((tmp_path / "ws").resolve())
    writes = [line for line in text.splitlines() if "file-write*" in line]
    assert writes == ['(allow file-write* (subpath (param "WRITE_0")))']
    lines = text.splitlines()
    deny_home = lines.index('(deny file-read* (subpath (param "HOME_DIR")))')
    assert lines.index('(allow file-read* (subpath (param "READ_0")))') > deny_home, "last match wins"
    assert lines.index('(allow file-read* (subpath (param "WRITE_0")))') > deny_home


def test_sandbox_exec_argv_passes_every_path_as_a_parameter(tmp_path):
    argv = sandbox_exec_argv([tmp_path], ["/usr/bin/true"])
    assert argv[:2] == ["/usr/bin/sandbox-exec", "-p"] and argv[-1] == "/usr/bin/true"
    assert f"WRITE_0={tmp_path.resolve()}" in argv


@pytest.mark.platform_skip
@pytest.mark.skipif(sys.platform != "darwin", reason="Seatbelt runs only on macOS; its rules are checked above")
def test_seatbelt_for_real_on_a_mac(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = Path(tempfile.mkdtemp()) / "outside.txt"
    code = (f"import socket, pathlib\nopen({str(ws / 'ok.txt')!r}, 'w').write('x')\n"
            f"try:\n    open({str(outside)!r}, 'w').write('x'); print('WROTE')\nexcept OSError: print('no write')\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print('NET')\nexcept OSError: print('no net')\n"
            "try:\n    print(len(list(pathlib.Path.home().iterdir()))); print('HOME')\nexcept OSError: print('no home')\n")
    out = subprocess.run(sandbox_exec_argv([ws], [sys.executable, "-c", code]), capture_output=True, text=True, timeout=60)
    assert (ws / "ok.txt").exists() and not outside.exists()
    assert "no write" in out.stdout and "no net" in out.stdout and "no home" in out.stdout, out


def test_no_sandbox_refuses_model_commands_unless_the_user_says_unsafe(monkeypatch):
    monkeypatch.setattr(isolation, "detect", lambda: ("none", "bwrap is not installed"))
    monkeypatch.setenv(isolation.UNSAFE_ENV, "0")  # recorded, so the flag set below is undone after the test
    with pytest.raises(UserError, match="--unsafe-no-sandbox"):
        isolation.require_isolation()
    with Workspace.create(load_task("read_fix_write")) as ws:
        refused = ws.call("run_command", {"command": "python -m pytest -q"})
        assert refused.result.startswith("error: no sandbox") and "--unsafe-no-sandbox" in refused.result
        assert ws.call("search_code", {"pattern": "def"}).result.startswith("error: no sandbox")
        isolation.require_isolation(unsafe_no_sandbox=True)
        ran = ws.call("run_command", {"command": "python -m pytest -q"})
        assert "[exit code:" in ran.result
    info = isolation.describe()
    assert info["isolation"] == "none (unsafe)" and info["unsafe_no_sandbox"] is True


def test_doctor_names_this_machines_isolation():
    out = subprocess.run([sys.executable, "-m", "orchestrator.cli", "doctor"], capture_output=True, text=True,
                         timeout=120, cwd=PROJECT)
    expected = "bwrap" if sys.platform.startswith("linux") else "seatbelt"
    assert out.returncode == 0 and out.stdout.startswith(f"isolation: {expected}"), out


def test_seatbelt_hides_the_installed_tasks_yet_reaches_the_limiter(tmp_path):
    limiter = PROJECT / "orchestrator" / "workspace" / "sandbox_exec.py"
    text, params = profile([tmp_path], Path.home(), [limiter], masked=[TASKS_DIR, PROJECT / "orchestrator"])
    lines = text.splitlines()
    mask = lines.index('(deny file-read* (subpath (param "MASK_0")) (subpath (param "MASK_1")))')
    assert params["MASK_0"] == str(TASKS_DIR) and params["READ_0"] == str(limiter)
    assert lines.index('(allow file-read* (subpath (param "READ_0")))') > mask, "the limiter re-opened after the mask"
