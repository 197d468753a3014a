"""Model output is untrusted: escapes through every tool are refused or contained, nothing outside the
workspace is touched, the caller's secrets never show, and the run goes on."""

import os
import socket
import time
import uuid
from pathlib import Path

import psutil
import pytest

from orchestrator.session.replay import replay
from orchestrator.workspace.sandbox import Limits
from orchestrator.taskdef import load_task
from orchestrator.workspace.workspace import Workspace

TASK = load_task("read_fix_write")


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        workspace.limits = Limits(timeout_s=5, cpu_s=5, output_bytes=16 * 1024)
        yield workspace


def call(ws, name, **args):
    return ws.call(name, args)


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "~/.bashrc", "utils/../../x", "/tmp"])
def test_paths_out_of_the_workspace_are_refused_by_every_file_tool(ws, path):
    for event in (call(ws, "read_file", path=path), call(ws, "write_file", path=path, content="x"),
                  call(ws, "search_code", pattern="root", path=path)):
        assert event.error and not event.malformed, event.result
        assert "not allowed" in event.result or "outside" in event.result
    assert not (ws.base / "outside.txt").exists() and not (ws.base.parent / "x").exists()


def test_a_symlink_made_by_a_script_is_not_followed(ws):
    call(ws, "write_file", path="mk.py", content="import os\nos.symlink('/etc', 'etc_link')\n")
    made = call(ws, "run_command", command="python mk.py")
    # A link out of the workspace is removed as soon as the command ends (hygiene.py) ...
    assert not (ws.root / "etc_link").is_symlink() and "etc_link (link out of the workspace)" in made.result
    # ... and were one there anyway, no tool would follow it.
    (ws.root / "etc_link").symlink_to("/etc")
    for event in (call(ws, "read_file", path="etc_link/passwd"), call(ws, "write_file", path="etc_link/x", content="x"),
                  call(ws, "run_command", command="cat etc_link/passwd")):
        assert "outside" in event.result and "root:" not in event.result


@pytest.mark.parametrize("command", [
    "ls; cat /etc/passwd", "cat README.md && rm -rf /", "echo $(cat /etc/passwd)", "rm -rf /",
    "cat /etc/shadow", "find / -name passwd", "find . -exec rm {} ;", "python -c 'print(1)'",
    "bash -c 'id'", "curl http://example.com", "git push --force",
])
def test_shell_tricks_and_dangerous_commands_do_not_run(ws, command):
    before = sorted(p.name for p in ws.root.iterdir())
    event = call(ws, "run_command", command=command)
    assert "root:" not in event.result
    assert event.result.startswith(("error:", "command not available"))
    assert sorted(p.name for p in ws.root.iterdir()) == before


def test_metacharacters_are_literal_arguments_never_a_shell(ws):
    result = call(ws, "run_command", command="ls | sh").result
    assert "cannot access '|'" in result and "cannot access 'sh'" in result


def test_a_script_cannot_write_outside_or_reach_the_network(ws):
    target = Path("/tmp") / f"siliconbench-escape-{uuid.uuid4().hex}"
    call(ws, "write_file", path="evil.py", content=(
        f"open({str(target)!r}, 'w').write('x')\n"))
    event = call(ws, "run_command", command="python evil.py")
    assert not target.exists(), event.result


def test_a_script_cannot_reach_a_server_listening_on_the_callers_loopback(ws):
    # A listener this test owns: "refused" from a port where nothing listens would prove nothing.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    with listener, socket.create_connection(("127.0.0.1", port), timeout=2):
        listener.accept()[0].close()  # outside the sandbox it is reachable
        # Through the socket module, and through the C module under it (a hostile script's way past
        # any Python-level patch): only a network namespace or its equal stops the second.
        call(ws, "write_file", path="net.py", content=(
            "import _socket, socket\n"
            "for name, connect in [('socket', lambda: socket.create_connection(('127.0.0.1', PORT), timeout=2)),\n"
            "                      ('_socket', lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
            "                                          .connect(('127.0.0.1', PORT)))]:\n"
            "    try:\n"
            "        connect()\n"
            "        print(name, 'CONNECTED')\n"
            "    except OSError as err:\n"
            "        print(name, 'blocked:', err)\n").replace("PORT", str(port)))
        result = call(ws, "run_command", command="python net.py").result
        assert result.count("blocked:") == 2 and "CONNECTED" not in result, result
        with pytest.raises(TimeoutError):  # and nothing arrived at the listener
            listener.accept()


def test_the_callers_environment_never_reaches_a_command(ws, monkeypatch):
    monkeypatch.setenv("SILICONBENCH_TEST_SECRET", "hunter2-" + uuid.uuid4().hex)
    call(ws, "write_file", path="env.py", content="import os\nprint(dict(os.environ))\n")
    result = call(ws, "run_command", command="python env.py").result
    assert os.environ["SILICONBENCH_TEST_SECRET"] not in result and "PATH" in result


def test_a_fork_bomb_is_contained_and_leaves_nothing_behind(ws):
    bomb = f"bomb_{uuid.uuid4().hex}.py"  # only this test's processes carry this name
    call(ws, "write_file", path=bomb, content="import os\nwhile True:\n    try:\n        os.fork()\n"
                                              "    except OSError:\n        pass\n")
    started = time.monotonic()
    event = call(ws, "run_command", command=f"python {bomb}")
    assert time.monotonic() - started < 30
    assert "time limit" in event.result or "killed" in event.result

    def left() -> list[int]:
        return [p.pid for p in psutil.process_iter(["cmdline"]) if bomb in " ".join(p.info["cmdline"] or [])]

    assert not left(), f"the tool returned while bomb processes still ran: {left()}"


def test_an_infinite_loop_inside_a_test_is_stopped(ws):
    call(ws, "write_file", path="tests/test_spin.py", content="def test_spin():\n    while True:\n        pass\n")
    started = time.monotonic()
    event = call(ws, "run_command", command="pytest -q tests/test_spin.py")
    assert time.monotonic() - started < 30 and "time limit" in event.result


def test_a_flood_of_output_is_cut_quickly(ws):
    call(ws, "write_file", path="flood.py", content="import sys\nchunk = 'x' * 1024 * 1024\n"
                                                    "for _ in range(100):\n    sys.stdout.write(chunk)\n")
    started = time.monotonic()
    event = call(ws, "run_command", command="python flood.py")
    assert time.monotonic() - started < 20
    assert len(event.result.encode()) < 17 * 1024 and "output cut" in event.result


def test_malformed_calls_are_answered_and_counted(ws):
    bad = [ws.call("read_file", "{not json"), ws.call("delete_everything", {"path": "."}),
           ws.call("write_file", {"path": "a.py"}), ws.call("run_command", "[1, 2]")]
    assert all(e.malformed and e.result.startswith("error:") for e in bad)


def test_a_hostile_trajectory_replays_to_the_end():
    turns = [{"tool_calls": [{"name": "run_command", "arguments": {"command": "rm -rf /"}},
                             {"name": "read_file", "arguments": {"path": "../../../../etc/passwd"}},
                             {"name": "write_file", "arguments": "{broken"}]},
             {"content": "done"}]
    result = replay(TASK, turns)
    assert result["turns"] == 2 and result["malformed_calls"] == 1 and len(result["tool_results"]) == 3
    assert not result["passed"]
