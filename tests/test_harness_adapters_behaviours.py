"""Each harness adapter's reading of how its harness ended, and what it is told to do, by exact result.

The inputs are the harnesses' own output formats (Claude Code's `--output-format json` summary,
OpenCode's JSON-lines events, mini-swe-agent's trajectory.json), written here as those harnesses
write them; the real harnesses run end to end in tests/test_harness_e2e.py.
"""

import json
from pathlib import Path

import pytest

from orchestrator.harness import registry
from orchestrator.harness.adapter import HarnessRequest

claude = registry.get("claude-code")
opencode = registry.get("opencode")
mini = registry.get("mini-swe-agent")


def summary(**fields):
    return "some progress text\n" + json.dumps({"type": "result", **fields}) + "\n"


@pytest.mark.parametrize("fields, ended", [
    ({"subtype": "success", "is_error": False}, "answer"),
    ({"subtype": "success", "is_error": True}, "harness_error"),
    ({"subtype": "error_max_turns"}, "max_turns"),
    ({"subtype": "error_during_execution"}, "harness_error"),
])
def test_claude_code_ending_comes_from_its_summary(fields, ended):
    assert claude.parse(summary(**fields), 0, Path("/x")).ended == ended


def test_claude_code_prompt_tokens_count_cached_and_cache_written_input():
    out = claude.parse(summary(subtype="success", is_error=False, num_turns=6, result="Fixed it.",
                               usage={"input_tokens": 100, "cache_read_input_tokens": 2000,
                                      "cache_creation_input_tokens": 30, "output_tokens": 77}), 0, Path("/x"))
    assert (out.turns, out.prompt_tokens, out.completion_tokens, out.final_answer, out.detail) == \
        (6, 2130, 77, "Fixed it.", None)
    failed = claude.parse(summary(subtype="error_max_turns", num_turns=30), 1, Path("/x"))
    assert (failed.prompt_tokens, failed.detail) == (None, "error_max_turns")
    assert claude.parse("crashed before any summary", 2, Path("/x")).ended == "harness_error"


def events(*items):
    return "\n".join(json.dumps(e) for e in items) + "\n"


def test_opencode_adds_up_its_steps_tokens_and_takes_its_last_text():
    out = opencode.parse(events(
        {"type": "step_finish", "part": {"tokens": {"input": 10, "output": 5, "reasoning": 2, "cache": {"read": 100, "write": 1}}}},
        {"type": "text", "part": {"text": "first"}},
        {"type": "step_finish", "part": {"tokens": {"input": 20, "output": 7}}},
        {"type": "text", "part": {"text": "All fixed."}}), 0, Path("/x"))
    assert (out.ended, out.turns, out.prompt_tokens, out.completion_tokens, out.final_answer, out.detail) == \
        ("answer", 2, 131, 14, "All fixed.", None)


def test_opencode_at_its_step_limit_ran_out_of_turns_and_an_error_or_exit_status_is_a_harness_error():
    limit = opencode.parse(events({"type": "step_finish", "part": {"reason": "max_steps"}}), 0, Path("/x"))
    assert (limit.ended, limit.prompt_tokens) == ("max_turns", None)
    errored = opencode.parse(events({"type": "error", "error": {"name": "APIError"}}), 0, Path("/x"))
    assert errored.ended == "harness_error" and "APIError" in errored.detail
    crashed = opencode.parse("", 3, Path("/x"))
    assert (crashed.ended, crashed.detail, crashed.turns) == ("harness_error", "exit status 3", None)


@pytest.mark.parametrize("status, ended", [("Submitted", "answer"), ("LimitsExceeded", "max_turns"),
                                           ("TimeExceeded", "time_limit"), ("RuntimeError", "harness_error")])
def test_mini_swe_agent_ending_comes_from_its_exit_status(tmp_path, status, ended):
    (tmp_path / mini.TRAJECTORY).write_text(json.dumps({"info": {"exit_status": status}, "messages": []}))
    out = mini.parse("", 0, tmp_path)
    assert out.ended == ended and out.detail == (None if status == "Submitted" else status)


def test_mini_swe_agent_sums_the_usage_of_every_model_answer(tmp_path):
    def answer(p, c, text):
        return {"role": "assistant", "content": text, "extra": {"response": {"usage": {"prompt_tokens": p, "completion_tokens": c}}}}
    (tmp_path / mini.TRAJECTORY).write_text(json.dumps({
        "info": {"exit_status": "Submitted", "model_stats": {"api_calls": 2}},
        "messages": [{"role": "user", "content": "task"}, answer(100, 10, "look"), answer(150, 20, "done")]}))
    out = mini.parse("", 0, tmp_path)
    assert (out.turns, out.prompt_tokens, out.completion_tokens, out.final_answer) == (2, 250, 30, "done")
    (tmp_path / mini.TRAJECTORY).unlink()
    assert mini.parse("boom", 1, tmp_path).ended == "harness_error"


def test_each_harness_is_told_the_turn_limit_model_and_proxy(tmp_path):
    req = HarnessRequest(prompt="Fix it.", workdir=tmp_path, state=tmp_path / "home", base_url="http://127.0.0.1:9",
                         model="served", max_turns=7, max_tokens=1234)
    argv = claude.invocation(req, Path("/bin/claude"))
    assert argv.argv[argv.argv.index("--max-turns") + 1] == "7" and argv.argv[argv.argv.index("--model") + 1] == "served"
    assert argv.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9" and argv.env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "1234"
    assert argv.env["HOME"] == str(tmp_path / "home")
    oc = opencode.invocation(req, Path("/bin/opencode"))
    (written,) = oc.files.values()
    config = json.loads(written)
    assert config["agent"]["build"]["steps"] == 7
    assert config["provider"]["siliconbench"]["options"]["baseURL"] == "http://127.0.0.1:9/v1"
    assert config["provider"]["siliconbench"]["models"]["served"]["limit"]["output"] == 1234
    ms = mini.invocation(req, Path("/bin/mini"))
    assert "agent.step_limit=7" in ms.argv and "model.model_kwargs.api_base=http://127.0.0.1:9/v1" in ms.argv
    assert "model.model_kwargs.max_tokens=1234" in ms.argv
