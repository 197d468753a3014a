"""The backend seam and the record schema: what every backend answers, what the orchestrator asks of it,
and the one schema and loader every writer and reader of results goes through."""

import inspect
import json
from pathlib import Path

import pytest

import orchestrator.session.replay as replay_module
from backends.base import Backend
from backends.registry import backend_names, get_backend
from orchestrator.config import default_config_path, load_config, parse_config
from orchestrator.errors import UserError
from orchestrator.results.loader import load_results
from orchestrator.results.records import ResultsDir, RunRecord, TurnRecord
from orchestrator.taskdef import load_task

PROTOCOL_METHODS = [name for name, _ in inspect.getmembers(Backend, inspect.isfunction) if not name.startswith("_")]


@pytest.mark.parametrize("name", backend_names())
def test_every_backend_answers_the_whole_protocol(name):
    backend = get_backend(name)
    assert backend.name == name
    needed = [m for m in PROTOCOL_METHODS if backend.launches or m != "build_command"]
    missing = [m for m in needed if not callable(getattr(backend, m, None))]
    assert not missing, f"{name} lacks {missing}"
    assert isinstance(backend.launches, bool) and isinstance(backend.has_tokenize, bool)


def test_an_unknown_backend_lists_the_known_ones():
    with pytest.raises(UserError, match="llamacpp"):
        get_backend("mxl")


def test_llama_server_gets_one_slot_per_concurrent_run_and_others_keep_their_config():
    config = load_config(default_config_path())
    slotted = get_backend("llamacpp").with_slots(config, 3)
    argv = get_backend("llamacpp").build_command(slotted, 8080)
    assert argv[argv.index("--parallel") + 1] == "3"
    # each slot keeps the whole window: llama-server splits -c over its slots
    assert argv[argv.index("-c") + 1] == str(config.context_length * 3)
    assert slotted.path == config.path
    assert get_backend("llamacpp").with_slots(config, 1) is config
    assert get_backend("vllm").with_slots(config, 3) is config  # vLLM batches by itself


def test_a_model_config_attached_to_a_running_server_keeps_its_request_shaping():
    config = load_config("qwen3.5-27b")
    attached = config.attached_to("http://127.0.0.1:11434/v1", "qwen3.5:27b")
    assert attached.backend == "openai" and attached.openai.base_url == "http://127.0.0.1:11434/v1"
    assert attached.openai.served_model == "qwen3.5:27b"
    assert attached.sampling == config.sampling and attached.sampling.temperature != 0.0
    assert attached.chat_template_kwargs == config.chat_template_kwargs
    assert attached.context_length == config.context_length
    assert config.attached_to("http://h/v1", None, 8192).context_length == 8192
    assert config.attached_to("http://h/v1").openai.served_model == config.name


def turn(**extra):
    return {"model": "m", "config_hash": "h", "task": "config_read", "run": 0, "turn": 1, **extra}


def run(**extra):
    return {"model": "m", "config_hash": "h", "backend": "llamacpp", "task": "config_read", "tier": "basic",
            "run": 0, "passed": False, "reason": "wrong_fix", "turns": 1, "tool_calls": 0,
            "malformed_calls": 0, "wall_s": 1.0, **extra}


def test_records_refuse_unknown_fields_and_undeclared_failure_reasons():
    with pytest.raises(ValueError):
        TurnRecord(**turn(finish_reasn="stop"))
    with pytest.raises(ValueError):
        RunRecord(**run(reason="bad_luck"))
    assert RunRecord(**run(reason="infra_error")).reason == "infra_error"


def test_the_loader_names_the_file_record_and_field_of_a_bad_line(tmp_path):
    (tmp_path / "runs.jsonl").write_text(json.dumps(run()) + "\n" + json.dumps(run(colour="red")) + "\n")
    with pytest.raises(UserError) as err:
        load_results([tmp_path])
    message = str(err.value)
    assert "runs.jsonl" in message and "record 2" in message and "colour" in message and "\n" not in message


def test_the_loader_dedups_runs_last_wins_and_keeps_only_a_retried_runs_last_turns(tmp_path):
    results = ResultsDir(tmp_path)
    results.runs.write(RunRecord(**run(reason="infra_error")))
    results.runs.write(RunRecord(**run(passed=True, reason=None)))
    for number in (1, 2, 1):  # the retry numbers its turns from 1 again
        results.turns.write(TurnRecord(**turn(turn=number, finish_reason=f"t{number}")))
    results.close()
    loaded = load_results([tmp_path])
    assert [(r["passed"], r["reason"]) for r in loaded.runs] == [(True, None)]
    assert [t["turn"] for t in loaded.turns] == [1]
    assert results.finished_keys() == {("h", "config_read", 0, "raw")}


def test_a_torn_last_line_costs_that_line_only(tmp_path):
    (tmp_path / "runs.jsonl").write_text(json.dumps(run()) + "\n" + '{"model": "m", "conf')
    assert len(load_results([tmp_path]).runs) == 1


def test_tasks_check_replays_through_the_agent_loop_that_runs_models(monkeypatch):
    calls = []
    real = replay_module.run_agent

    def spy(*args, **kwargs):
        calls.append(args[3])  # the chat the loop talked to
        return real(*args, **kwargs)

    monkeypatch.setattr(replay_module, "run_agent", spy)
    task = load_task("config_read")
    turns = replay_module.load_trajectory(task.folder / "trajectories" / "reference.json")
    result = replay_module.replay(task, turns)
    assert result["passed"] and len(calls) == 1
    chat = calls[0]
    # Turn 2's request carried turn 1's tool results: the loop, not the replay, fed them back.
    assert len(chat.requests) == len(turns)
    assert any(m["role"] == "tool" for m in chat.requests[1])


def test_a_trajectory_ending_on_tool_calls_is_a_run_out_of_turns():
    task = load_task("read_fix_write")
    turns = [{"tool_calls": [{"name": "read_file", "arguments": {"path": "README.md"}}]}] * 2
    result = replay_module.replay(task, turns)
    assert result["turns"] == 2 and result["reason"] in ("out_of_turns", "never_wrote")


def test_a_config_for_a_backend_without_a_module_cannot_exist():
    with pytest.raises(UserError, match="backend"):
        parse_config({"name": "x", "backend": "tgi", "context_length": 4096}, Path("x.yaml"))
