"""The raw-vs-harness gap in the report, from records written through records.py: scores with their
Wilson intervals, the gap in points, per-run turns and tokens, each harness's own prompt overhead,
how the harness runs ended, and the figure. Expected numbers are worked out by hand below."""

from pathlib import Path

import pytest

from orchestrator.report.build import build_report
from orchestrator.report.outline import build_sections
from orchestrator.report.plots import render_figures
from orchestrator.report.render import render
from orchestrator.results.records import ResultsDir, TurnRecord
from tests.helpers.report_results import run_record as run


def harness(first_prompt, first_bytes, tools, ended="answer", turns=12):
    return {"harness_version": "1", "harness_ended": ended, "harness_turns": turns, "requests": turns,
            "first_request_bytes": first_bytes, "first_request_tools": tools, "first_prompt_tokens": first_prompt}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    results = ResultsDir(tmp_path / "r")
    # raw: config_read 1/2, read_fix_write 0/2 -> 1/4
    for task, n, ok in (("config_read", 0, True), ("config_read", 1, False), ("read_fix_write", 0, False),
                        ("read_fix_write", 1, False)):
        results.runs.write(run(task, n, ok, "raw"))
        results.turns.write(TurnRecord(model="m", config_hash="h", task=task, run=n, turn=1, prompt_tokens=900))
        results.turns.write(TurnRecord(model="m", config_hash="h", task=task, run=n, turn=2, prompt_tokens=5000))
    # claude-code: 4/4, 20 turns and 60k+1k tokens a run, ~12.5k-token first prompt, one run stopped by the clock
    for task, n in (("config_read", 0), ("config_read", 1), ("read_fix_write", 0), ("read_fix_write", 1)):
        ended = "time_limit" if (task, n) == ("read_fix_write", 1) else "answer"
        results.runs.write(run(task, n, True, "claude-code", turns=20, prompt_tokens=60000, completion_tokens=1000,
                               wall_s=30.0, harness=harness(12500, 49152, 24, ended)))
    # mini-swe-agent: 2/4
    for task, n, ok in (("config_read", 0, True), ("config_read", 1, True), ("read_fix_write", 0, False),
                        ("read_fix_write", 1, False)):
        results.runs.write(run(task, n, ok, "mini-swe-agent", harness=harness(1000, 3500, 1)))
    results.close()
    return tmp_path / "r"


def test_scores_gaps_and_costs_per_mode(folder):
    report = build_report([folder])
    entry = report["harness_compare"]["m"]
    assert list(entry["modes"]) == ["raw", "claude-code", "mini-swe-agent"]
    raw, cc, mini = (entry["modes"][k] for k in ("raw", "claude-code", "mini-swe-agent"))
    assert (raw["score"]["passes"], raw["score"]["runs"]) == (1, 4) and (cc["score"]["passes"], cc["score"]["runs"]) == (4, 4)
    # Wilson 95% for 4/4: [0.510, 1.0]; for 1/4: [0.046, 0.699]
    assert cc["score"]["ci_low"] == pytest.approx(0.510, abs=0.001) and cc["score"]["ci_high"] == pytest.approx(1.0)
    assert raw["score"]["ci_low"] == pytest.approx(0.046, abs=0.001)
    assert entry["gap_pp"] == {"claude-code": pytest.approx(75.0), "mini-swe-agent": pytest.approx(25.0)}
    assert cc["per_run"]["tokens"] == 61000 and cc["per_run"]["turns"] == 20 and cc["per_run"]["wall_s"] == 30.0
    assert cc["per_run"]["first_prompt_tokens"] == 12500 and cc["per_run"]["tools_offered"] == 24
    assert cc["per_run"]["ended"] == {"answer": 3, "time_limit": 1}
    assert raw["per_run"]["first_prompt_tokens"] == 900 and raw["per_run"]["tools_offered"] == 4  # its turn 1
    assert mini["per_run"]["first_request_bytes"] == 3500
    assert cc["tasks"]["read_fix_write"]["passes"] == 2 and raw["tasks"]["read_fix_write"]["passes"] == 0


def test_the_section_and_figure_appear_in_every_format(folder):
    report = build_report([folder])
    titles = [s.title for s in build_sections(report)]
    assert "Raw vs real harnesses" in titles
    md = render(report, "md")
    assert "4/4 (51–100%)" in md and "+75 pp" in md and "12,500" in md and "answer 3, time_limit 1" in md
    png = render_figures(report)["raw_vs_harness"]
    assert png.startswith(b"\x89PNG")


def test_no_section_without_both_raw_and_a_harness(tmp_path):
    results = ResultsDir(tmp_path / "r")
    results.runs.write(run("config_read", 0, True, "claude-code", harness=harness(12500, 49152, 24)))
    results.close()
    report = build_report([tmp_path / "r"])
    assert report["harness_compare"] == {}
    assert "raw_vs_harness" not in render_figures(report)
    assert "Raw vs real harnesses" not in [s.title for s in build_sections(report)]
