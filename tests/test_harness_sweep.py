"""A sweep runs two models raw, then through Claude Code, into one results folder; the report puts the
two side by side per model. The models are configs attached to the scripted model (nothing launched),
so the whole path (sweep, session, harness runner, records, report) runs in seconds."""

import pytest

from orchestrator.config import parse_config
from orchestrator.harness import registry
from orchestrator.harness.runner import HarnessSettings
from orchestrator.report.build import build_report
from orchestrator.results.records import ResultsDir, read_jsonl
from orchestrator.session.runner import Plan
from orchestrator.session.sweep import run_sweep
from orchestrator.taskdef import load_task
from tests.helpers.harness_scripts import harness_script
from tests.helpers.scripted_server import ScriptedModel, trajectory_script

TASK = load_task("read_fix_write")


def test_raw_then_harness_sweep_and_the_gap_per_model(tmp_path):
    try:
        registry.locate(registry.get("claude-code"))
    except Exception as err:
        pytest.skip(str(err))
    with ScriptedModel({}, count_by="tool_results") as model:
        configs = [parse_config({"name": n, "backend": "openai", "context_length": 32768,
                                 "openai": {"base_url": model.base_url, "served_model": "scripted"}}, n)
                   for n in ("alpha", "beta")]
        results = ResultsDir(tmp_path / "r")
        model.scripts = {TASK.prompt: trajectory_script(TASK.trajectories / "reference.json")}
        run_sweep(configs, Plan([TASK], runs=1), results, check_fit=False)
        # Through the harness the scripted model makes the classic off-by-one "fix": a negative gap.
        model.scripts = {TASK.prompt: harness_script(TASK, "claude-code", "fail_wrong_fix_minus_one.json")}
        harness = HarnessSettings("claude-code", max_turns=10, wall_s=120)
        outcome = run_sweep(configs, Plan([TASK], runs=1, harness=harness), results, check_fit=False)
        results.close()
    assert [m.status for m in outcome.models] == ["done", "done"]
    runs = read_jsonl(tmp_path / "r" / "runs.jsonl")
    assert sorted((r["model"], r["mode"], r["passed"]) for r in runs) == [
        ("alpha", "claude-code", False), ("alpha", "raw", True), ("beta", "claude-code", False), ("beta", "raw", True)]
    compare = build_report([tmp_path / "r"])["harness_compare"]
    assert set(compare) == {"alpha", "beta"}
    assert all(c["gap_pp"] == {"claude-code": -100.0} for c in compare.values())
    assert compare["alpha"]["modes"]["claude-code"]["per_run"]["tools_offered"] >= 10
