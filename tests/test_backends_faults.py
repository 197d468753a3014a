"""Server faults through the real launcher, with a stand-in executable that speaks the same HTTP API.

A real llama-server cannot be made to exit during start-up, hang before listening, ignore SIGTERM or
leave a grandchild on cue, so these use tests/helpers/standin_server.py (started exactly as llama-server
would be, through the llamacpp backend's `executable` override). Real servers: test_backends_real.py.
"""

import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

import backends.server
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
    # A tag only this test's server carries: other sessions on this machine may run stand-ins too.
    tag = f"never-ready-{uuid.uuid4().hex}"
    config = standin_config("never_ready", startup_timeout_s=2)
    config.llamacpp.extra_args += ["--tag", tag]
    started = time.monotonic()
    with pytest.raises(InfraError, match=r"not ready after \d+ s"):
        with launch(config, log_path=tmp_path / "s.log"):
            pass
    assert time.monotonic() - started < 15
    assert not [p for p in psutil.process_iter(["cmdline"]) if tag in " ".join(p.info["cmdline"] or [])]


def test_server_ignoring_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(backends.server, "STOP_GRACE_S", 1.0)
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
        assert managed.ensure_alive() is True and len(managed.restarts) == 1
        assert "stopped answering" in managed.restarts[0]["reason"]
        assert managed.server.pid != first_pid and managed.server.is_alive()
        managed.server.process.kill()
        managed.server.process.wait()
        assert managed.ensure_alive() is False  # restarts used up
    assert_gone([first_pid])


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="POSIX shared memory under /dev/shm is Linux's")
def test_stop_lets_workers_clean_up_then_removes_only_the_servers_shared_memory(tmp_path):
    """vLLM's workers release shared memory after the API process has exited: the stop must wait for
    the whole tree, and then remove what the tree had mapped, and nothing else."""
    marker = tmp_path / "worker-cleaned"
    not_ours = Path(f"/dev/shm/sbtest-{uuid.uuid4().hex}")
    not_ours.write_bytes(b"another program's segment")
    log = tmp_path / "s.log"
    try:
        with launch(standin_config(f"worker_shm={marker}"), log_path=log):
            segment = None
            deadline = time.monotonic() + 20
            while segment is None and time.monotonic() < deadline:
                lines = [line for line in log.read_text().splitlines() if line.startswith("segment ")]
                segment = Path(lines[0].split()[1]) if lines else None
                time.sleep(0.05)
            assert segment is not None and segment.exists(), log.read_text()
        assert marker.read_text() == "clean", "the worker was killed during its clean-up"
        assert not segment.exists(), "the server's leftover shared memory was not removed"
        assert not_ours.exists(), "a segment the server never mapped was removed"
    finally:
        not_ours.unlink(missing_ok=True)


def test_a_port_taken_by_another_program_before_the_server_binds_it_is_given_up(tmp_path, monkeypatch):
    """Picking a free port and starting the server on it is a race: a program that takes the port in
    between must never be mistaken for our server; the start goes on on another port."""
    from backends.base import free_port as real_free_port
    from tests.helpers.scripted_server import ScriptedModel

    with ScriptedModel([], model="decoy", final_content="not yours") as decoy:
        decoy_port = int(decoy.base_url.rsplit(":", 1)[1].removesuffix("/v1"))
        ports = iter([decoy_port])
        monkeypatch.setattr(backends.server, "free_port", lambda: next(ports, None) or real_free_port())
        with launch(standin_config("ok"), log_path=tmp_path / "s.log") as server:
            port = int(server.base_url.rsplit(":", 1)[1].removesuffix("/v1"))
            assert port != decoy_port and server.is_alive()
        chats = [r for r in decoy.requests if r.get("messages")]
        assert not chats, "a readiness request went to the program that took the port"
