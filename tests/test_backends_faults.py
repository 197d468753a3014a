"""Server faults through the real launcher, with a stand-in executable that speaks the same HTTP API.

A real llama-server cannot be made to exit during start-up, hang before listening, ignore SIGTERM or
leave a grandchild on cue, so these use tests/helpers/standin_server.py (started exactly as llama-server
would be, through the llamacpp backend's `executable` override). Real servers: test_backends_real.py.
"""

import sys
import time
from pathlib import Path

import psutil
import pytest

import backends.base
from backends import launch
from orchestrator.config import parse_config
from orchestrator.errors import InfraError
from orchestrator.session.managed_server import ManagedServer

STANDIN = Path(__file__).parent / "helpers" / "standin_server.py"


def standin_config(mode: str, startup_timeout_s: float = 20) -> object:
    return parse_config({
        "name": "standin", "backend": "llamacpp", "context_length": 2048,
        "llamacpp": {"model": "standin.gguf", "executable": [sys.executable, str(STANDIN)],
                     "extra_args": ["--mode", mode], "startup_timeout_s": startup_timeout_s},
    }, "standin.yaml")


def assert_gone(pids, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes left behind: {alive}")


def test_healthy_standin_starts_answers_and_stops(tmp_path):
    with launch(standin_config("ok"), log_path=tmp_path / "s.log") as server:
        assert server.is_alive() and server.base_url.startswith("http://127.0.0.1:")
        assert server.load_s is not None and server.command[0] == sys.executable
        pid = server.pid
    assert_gone([pid])


def test_exit_during_startup_says_command_log_and_time(tmp_path):
    started = time.monotonic()
    with pytest.raises(InfraError) as err:
        with launch(standin_config("exit_at_start"), log_path=tmp_path / "s.log"):
            pass
    message = str(err.value)
    assert "exited with code 3" in message and str(STANDIN) in message
    assert "file is corrupt" in message  # the log's last lines
    assert time.monotonic() - started < 15


def test_never_ready_times_out_under_the_deadline(tmp_path):
    with pytest.raises(InfraError, match=r"not ready after \d+ s"):
        with launch(standin_config("never_ready", startup_timeout_s=2), log_path=tmp_path / "s.log"):
            pass
    assert not [p for p in psutil.process_iter(["cmdline"]) if "never_ready" in " ".join(p.info["cmdline"] or [])]


def test_server_ignoring_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(backends.base, "STOP_GRACE_S", 1.0)
    with launch(standin_config("ignore_sigterm"), log_path=tmp_path / "s.log") as server:
        pid = server.pid
    assert_gone([pid])


def test_children_and_a_grandchild_in_its_own_session_are_stopped(tmp_path):
    with launch(standin_config("spawn_children"), log_path=tmp_path / "s.log") as server:
        kids = [c.pid for c in psutil.Process(server.pid).children(recursive=True)]
        assert len(kids) >= 2
        pid = server.pid
    assert_gone([pid, *kids])


def test_stop_happens_on_an_exception_too(tmp_path):
    with pytest.raises(RuntimeError):
        with launch(standin_config("ok"), log_path=tmp_path / "s.log") as server:
            pid = server.pid
            raise RuntimeError("boom")
    assert_gone([pid])


def test_server_dying_mid_run_is_noticed_and_restarted(tmp_path):
    managed = ManagedServer(standin_config("die_after=1"), tmp_path / "s.log", max_restarts=1)
    with managed:
        first_pid = managed.server.pid
        import httpx
        body = {"model": "standin", "messages": [{"role": "user", "content": "x"}], "max_tokens": 4}
        with pytest.raises(httpx.HTTPError):  # the readiness request was the one it answered
            httpx.post(f"{managed.base_url}/chat/completions", json=body, timeout=5)
        managed.server.process.wait(timeout=5)
        assert not managed.server.is_alive()
        assert managed.ensure_alive() is True and managed.restarts == 1
        assert managed.server.pid != first_pid and managed.server.is_alive()
        managed.server.process.kill()
        managed.server.process.wait()
        assert managed.ensure_alive() is False  # restarts used up
    assert_gone([first_pid])
