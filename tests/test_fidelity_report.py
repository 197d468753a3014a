"""A server's losses and the model config's request shaping, seen from the command line: `siliconbench run`
against the scripted server, then the records and the report.
"""

import json

from typer.testing import CliRunner

from orchestrator.agent.chat_client import run_seed
from orchestrator.cli.main import app
from orchestrator.config import CONFIG_DIR, load_config
from orchestrator.report.build import build_report
from orchestrator.report.render import render
from orchestrator.taskdef import load_task
from tests.helpers.scripted_server import ScriptedModel

TASK = "read_fix_write"
READ = {"name": "read_file", "arguments": {"path": "README.md"}}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_lost_calls_reach_the_turn_records_the_run_reason_and_the_report(tmp_path):
    script = [{"tool_calls": [READ]}, {"content": "", "finish_reason": "tool_calls"}]
    with ScriptedModel({load_task(TASK).prompt: script}) as model:
        result = invoke("run", "--base-url", model.base_url, "--served-model", "scripted", "--tasks", TASK,
                        "--runs", "2", "--out", tmp_path / "res", "--no-report")
        assert result.exit_code == 0, result.output
    turns = read_jsonl(tmp_path / "res" / "turns.jsonl")
    assert [t["lost_calls"] for t in turns if t["turn"] == 2] == [["finish_tool_calls_without_call"]] * 2
    assert all(t["lost_calls"] == [] for t in turns if t["turn"] == 1)
    assert [r["reason"] for r in read_jsonl(tmp_path / "res" / "runs.jsonl")] == ["parser_dropped_call"] * 2
    report = build_report([tmp_path / "res"])
    (fin,) = report["finish_reasons"]["raw"].values()
    assert fin["turns_with_lost_calls"] == 2 and fin["lost_calls"] == {"finish_tool_calls_without_call": 2}
    text = render(report, "md")
    assert "lost" in text and "calls" in text


def test_run_with_a_seed_models_config_against_a_running_server_sends_its_cards_request(tmp_path):
    config = load_config(CONFIG_DIR / "qwen3.5-27b.yaml")
    script = [{"reasoning": "Read the README first.", "tool_calls": [READ]}, {"content": "Nothing to fix."}]
    with ScriptedModel({load_task(TASK).prompt: script}) as model:
        result = invoke("run", "--model", "qwen3.5-27b", "--base-url", model.base_url, "--served-model", "scripted",
                        "--tasks", TASK, "--runs", "2", "--out", tmp_path / "res", "--no-report")
        assert result.exit_code == 0, result.output
        bodies = [b for b in model.requests if b.get("stream") and len(b["messages"]) > 1 and b.get("tools")]
    assert len(bodies) == 4, "two runs of two turns"
    for body in bodies:
        assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.6, 0.95, 8192)
        assert (body["top_k"], body["min_p"], body["presence_penalty"], body["repetition_penalty"]) == (20, 0.0, 0.0, 1.0)
        assert body["chat_template_kwargs"] == {"enable_thinking": True}
    seeds = [body["seed"] for body in bodies]
    assert seeds[0] == seeds[1] != seeds[2] == seeds[3], "one seed a run, the same for every turn of it"
    assert set(seeds) == {run_seed(config.sampling.seed, TASK, r) for r in (0, 1)}
    second_turn = [m for m in bodies[1]["messages"] if m["role"] == "assistant"][0]
    assert second_turn["reasoning_content"] == second_turn["reasoning"] == "Read the README first."
    turns = read_jsonl(tmp_path / "res" / "turns.jsonl")
    assert {t["seed"] for t in turns} == set(seeds) and {t["max_tokens"] for t in turns} == {8192}
    runs = read_jsonl(tmp_path / "res" / "runs.jsonl")
    assert {r["run"]: r["seed"] for r in runs} == {r: run_seed(config.sampling.seed, TASK, r) for r in (0, 1)}


def test_the_report_says_how_much_of_the_prompt_was_cached():
    from orchestrator.report.cost import _cached_share

    turns = [{"prompt_tokens": 1000, "cached_tokens": 990}, {"prompt_tokens": 3000, "cached_tokens": 1010},
             {"prompt_tokens": 500, "cached_tokens": None}, {"prompt_tokens": None, "cached_tokens": 5}]
    assert _cached_share(turns) == 2000 / 4000  # only turns that report both count
    assert _cached_share([{"prompt_tokens": 10, "cached_tokens": None}]) is None


def test_the_speed_and_memory_tables_carry_the_cached_share_and_the_footprint(tmp_path):
    script = [{"tool_calls": [READ]}, {"content": "Nothing to fix."}]
    with ScriptedModel({load_task(TASK).prompt: script}) as model:
        assert invoke("run", "--base-url", model.base_url, "--served-model", "scripted", "--tasks", TASK,
                      "--runs", "1", "--out", tmp_path / "res", "--no-report").exit_code == 0
    report = build_report([tmp_path / "res"])
    (perf,) = report["performance"].values()
    assert "prompt_cached_share" in perf and "peak_footprint_bytes" in perf
    text = render(report, "md")
    assert "cached" in text and "footprint" in text
