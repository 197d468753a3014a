"""`siliconbench run` end to end against the scripted model: real loop, real tools, real graders,
real HTTP, records on disk. The scripted model replays the tasks' own trajectory files."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.results.records import RunRecord, TurnRecord, read_jsonl
from orchestrator.taskdef import load_task
from tests.helpers.scripted_server import ScriptedModel, trajectory_script

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
TURN_KEYS = {"ttft_s", "prefill_tps", "decode_tps", "prompt_tokens", "completion_tokens", "wall_s",
             "server_decode_tps", "server_prefill_tps", "thinking_tokens", "thinking_tokens_source",
             "thinking_s", "server_peak_rss_bytes", "finish_reason"}


def script_for(task_id: str, name: str = "reference.json"):
    return trajectory_script(TASKS_DIR / task_id / "trajectories" / name)


def failing_trajectory(task_id: str) -> Path:
    return sorted((TASKS_DIR / task_id / "trajectories").glob("fail_*.json"))[0]


def expected_reason_of(path: Path) -> str:
    from tests.test_task_trajectories import expected_reason

    return expected_reason(path)


def invoke(*args):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


PASSING, FAILING = "config_read", "full_debug_cycle"


@pytest.fixture
def scripted():
    scripts = {
        load_task(PASSING).prompt: script_for(PASSING),
        load_task(FAILING).prompt: trajectory_script(failing_trajectory(FAILING)),
    }
    with ScriptedModel(scripts) as model:
        yield model


def run_args(model, out, *extra):
    return ["run", "--base-url", model.base_url, "--served-model", "scripted", "--tasks",
            f"{PASSING},{FAILING}", "--runs", "2", "--out", str(out), "--no-report", *extra]


def test_run_writes_every_record_and_grades_by_behaviour(scripted, tmp_path):
    out = tmp_path / "res"
    result = invoke(*run_args(scripted, out))
    assert result.exit_code == 0, result.output
    runs = [RunRecord.model_validate(r) for r in read_jsonl(out / "runs.jsonl")]
    assert len(runs) == 4
    by_task = {}
    for r in runs:
        by_task.setdefault(r.task, []).append(r)
    assert all(r.passed and r.reason is None for r in by_task[PASSING])
    expected_reason = expected_reason_of(failing_trajectory(FAILING))
    assert all(not r.passed and r.reason == expected_reason for r in by_task[FAILING])
    for r in runs:
        assert r.tier and r.turns >= 1 and r.wall_s > 0 and r.mode == "raw"
        assert (out / r.transcript).exists()
    turns = read_jsonl(out / "turns.jsonl")
    assert len(turns) == sum(r.turns for r in runs)
    for t in turns:
        TurnRecord.model_validate(t)
        assert TURN_KEYS <= set(t), TURN_KEYS - set(t)
        assert t["ttft_s"] is not None and t["completion_tokens"] is not None
        assert t["thinking_tokens_source"] in ("server_usage", "tokenizer", "estimate")
    # Every field has a default, so the keys are always there: check the values the server sent.
    for r in runs:
        script = script_for(PASSING) if r.task == PASSING else trajectory_script(failing_trajectory(FAILING))
        script += [{"content": "Done."}] * r.turns  # past its script the model answers
        mine = sorted((t for t in turns if t["task"] == r.task and t["run"] == r.run), key=lambda t: t["turn"])
        assert [t["turn"] for t in mine] == list(range(1, r.turns + 1))
        assert [t["finish_reason"] for t in mine] == \
            ["tool_calls" if s.get("tool_calls") else "stop" for s in script][:r.turns]
        assert [t["tool_calls"] for t in mine] == [len(s.get("tool_calls") or []) for s in script][:r.turns]
        assert sum(t["tool_calls"] for t in mine) == r.tool_calls
        assert all(t["prompt_tokens"] > 0 and t["completion_tokens"] > 0 and t["wall_s"] >= t["ttft_s"] > 0
                   for t in mine)
        assert [t["prompt_tokens"] for t in mine] == sorted(t["prompt_tokens"] for t in mine), \
            "each turn's prompt holds the last one's"
        assert r.prompt_tokens == sum(t["prompt_tokens"] for t in mine)
        assert r.completion_tokens == sum(t["completion_tokens"] for t in mine)
    meta = json.loads((out / "models" / "scripted" / "meta.json").read_text())
    assert meta["config_hash"] == runs[0].config_hash and meta["sampling"]["max_tokens"] == 4096
    assert meta["machine"]["os"]


def test_resume_adds_nothing_twice(scripted, tmp_path):
    out = tmp_path / "res"
    assert invoke(*run_args(scripted, out)).exit_code == 0
    before = len(scripted.requests)
    again = invoke(*run_args(scripted, out, "--resume"))
    assert again.exit_code == 0, again.output
    assert len(read_jsonl(out / "runs.jsonl")) == 4
    assert len(scripted.requests) - before <= 1  # at most the warm-up request


def test_existing_results_need_resume(scripted, tmp_path):
    out = tmp_path / "res"
    assert invoke(*run_args(scripted, out)).exit_code == 0
    result = CliRunner().invoke(app, run_args(scripted, out))
    assert result.exit_code != 0


def test_server_errors_are_infra_error_retried_and_not_scored(tmp_path):
    prompt = load_task("config_read").prompt
    with ScriptedModel({prompt: [{"http_error": 503}]}) as model:
        out = tmp_path / "res"
        result = invoke("run", "--base-url", model.base_url, "--served-model", "scripted", "--tasks",
                        "config_read", "--runs", "1", "--out", str(out), "--no-report")
        assert result.exit_code == 0, result.output
        (run,) = read_jsonl(out / "runs.jsonl")
        assert run["reason"] == "infra_error" and run["passed"] is False
        assert run["attempts"] == 3 and "503" in run["error"]


def test_concurrent_runs_are_labelled(scripted, tmp_path):
    out = tmp_path / "res"
    assert invoke(*run_args(scripted, out, "--concurrency", "2")).exit_code == 0
    runs = read_jsonl(out / "runs.jsonl")
    assert len(runs) == 4 and all(r["concurrency"] == 2 for r in runs)
    assert all(t["concurrency"] == 2 for t in read_jsonl(out / "turns.jsonl"))
