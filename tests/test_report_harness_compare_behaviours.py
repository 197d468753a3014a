"""The raw-vs-harness comparison (orchestrator/report/harness_gap.py) and the report's cells, by exact
result: runs lost to the server are never scored in any mode, the gap is harness minus raw, raw runs
offer the four benchmark tools, how harness runs ended is counted, and unknown shows as a dash."""

import pytest

from orchestrator.report.build import build_report
from orchestrator.report.harness_gap import harness_compare_tables
from orchestrator.report.sections import DASH, frac, gib, model_name, num
from orchestrator.results.records import ResultsDir
from tests.helpers.report_results import run_record as run


def ended_as(ended):
    return {"harness_version": "1", "harness_ended": ended, "harness_turns": 5, "requests": 5,
            "first_request_bytes": 2048, "first_request_tools": 1, "first_prompt_tokens": 900}


@pytest.fixture
def report(tmp_path):
    results = ResultsDir(tmp_path / "r")
    # raw: 1 pass of 2 scored, plus one run the server lost
    results.runs.write(run("config_read", 0, True, "raw"))
    results.runs.write(run("config_read", 1, False, "raw"))
    results.runs.write(run("config_read", 2, False, "raw", reason="infra_error"))
    # mini-swe-agent: 2 passes of 2 scored, plus two runs the server lost
    results.runs.write(run("config_read", 0, True, "mini-swe-agent", harness=ended_as("answer")))
    results.runs.write(run("config_read", 1, True, "mini-swe-agent", harness=ended_as("time_limit")))
    for n in (2, 3):
        results.runs.write(run("config_read", n, False, "mini-swe-agent", reason="infra_error", harness=ended_as("infra_error")))
    results.close()
    return build_report([tmp_path / "r"])


def test_runs_lost_to_the_server_are_not_scored_in_the_comparison_and_the_gap_is_harness_minus_raw(report):
    entry = report["harness_compare"]["m"]
    raw, mini = entry["modes"]["raw"], entry["modes"]["mini-swe-agent"]
    assert (raw["score"]["passes"], raw["score"]["runs"], mini["score"]["passes"], mini["score"]["runs"]) == (1, 2, 2, 2)
    assert entry["gap_pp"] == {"mini-swe-agent": pytest.approx(50.0)}
    assert mini["per_run"]["ended"] == {"answer": 1, "time_limit": 1}
    assert (raw["per_run"]["tools_offered"], mini["per_run"]["tools_offered"]) == (4, 1)
    assert raw["per_run"]["ended"] is None


def test_the_comparison_table_shows_the_gap_in_points_and_how_runs_ended(report):
    table = harness_compare_tables(report)[0]
    rows = {row[1]: row for row in table.rows}
    assert rows["mini-swe-agent"][3] == "+50 pp" and rows["raw"][3] == DASH
    assert rows["mini-swe-agent"][-1] == "answer 1, time_limit 1" and rows["raw"][-1] == DASH
    assert rows["raw"][8] == "4"


def test_cells_show_unknown_as_a_dash_and_runs_lost_to_the_server_beside_the_score():
    assert num(None) == DASH and num(0.0) == "0.0" and num(1234.5, 0, " s") == "1,234 s"
    assert gib(None) == DASH and gib(3 * 2**30) == "3.0 GiB"
    assert frac({"passes": 2, "runs": 3, "infra_errors": 1}) == "2/3 (+1 infra)"
    assert frac({"passes": 2, "runs": 3, "infra_errors": 0}) == "2/3"
    assert frac({"passes": 0, "runs": 0, "infra_errors": 0}) == DASH


def test_speed_figures_measured_under_concurrency_say_so_in_their_column():
    report = {"models": [{"label": "a", "concurrency": 3}, {"label": "b", "concurrency": 1}]}
    assert model_name(report, "a", speed=True) == "a (×3 concurrent)"
    assert model_name(report, "a") == "a" and model_name(report, "b", speed=True) == "b"
