"""Raw vs harness mode through the real loop, tools and graders: a model that gives up first and fixes
the bug after feedback passes in harness mode and fails in raw mode; hidden tests never reach it."""

import json
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.results.records import read_jsonl
from orchestrator.taskdef import load_task
from tests.helpers.scripted_server import ScriptedModel

TASK = load_task("full_debug_cycle")
REFERENCE = json.loads((TASK.trajectories / "reference.json").read_text())["turns"]
GIVES_UP_THEN_FIXES = [
    REFERENCE[0],                                   # runs the tests
    REFERENCE[1],                                   # reads the test and the source
    {"content": "The failure looks like a flaky test; nothing to change."},
    REFERENCE[2],                                   # after feedback: writes the fix
    REFERENCE[3],                                   # re-runs the tests
    {"content": "Fixed: tiers are inclusive now."},
]


def run_mode(tmp_path: Path, mode: str):
    with ScriptedModel({TASK.prompt: GIVES_UP_THEN_FIXES}) as model:
        out = tmp_path / mode
        result = CliRunner().invoke(app, ["run", "--base-url", model.base_url, "--served-model", "scripted",
                                          "--tasks", TASK.id, "--runs", "1", "--mode", mode, "--out", str(out),
                                          "--no-report"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return read_jsonl(out / "runs.jsonl")[0], model.requests


def test_feedback_turns_a_raw_failure_into_a_harness_pass(tmp_path):
    raw, _ = run_mode(tmp_path, "raw")
    assert raw["mode"] == "raw" and not raw["passed"] and raw["reason"] == "never_wrote"
    assert raw["turns"] == 3 and raw["harness_rounds"] is None

    harness, requests = run_mode(tmp_path, "harness")
    assert harness["mode"] == "harness" and harness["passed"], harness["checks"]
    assert harness["harness_rounds"] == 1 and harness["turns"] == 6
    feedback = [m for m in requests[-1]["messages"] if m["role"] == "user"][-1]["content"]
    assert "test_discount_starts_at_exactly_100" in feedback  # the visible test's failure, fed back

    hidden_names = ["test_tiers_are_inclusive_at_every_boundary", "_hidden_tests", "test_pricing_hidden"]
    everything_sent = json.dumps(requests)
    assert not any(name in everything_sent for name in hidden_names)
