"""`siliconbench run` behaviours as users meet them, through the CLI: --resume retrying runs lost to
server faults, the request deadline against a server that drips tokens forever, old tool outputs
shortened to fit the model's window, a model config applied to a server given by --base-url, and
--concurrency really sending N requests at once.

The model is the scripted one (tests/helpers/scripted_server.py: real HTTP, real openai client, real
loop, tools and graders); the llama-server test at the end uses the real server and embedded model.
"""

import json
import re
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backends.llamacpp import find_binary
from orchestrator.agent.chat_client import run_seed
from orchestrator.cli.main import app
from orchestrator.config import default_config_path
from orchestrator.results.records import read_jsonl
from orchestrator.taskdef import load_task
from tests.helpers.scripted_server import ScriptedModel, trajectory_script

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
READ_TASK = "config_read"


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def attached(model, out, *extra, task=READ_TASK):
    return ["run", "--base-url", model.base_url, "--served-model", "scripted", "--tasks", task, "--runs", "1",
            "--out", out, "--no-report", *extra]


def chat_requests(model) -> list[dict]:
    """The task's requests (the warm-up's one-line prompt is not a task)."""
    return [r for r in model.requests if any(m.get("role") == "user" and len(m.get("content") or "") > 40
                                             for m in r["messages"])]


def test_resume_retries_runs_lost_to_server_faults_and_only_those(tmp_path):
    prompt = load_task(READ_TASK).prompt
    out = tmp_path / "res"
    with ScriptedModel({prompt: [{"http_error": 503}]}) as model:
        assert cli(*attached(model, out, "--runs", "2")).exit_code == 0
        first = read_jsonl(out / "runs.jsonl")
        assert [(r["run"], r["reason"], r["attempts"]) for r in first] == [(0, "infra_error", 3), (1, "infra_error", 3)]
        # The server is healthy again: --resume runs both again, and they pass.
        model.scripts = {prompt: trajectory_script(TASKS_DIR / READ_TASK / "trajectories" / "reference.json")}
        assert cli(*attached(model, out, "--runs", "2", "--resume")).exit_code == 0
        after = read_jsonl(out / "runs.jsonl")[2:]
        assert sorted((r["run"], r["passed"], r["attempts"]) for r in after) == [(0, True, 1), (1, True, 1)]
        # Nothing left to retry: a further --resume asks the model nothing.
        asked = len(chat_requests(model))
        assert cli(*attached(model, out, "--runs", "2", "--resume")).exit_code == 0
        assert len(read_jsonl(out / "runs.jsonl")) == 4 and len(chat_requests(model)) == asked


def endpoint_config(tmp_path: Path, model, **fields) -> Path:
    data = {"name": "dripping", "backend": "openai", "context_length": 4096,
            "openai": {"base_url": model.base_url, "served_model": "scripted"}, **fields}
    path = tmp_path / "endpoint.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_server_dripping_tokens_forever_meets_the_request_deadline(tmp_path):
    # One token every 50 ms never trips a read timeout; only the whole-request deadline ends it.
    prompt = load_task(READ_TASK).prompt
    with ScriptedModel({prompt: [{"drip_s": 60, "token_delay_s": 0.05}]}) as model:
        config = endpoint_config(tmp_path, model, request_timeout_s=1.5)
        started = time.monotonic()
        assert cli("run", "--model", config, "--tasks", READ_TASK, "--runs", "1", "--out", tmp_path / "res",
                   "--no-report").exit_code == 0
        elapsed_s = time.monotonic() - started
    (run,) = read_jsonl(tmp_path / "res" / "runs.jsonl")
    assert run["reason"] == "infra_error" and run["attempts"] == 3 and run["passed"] is False
    assert "longer than 1.5 s" in run["error"]
    assert elapsed_s < 40, "three attempts of 1.5 s each, not the server's 60 s"


SECURITY_FILES = ["store/db.py", "store/reports.py", "store/products.py", "tests/test_store.py", "store/users.py",
                  "store/orders.py"]


def reading_script() -> list[dict]:
    return [{"tool_calls": [{"name": "read_file", "arguments": {"path": p}}]} for p in SECURITY_FILES] + \
           [{"content": "I have read them."}]


@pytest.mark.parametrize("context, shortened", [(1024, True), (65536, False)])
def test_old_tool_outputs_are_shortened_to_fit_the_window_in_a_real_run(tmp_path, context, shortened):
    task = load_task("security_fix")
    with ScriptedModel({task.prompt: reading_script()}) as model:
        assert cli(*attached(model, tmp_path / "res", "--context", context, task="security_fix")).exit_code == 0
        last = chat_requests(model)[-1]["messages"]
    (run,) = read_jsonl(tmp_path / "res" / "runs.jsonl")
    tool_outputs = [m["content"] for m in last if m["role"] == "tool"]
    assert len(tool_outputs) == len(SECURITY_FILES)
    full = [(task.repo / p).read_text() for p in SECURITY_FILES]
    if shortened:
        assert run["context_truncations"] > 0
        assert "[older output shortened" in tool_outputs[0] and len(tool_outputs[0]) < len(full[0])
        assert tool_outputs[-4:] == full[-4:], "the newest outputs are kept whole"
        transcript = json.loads((tmp_path / "res" / run["transcript"]).read_text())
        assert "[older output shortened" in transcript["messages"][3]["content"]
    else:
        assert run["context_truncations"] == 0 and tool_outputs == full


def test_a_model_config_applies_to_a_server_given_by_base_url(tmp_path):
    data = yaml.safe_load(default_config_path().read_text())
    data.update(name="tuned-smollm2", context_length=4096, chat_template_kwargs={"enable_thinking": False})
    data["sampling"].update(temperature=0.25, top_p=0.9, max_tokens=321, seed=7)
    data["llamacpp"]["chat_template"] = str(default_config_path().parent / data["llamacpp"]["chat_template"])
    config = tmp_path / "tuned.yaml"
    config.write_text(yaml.safe_dump(data))
    prompt = load_task(READ_TASK).prompt
    with ScriptedModel({prompt: trajectory_script(TASKS_DIR / READ_TASK / "trajectories" / "reference.json")}) as model:
        result = cli("run", "--model", config, "--base-url", model.base_url, "--served-model", "scripted",
                     "--tasks", READ_TASK, "--runs", "1", "--out", tmp_path / "res", "--no-report")
        assert result.exit_code == 0, result.output
        requests = chat_requests(model)
    assert requests
    for body in requests:
        # The config's seed is the base of the run's own seed (orchestrator/agent/chat_client.run_seed).
        assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
            0.25, 0.9, 321, run_seed(7, READ_TASK, 0))
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
        assert body["model"] == "scripted"
    (run,) = read_jsonl(tmp_path / "res" / "runs.jsonl")
    assert run["model"] == "tuned-smollm2" and run["passed"] is True


def test_concurrency_sends_that_many_requests_at_once(tmp_path):
    prompt = load_task(READ_TASK).prompt
    # Each first turn waits until two requests are in flight: with one at a time it would wait 10 s.
    script = [{"wait_for_peers": 2, **turn} if i == 0 else turn for i, turn in
              enumerate(trajectory_script(TASKS_DIR / READ_TASK / "trajectories" / "reference.json"))]
    with ScriptedModel({prompt: script}) as model:
        started = time.monotonic()
        assert cli(*attached(model, tmp_path / "res", "--runs", "2", "--concurrency", "2")).exit_code == 0
        assert model.max_in_flight == 2 and time.monotonic() - started < 10
    runs = read_jsonl(tmp_path / "res" / "runs.jsonl")
    assert [r["passed"] for r in runs] == [True, True]


def test_without_concurrency_one_request_at_a_time(tmp_path):
    prompt = load_task(READ_TASK).prompt
    with ScriptedModel({prompt: trajectory_script(TASKS_DIR / READ_TASK / "trajectories" / "reference.json")}) as model:
        assert cli(*attached(model, tmp_path / "res", "--runs", "3")).exit_code == 0
        assert model.max_in_flight == 1


@pytest.mark.parametrize("usage_tokens, source", [(123, "server_usage"), (None, None)])
def test_the_servers_own_reasoning_token_count_is_recorded_before_any_estimate(tmp_path, usage_tokens, source):
    prompt = load_task(READ_TASK).prompt
    turn = {"reasoning": "Let me think about where the retry settings live." * 2, "content": "I do not know."}
    if usage_tokens is not None:
        turn["reasoning_tokens"] = usage_tokens
    with ScriptedModel({prompt: [turn]}) as model:
        assert cli(*attached(model, tmp_path / "res")).exit_code == 0
    (record,) = read_jsonl(tmp_path / "res" / "turns.jsonl")
    if usage_tokens is not None:
        assert (record["thinking_tokens"], record["thinking_tokens_source"]) == (123, "server_usage")
    else:  # the scripted server has no /tokenize: a share of the completion tokens, said to be an estimate
        assert record["thinking_tokens_source"] == "estimate" and 0 < record["thinking_tokens"] < 123
    (run,) = read_jsonl(tmp_path / "res" / "runs.jsonl")
    assert run["thinking_tokens"] == record["thinking_tokens"]


def slots_busy_at_once(server_log: str) -> int:
    """Most llama-server slots processing a task at the same moment, read from its own log."""
    busy, most = set(), 0
    for line in server_log.splitlines():
        found = re.search(r"slot +(launch_slot_|release): id +(\d+) \|", line)
        if found:
            slot = found.group(2)
            busy = busy | {slot} if found.group(1) == "launch_slot_" else busy - {slot}
            most = max(most, len(busy))
    return most


@pytest.mark.real_server
@pytest.mark.skipif(find_binary() is None, reason="llama-server not installed (bash scripts/install.sh)")
def test_concurrency_n_really_runs_n_at_once_on_llama_server(tmp_path):
    data = yaml.safe_load(default_config_path().read_text())
    data["sampling"].update(max_tokens=8)
    data["llamacpp"]["chat_template"] = str(default_config_path().parent / data["llamacpp"]["chat_template"])
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "res"
    result = cli("run", "--model", config, "--concurrency", "2", "--tasks", READ_TASK, "--runs", "2",
                 "--max-turns", "1", "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    label = data["name"]
    command = json.loads((out / "models" / label / "meta.json").read_text())["server"]["command"]
    assert command[command.index("--parallel") + 1] == "2", command
    log = (out / "models" / label / "server.log").read_text()
    assert re.search(r"n_slots = 2\b", log), "llama-server did not start with two slots"
    assert slots_busy_at_once(log) == 2, "the two task runs never ran on the server at the same time"
    runs = read_jsonl(out / "runs.jsonl")
    assert len(runs) == 2 and all(r["concurrency"] == 2 and r["reason"] != "infra_error" for r in runs)


@pytest.mark.parametrize("verb", ["run", "sweep"])
def test_concurrency_gives_a_launched_llama_server_that_many_slots(tmp_path, verb):
    # The stand-in takes llama-server's real command line (tests/helpers/standin_server.py): what is
    # checked is the command our launcher built for it, on both verbs.
    from tests.test_backends_faults import STANDIN

    config = tmp_path / "standin.yaml"
    config.write_text(yaml.safe_dump({
        "name": "standin", "backend": "llamacpp", "context_length": 2048,
        "llamacpp": {"model": "standin.gguf", "executable": [sys.executable, str(STANDIN)],
                     "extra_args": ["--mode", "ok"], "startup_timeout_s": 30}}))
    out = tmp_path / "res"
    args = [verb, config, "--concurrency", "3", "--tasks", READ_TASK, "--runs", "1", "--max-turns", "1",
            "--out", out, "--no-report"]
    if verb == "run":
        args[1:2] = ["--model", config]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "models" / "standin" / "meta.json").read_text())
    command = meta["server"]["command"]
    assert command[command.index("--parallel") + 1] == "3", command
    assert command[command.index("-c") + 1] == str(2048 * 3), "each slot gets the whole context"
    (run,) = read_jsonl(out / "runs.jsonl")
    assert run["concurrency"] == 3
    # A launched server is measured: each turn carries its process tree's peak memory and the machine's.
    turns = read_jsonl(out / "turns.jsonl")
    assert turns and all(t["server_peak_rss_bytes"] > 0 and t["system_used_bytes"] > 0
                         and t["system_available_bytes"] > 0 for t in turns)
    assert run["peak_rss_bytes"] == max(t["server_peak_rss_bytes"] for t in turns)
