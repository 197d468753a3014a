"""What the sandbox of a whole harness is given (orchestrator/harness/sandbox.py), read from the bwrap
command line it builds: no network but the bridge to the proxy's socket, the workspace and a fresh
state folder writable, the harness's install folder read-only, limits a Node program can live with.
That the sandbox really holds is tested end to end in test_harness_e2e.py (test_the_harness_is_contained)."""

import shutil

import pytest

from orchestrator.harness import sandbox

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed (apt-get install bubblewrap)")


def triples(argv):
    return {tuple(argv[i:i + 3]) for i in range(len(argv) - 2)}


@pytest.fixture
def built(tmp_path):
    venv = tmp_path / "venvs" / "mini"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "mini").write_text("#!/bin/sh\n")
    work, state = tmp_path / "w", tmp_path / "s"
    work.mkdir()
    state.mkdir()
    sock = tmp_path / "p.sock"
    sock.write_text("")
    argv = sandbox.harness_argv(["mini", "-t", "task"], {"HOME": str(state)}, work, state, sock, venv / "bin" / "mini", 60)
    return argv, work, state, sock, venv


def test_a_harness_gets_no_network_and_a_pid_namespace_of_its_own(built):
    argv = built[0]
    assert "--unshare-net" in argv and "--unshare-pid" in argv
    assert "--share-net" not in argv


def test_only_the_workspace_the_state_folder_and_the_proxy_socket_are_writable(built):
    argv, work, state, sock, venv = built
    binds = {(a[1], a[2]) for a in triples(argv) if a[0] == "--bind"}
    assert binds == {(str(work), str(work)), (str(state), str(state)), (str(sock), str(sock))}
    assert ("--ro-bind", str(venv), str(venv)) in triples(argv)  # its venv: readable, not writable


def test_the_harness_starts_behind_the_bridge_to_the_proxy(built):
    argv, work, state, sock, venv = built
    assert argv[-7:] == [str(state / ".siliconbench-bin" / "bridge.py"), str(sock), str(sandbox.BRIDGE_PORT), "--",
                         "mini", "-t", "task"]
    assert (state / ".siliconbench-bin" / "bridge.py").read_text() == sandbox.BRIDGE.read_text()


def test_a_harness_gets_cpu_for_its_wall_clock_and_room_for_node():
    limits = sandbox.harness_limits(900.0)
    assert (limits.cpu_s, limits.memory_bytes, limits.max_procs, limits.open_files) == (960, 2**40, 1024, 4096)


def test_the_install_folder_of_a_scoped_npm_package_is_the_package(tmp_path):
    package = tmp_path / "lib" / "node_modules" / "@anthropic-ai" / "claude-code"
    (package / "bin").mkdir(parents=True)
    (package / "bin" / "cli.js").write_text("")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "claude").symlink_to(package / "bin" / "cli.js")
    assert sandbox.install_root(tmp_path / "bin" / "claude") == package
    plain = tmp_path / "lib" / "node_modules" / "opencode-ai" / "bin"
    plain.mkdir(parents=True)
    (plain / "opencode").write_text("")
    assert sandbox.install_root(plain / "opencode") == tmp_path / "lib" / "node_modules" / "opencode-ai"
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "agent").write_text("")
    assert sandbox.install_root(tmp_path / "tools" / "agent") == tmp_path / "tools"
