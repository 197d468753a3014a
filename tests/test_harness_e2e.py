"""Real coding-agent harnesses (the pinned Claude Code, OpenCode and mini-swe-agent) driven by the
scripted model: each runs inside bubblewrap behind the metering proxy, edits a fresh fixture copy, and
is graded by the same graders as raw runs. The scripted model plays the task's reference solution in
each harness's own tools (tests/helpers/harness_scripts.py); nothing of the harness is faked."""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.errors import UserError
from orchestrator.harness import registry
from orchestrator.harness.runner import HarnessSettings, remove_leftovers, run_harness_task
from orchestrator.results.records import read_jsonl
from orchestrator.taskdef import load_task
from tests.helpers.harness_scripts import harness_script
from tests.helpers.scripted_server import ScriptedModel

TASK = load_task("read_fix_write")
HARNESSES = list(registry.HARNESSES)


def need(name):
    try:
        registry.locate(registry.get(name))
    except Exception as err:  # UserError naming the install command
        pytest.skip(str(err))
    if subprocess.run(["which", "bwrap"], capture_output=True).returncode != 0:
        pytest.skip("bubblewrap not installed: bash scripts/install.sh --harnesses")


def scripted(task, harness, **kw):
    return ScriptedModel({task.prompt: harness_script(task, harness)}, count_by="tool_results", **kw)


@pytest.mark.parametrize("harness", HARNESSES)
def test_each_harness_drives_a_task_to_a_graded_pass(harness, tmp_path):
    need(harness)
    out = tmp_path / "res"
    with scripted(TASK, harness) as model:
        result = CliRunner().invoke(app, ["run", "--base-url", model.base_url, "--served-model", "scripted",
                                          "--tasks", TASK.id, "--runs", "1", "--harness", harness,
                                          "--harness-wall-s", "120", "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    (run,) = read_jsonl(out / "runs.jsonl")
    assert run["mode"] == harness and run["passed"], run["checks"]
    assert run["harness"]["harness_ended"] == "answer" and run["harness"]["harness_version"]
    assert run["harness"]["first_request_bytes"] > 1000 and run["harness"]["first_request_tools"] >= 1
    turns = [t for t in read_jsonl(out / "turns.jsonl") if t["mode"] == harness]
    assert len(turns) == run["harness"]["requests"] >= 4  # every request metered, one line each
    assert all(t["ttft_s"] is not None and t["prompt_tokens"] and t["request_bytes"] for t in turns)
    assert {t["api"] for t in turns} == {registry.get(harness).api}
    transcript = json.loads((out / run["transcript"]).read_text())
    assert transcript["harness"]["harness_ended"] == "answer"


def test_claude_code_runs_on_a_server_without_messages_through_translation(tmp_path):
    need("claude-code")
    with scripted(TASK, "claude-code", without=("/v1/messages",)) as model:
        result = run_harness_task(TASK, HarnessSettings("claude-code", max_turns=10, wall_s=120),
                                  model.base_url, "scripted")
        assert set(model.paths) == {"/v1/chat/completions"}
    assert result.grade.passed, result.grade.checks
    assert all(m.translated for m in result.metered) and result.harness_summary["translated_requests"] >= 4


def test_a_wrong_fix_fails_by_the_same_graders(tmp_path):
    need("claude-code")
    wrong = harness_script(TASK, "claude-code", "fail_wrong_fix_minus_one.json")
    with ScriptedModel({TASK.prompt: wrong}, count_by="tool_results") as model:
        result = run_harness_task(TASK, HarnessSettings("claude-code", max_turns=10, wall_s=120),
                                  model.base_url, "scripted")
    assert not result.grade.passed and result.grade.reason == "wrong_fix"


def test_the_harness_is_contained(tmp_path):
    """Its commands cannot reach the real model server, the home folder, the project or the tasks'
    hidden tests, and cannot write outside the workspace."""
    need("claude-code")
    with ScriptedModel([], count_by="tool_results") as model:
        port = model.base_url.split(":")[2].split("/")[0]
        probes = [
            f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\" 2>&1; echo net=$?",
            f"ls {os.path.expanduser('~')}/.ssh {TASK.folder} {Path(__file__).parent} 2>&1; echo ls=$?",
            f"cat {TASK.hidden_tests}/*.py 2>&1 | head -3; echo hidden=$?",
            "touch /usr/evil /etc/evil 2>&1; echo usr=$?",
            f"id -u; echo HOME=$HOME",
        ]
        model.scripts = [{"tool_calls": [{"name": "Bash", "arguments": {"command": c, "description": "probe"}}]}
                         for c in probes] + [{"content": "Done."}]
        result = run_harness_task(TASK, HarnessSettings("claude-code", max_turns=10, wall_s=120),
                                  model.base_url, "scripted")
    outputs = [e.result for e in result.trajectory.events[:len(probes)]]
    assert "net=0" not in outputs[0] and "net=1" in outputs[0]
    assert outputs[1].count("No such file") == 3 and "ls=0" not in outputs[1]
    assert "import" not in outputs[2]
    assert "usr=0" not in outputs[3] and not os.path.exists("/usr/evil")
    assert outputs[4].split()[0] != "0"  # never root inside


def test_the_wall_clock_limit_kills_the_whole_harness_tree(tmp_path):
    need("claude-code")
    marker = f"sb{uuid.uuid4().hex[:8]}"
    script = [{"tool_calls": [{"name": "Bash", "arguments": {
        "command": f"python3 -c 'import time; time.sleep(300)' {marker}", "description": "a long job",
        "timeout": 600000}}]}]
    started = time.monotonic()
    with ScriptedModel(script, count_by="tool_results") as model:
        result = run_harness_task(TASK, HarnessSettings("claude-code", max_turns=10, wall_s=6),
                                  model.base_url, "scripted")
    assert time.monotonic() - started < 30
    assert result.outcome.ended == "time_limit" and result.harness_summary["harness_ended"] == "time_limit"
    assert result.trajectory.ended == "max_turns" and result.grade is not None and not result.grade.passed
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps  # nothing of the harness outlives the limit


def test_a_missing_harness_names_the_command_that_installs_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SILICONBENCH_HARNESS_PREFIX", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with ScriptedModel([]) as model:
        result = CliRunner().invoke(app, ["run", "--base-url", model.base_url, "--served-model", "scripted",
                                          "--tasks", TASK.id, "--harness", "opencode", "--out", str(tmp_path / "o")])
        assert model.requests == []  # refused before anything ran
    # A UserError is what `siliconbench` prints as one line, without a traceback.
    assert isinstance(result.exception, UserError)
    message = str(result.exception)
    assert "scripts/install.sh --harnesses" in message and "opencode-ai@1." in message and "\n" not in message


def test_an_unknown_harness_lists_the_valid_ones(tmp_path):
    result = CliRunner().invoke(app, ["run", "--base-url", "http://127.0.0.1:9/v1", "--served-model", "x",
                                      "--harness", "cursor", "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, UserError) and "'cursor'" in str(result.exception)
    assert all(name in str(result.exception) for name in ("raw", "feedback", "claude-code", "opencode", "mini-swe-agent"))


def test_harness_leftovers_are_not_graded(tmp_path):
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.local.json").write_text("{}")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1")
    removed = remove_leftovers(tmp_path, registry.get("claude-code").leftovers)
    assert ".claude" in removed and not (tmp_path / ".claude").exists()
    assert (tmp_path / "src" / "app.py").exists()
