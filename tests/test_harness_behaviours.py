"""Harness behaviours by exact result: which server answers are faults (retried, never scored) and which
are the harness's; what a metered request adds to its turn record; how a harness run ends (the server
failed, our wall clock, its own turn limit); a harness refused before it runs on too small a window.

The proxy runs over its real unix socket in front of the scripted model (real HTTP); the end of a
harness run is judged by the runner's own `_harness_result` over a real fixture workspace.
"""

import json
import sys
import time

import httpx
import psutil
import pytest

from orchestrator.agent.stream import StreamAccumulator
from orchestrator.errors import UserError
from orchestrator.harness import proxy as proxy_module
from orchestrator.harness import registry
from orchestrator.harness.adapter import HarnessOutcome
from orchestrator.harness.metering import turn_record
from orchestrator.harness.proxy import Metered, MeteringProxy
from orchestrator.harness.runner import _harness_result, remove_leftovers, run_limited
from orchestrator.taskdef import load_task
from orchestrator.workspace.workspace import Workspace
from tests.helpers.scripted_server import ScriptedModel


@pytest.fixture
def proxied(tmp_path):
    opened = []

    def start(script):
        model = ScriptedModel(script).__enter__()
        records = []
        proxy = MeteringProxy(model.base_url, tmp_path / "p.sock", "scripted", records.append, timeout_s=10).__enter__()
        client = httpx.Client(transport=httpx.HTTPTransport(uds=str(tmp_path / "p.sock")), base_url="http://sandbox",
                              timeout=10)
        opened.append((model, proxy, client))
        return model, client, records

    yield start
    for model, proxy, client in opened:
        client.close()
        proxy.__exit__(None, None, None)
        model.__exit__(None, None, None)


CHAT = {"model": "x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def test_a_request_the_server_refuses_is_the_harnesss_and_a_5xx_is_a_server_fault(proxied):
    model, client, records = proxied([{"http_error": 400}])
    refused = client.post("/v1/chat/completions", json=CHAT)
    assert refused.status_code == 400 and refused.json() == {"error": {"message": "scripted failure"}}
    model.scripts = [{"http_error": 502}]
    failed = client.post("/v1/chat/completions", json=CHAT)
    assert failed.status_code == 502
    assert [(r.server_fault, r.result) for r in records] == [(False, None), (True, None)]
    assert records[0].error.startswith("server answered HTTP 400") and records[1].error.startswith("server answered HTTP 502")


def test_a_harness_request_over_the_size_limit_is_refused_unrecorded(proxied, monkeypatch):
    monkeypatch.setattr(proxy_module, "MAX_REQUEST_BYTES", 100)
    model, client, records = proxied([{"content": "ok"}])
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 200}]}
    assert client.post("/v1/chat/completions", json=big).status_code == 413
    assert records == [] and model.requests == []
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200 and len(records) == 1


def test_counting_tokens_without_the_servers_help_estimates_four_bytes_a_token(proxied):
    model, client, records = proxied([{"content": "ok"}])
    raw = json.dumps({"model": "x", "messages": [{"role": "user", "content": "y" * 397}]}).encode()
    counted = client.post("/v1/messages/count_tokens", content=raw, headers={"content-type": "application/json"})
    assert counted.json() == {"input_tokens": len(raw) // 4}


def test_a_metered_request_becomes_a_turn_record_with_its_wire_size_and_tools(proxied):
    model, client, records = proxied([{"content": "Fine.", "reasoning": "Let me think.", "reasoning_tokens": 3}])
    body = {**CHAT, "tools": [{"type": "function", "function": {"name": "a"}},
                              {"type": "function", "function": {"name": "b"}}]}
    raw = json.dumps(body).encode()
    assert client.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"}).status_code == 200
    (metered,) = records
    assert (metered.api, metered.translated, metered.request_bytes, metered.tools_offered) == ("chat", False, len(raw), 2)
    base = {"model": "m", "config_hash": "h", "task": "config_read", "run": 0, "mode": "opencode"}
    rec = turn_record(base, 4, metered, {"server_peak_rss_bytes": 123}, None, warm=True)
    assert (rec.turn, rec.api, rec.translated, rec.request_bytes, rec.tools_offered) == (4, "chat", False, len(raw), 2)
    assert (rec.thinking_tokens, rec.thinking_tokens_source) == (3, "server_usage")
    assert rec.server_peak_rss_bytes == 123 and rec.finish_reason == "stop" and rec.warm is True
    assert turn_record(base, 5, Metered("responses", False, 10, 0, None, "refused"), {}, None, True) is None


def answered(text="Done."):
    acc = StreamAccumulator(t_sent=0.0)
    acc.feed(0.5, {"choices": [{"delta": {"content": text}, "finish_reason": "stop"}]})
    return acc.finish(1.0)


@pytest.fixture
def workspace():
    with Workspace.create(load_task("config_read")) as ws:
        yield ws


def ended(ws, metered, outcome):
    result = _harness_result(load_task("config_read"), ws, registry.get("mini-swe-agent"), metered, outcome,
                             [m.error for m in metered if m.server_fault])
    return result.trajectory.ended, result.error


def test_a_harness_run_the_server_failed_is_an_infra_error(workspace):
    metered = [Metered("chat", False, 10, 1, answered()),
               Metered("chat", False, 10, 1, None, "server answered HTTP 503: busy", server_fault=True)]
    assert ended(workspace, metered, HarnessOutcome("harness_error", detail="model unreachable")) == \
        ("infra_error", "server answered HTTP 503: busy")


def test_a_harness_stopped_by_our_wall_clock_ran_out_of_turns(workspace):
    metered = [Metered("chat", False, 10, 1, answered())]
    assert ended(workspace, metered, HarnessOutcome("time_limit", detail="killed at the 60 s wall-clock limit")) == \
        ("max_turns", "time_limit: killed at the 60 s wall-clock limit")
    assert ended(workspace, metered, HarnessOutcome("max_turns")) == ("max_turns", "max_turns")
    assert ended(workspace, metered, HarnessOutcome("answer")) == ("answer", None)


def test_the_servers_refusal_says_why_a_harness_gave_up(workspace):
    metered = [Metered("chat", False, 10, 1, answered()),
               Metered("chat", False, 10, 1, None, "server answered HTTP 400: prompt exceeds the context", server_fault=False)]
    assert ended(workspace, metered, HarnessOutcome("harness_error", detail="API error")) == \
        ("answer", "harness_error: API error; server answered HTTP 400: prompt exceeds the context")


def test_a_harness_whose_own_prompt_cannot_fit_the_window_is_refused_before_it_runs():
    claude = registry.get("claude-code")
    registry.check_context(claude, "m", claude.min_context_tokens)
    registry.check_context(claude, "m", None)  # an unknown window is not refused
    with pytest.raises(UserError, match=f"m has a {claude.min_context_tokens - 1}-token context, and claude-code needs"):
        registry.check_context(claude, "m", claude.min_context_tokens - 1)


def test_the_harnesss_own_state_files_are_removed_before_grading_and_nothing_else(tmp_path):
    (tmp_path / ".claude" / "todos").mkdir(parents=True)
    (tmp_path / ".claude" / "todos" / "a.json").write_text("{}")
    (tmp_path / "CLAUDE.md.local").write_text("x")
    (tmp_path / "app.py").write_text("print(1)")
    removed = remove_leftovers(tmp_path, registry.get("claude-code").leftovers)
    assert sorted(removed) == [".claude", ".claude/todos", ".claude/todos/a.json", "CLAUDE.md.local"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py"]


def test_a_harness_past_its_wall_clock_is_killed_with_its_whole_tree(tmp_path):
    # The harness starts a child that outlives it unless the whole group is killed.
    script = ("import subprocess, sys, time; "
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              "print(child.pid, flush=True); time.sleep(60)")
    began = time.monotonic()
    code, timed_out, stdout, stderr = run_limited([sys.executable, "-c", script], {}, 1.5, tmp_path)
    assert (code, timed_out) == (None, True)
    assert time.monotonic() - began < 30
    child = int(stdout.split()[0])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_a_harness_that_ends_by_itself_keeps_its_exit_status_and_output(tmp_path):
    code, timed_out, stdout, stderr = run_limited(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"], {}, 60, tmp_path)
    assert (code, timed_out, stdout, stderr) == (3, False, "out\n", "err\n")


def test_a_harness_is_found_in_the_siliconbench_prefix_before_path(tmp_path, monkeypatch):
    claude = registry.get("claude-code")
    monkeypatch.setenv("SILICONBENCH_HARNESS_PREFIX", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UserError, match=f"install it with `bash scripts/install.sh --harnesses`.*npm install -g --prefix {tmp_path} @anthropic-ai/claude-code@{claude.version}"):
        registry.locate(claude)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "claude").write_text("#!/bin/sh\n")
    assert registry.locate(claude) == tmp_path / "bin" / "claude"
