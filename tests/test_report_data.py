"""Every section's numbers against values worked out by hand from tests/helpers/report_results.py.

The expected figures are written out here (with the arithmetic beside them), never computed by
calling the report's own aggregation.
"""

import json

import pytest

from orchestrator.errors import UserError
from orchestrator.results.records import ResultsDir, RunRecord
from orchestrator.report.build import build_report
from orchestrator.report.seed import load_seed
from orchestrator.taskdef import TASK_ORDER
from tests.helpers.report_results import GIB, write_two_models


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report([write_two_models(tmp_path_factory.mktemp("results"))])


def test_seed_style_score_dedups_resumed_runs_and_keeps_infra_errors_out(report):
    raw = report["score"]["raw"]
    assert [t["id"] for t in report["tasks"]] == ["config_read", "read_fix_write", "tdd"]  # article order
    assert raw["cells"]["alpha"]["config_read"] == {"passes": 3, "runs": 3, "infra_errors": 0}
    # run 2 was a wrong_fix, then a pass after the resume: the last record wins
    assert raw["cells"]["alpha"]["read_fix_write"] == {"passes": 2, "runs": 3, "infra_errors": 0}
    assert raw["cells"]["alpha"]["tdd"] == {"passes": 1, "runs": 2, "infra_errors": 1}
    assert raw["tiers"]["alpha"]["basic"] == {"passes": 5, "runs": 6, "infra_errors": 0}
    assert raw["tiers"]["alpha"]["intermediate"] == {"passes": 1, "runs": 2, "infra_errors": 1}
    assert raw["total"]["alpha"] == {"passes": 6, "runs": 8, "infra_errors": 1}
    assert raw["total"]["beta"] == {"passes": 5, "runs": 9, "infra_errors": 0}
    assert report["score"]["harness"]["total"]["alpha"] == {"passes": 8, "runs": 9, "infra_errors": 0}
    assert report["score"]["harness"]["total"]["beta"]["runs"] == 0


def test_reliability(report):
    alpha = report["reliability"]["raw"]["alpha"]
    assert alpha["pass_at_1"] == 0.75
    assert alpha["ci95"] == [pytest.approx(0.4093, abs=5e-4), pytest.approx(0.9285, abs=5e-4)]
    # per task (n, c): config_read (3,3), read_fix_write (3,2), tdd (2,1)
    # pass^1 = (1 + 2/3 + 1/2)/3; pass^2 = (1 + 1/3 + 0)/3; pass^3 = (1 + 0)/2 (tdd has only 2 runs)
    assert alpha["pass_hat_k"] == {"1": pytest.approx(13 / 18), "2": pytest.approx(4 / 9), "3": pytest.approx(0.5)}
    assert alpha["tasks"]["tdd"]["pass_hat_k"] == {"1": 0.5, "2": 0.0}
    assert alpha["tasks"]["config_read"]["all_passed"] is True
    assert alpha["tasks_all_passed"] == 1
    beta = report["reliability"]["raw"]["beta"]
    # beta (n, c): (3,2), (3,0), (3,3): pass^2 = (1/3 + 0 + 1)/3
    assert beta["pass_hat_k"]["2"] == pytest.approx(4 / 9)
    assert beta["tasks"]["read_fix_write"]["all_passed"] is False


def test_failures_turns_tool_calls_malformed_and_infra_list(report):
    alpha, beta = report["failures"]["raw"]["alpha"], report["failures"]["raw"]["beta"]
    assert list(alpha["reasons"].items()) == [("out_of_turns", 1), ("wrong_fix", 1)]  # the fixed list's order
    assert beta["reasons"] == {"wrong_answer": 1, "wrong_fix": 2, "looping": 1}
    assert beta["by_task"]["read_fix_write"] == {"wrong_fix": 2, "looping": 1}
    assert alpha["runs"] == 8 and alpha["failed"] == 2
    assert alpha["turns_per_run"] == 4.0 and beta["tool_calls_per_run"] == 1.0
    assert alpha["malformed_calls"] == 2  # the replaced record's 9 is gone
    assert alpha["malformed_per_run"] == 0.25
    assert report["failures"]["harness"]["alpha"]["reasons"] == {"no_verification": 1}
    assert report["infra_errors"] == [{"label": "alpha", "task": "tdd", "run": 1, "mode": "raw", "attempts": 3,
                                       "error": "connection refused"}]


def test_performance(report):
    alpha, beta = report["performance"]["alpha"], report["performance"]["beta"]
    assert alpha["load_s"] == 12.5 and alpha["memory_after_load_bytes"] == 9 * GIB
    # warm TTFTs: 0.5 0.7 0.9 1.1 2.0 and the retry's 0.6 0.8 (the dead attempt's 100 s are dropped)
    assert alpha["ttft_median_s"] == pytest.approx(0.8)
    assert alpha["ttft_p90_s"] == pytest.approx(1.46)  # rank 5.4 of 0..6: 1.1 + 0.4 * (2.0 - 1.1)
    assert alpha["decode_tps_median"] == 22.0  # 18 20 21 [22] 23 24 26; the cold 5 tok/s left out
    assert alpha["prefill_tps_median"] == 250.0  # 100 200 [250] 300 400
    assert alpha["peak_rss_bytes"] == int(12.5 * GIB)  # not the dropped attempt's 40 GiB
    assert alpha["peak_gpu_bytes"] is None
    assert alpha["wall_s_per_task"] == {"config_read": 20.0, "read_fix_write": 50.0, "tdd": 80.0}
    assert alpha["wall_s_total"] == 370.0  # 10+20+30+40+50+60+70+90
    assert alpha["score_per_hour"] == pytest.approx(6 / (370 / 3600))
    assert alpha["score_per_gib"] == pytest.approx(6 / 12.5)
    assert beta["concurrency"] == 2 and beta["load_s"] is None  # beta has no meta.json
    assert beta["decode_tps_median"] == 40.0 and beta["ttft_median_s"] == pytest.approx(0.3)
    assert beta["peak_memory_bytes"] == 70 * GIB  # the GPU figure, larger than its 2 GiB RSS
    assert beta["score_per_gib"] == pytest.approx(5 / 70)


def test_thinking_unknown_is_not_zero(report):
    alpha, beta = report["thinking_tax"]["alpha"], report["thinking_tax"]["beta"]
    config_read = alpha["tasks"]["config_read"]
    assert (config_read["runs"], config_read["runs_known"]) == (3, 2)
    assert (config_read["thinking_mean"], config_read["thinking_s_mean"]) == (150.0, 1.5)
    # useful = generated - thinking over runs where both are known:
    # thinking (100+200+300+500+50+600+900) of completion (400+400+1000+1000+500+1200+1000)
    assert alpha["useful_share"] == pytest.approx(1 - 2650 / 5500)
    assert alpha["thinking_passed_mean"] == pytest.approx((100 + 200 + 300 + 50 + 600) / 5)
    assert alpha["thinking_failed_mean"] == pytest.approx((500 + 900) / 2)
    assert alpha["failed_thought_more"] is True
    assert beta["thinking_mean"] is None and beta["useful_share"] is None and beta["runs_known"] == 0


def test_raw_vs_harness_gap_and_cost(report):
    assert list(report["harness_gap"]) == ["alpha"]  # beta ran raw only
    g = report["harness_gap"]["alpha"]
    assert (g["raw"]["passes"], g["raw"]["runs"], g["harness"]["passes"], g["harness"]["runs"]) == (6, 8, 8, 9)
    assert g["gap_pp"] == pytest.approx(100 * (8 / 9 - 6 / 8))
    assert g["tasks"]["read_fix_write"]["gap_pp"] == pytest.approx(100 / 3)
    assert g["extra_turns_per_run"] == 5.0  # 9 - 4
    # raw tokens per run: 1000 prompt + completions (400+400+300+1000+1000+500+1200+1000)/8 = 1725
    assert g["extra_tokens_per_run"] == pytest.approx(7000 - 1725)
    assert g["extra_seconds_per_run"] == pytest.approx(100 - 370 / 8)
    assert g["harness_rounds_mean"] == 2.0


def test_memory_series_follows_the_retried_attempt(report):
    s = report["memory_series"]["alpha"]
    assert (s["task"], s["run"], s["turns"]) == ("tdd", 1, [1, 2, 3])
    assert s["rss_bytes"] == [11 * GIB, 11 * GIB, 12 * GIB]


def test_report_is_plain_json(report):
    assert json.loads(json.dumps(report)) == report


def test_two_configs_sharing_a_name_are_told_apart(tmp_path):
    results = ResultsDir(tmp_path)
    for config_hash, passed in (("1111aaaa9999", True), ("2222bbbb9999", False)):
        results.runs.write(RunRecord(model="gamma", config_hash=config_hash, backend="mlx", task="tdd",
                                     tier="intermediate", run=0, passed=passed, reason=None if passed else "wrong_fix",
                                     turns=1, tool_calls=1, malformed_calls=0, wall_s=1.0))
    results.close()
    report = build_report([tmp_path])
    assert [m["label"] for m in report["models"]] == ["gamma@1111aaaa", "gamma@2222bbbb"]
    assert report["score"]["raw"]["total"]["gamma@2222bbbb"]["passes"] == 0


def test_missing_files_and_a_torn_last_line_are_tolerated(tmp_path):
    results = ResultsDir(tmp_path)
    results.runs.write(RunRecord(model="solo", config_hash="h", backend="mlx", task="config_read", tier="basic",
                                 run=0, passed=True, reason=None, turns=1, tool_calls=1, malformed_calls=0,
                                 wall_s=2.0))
    results.close()
    (tmp_path / "turns.jsonl").unlink()
    with open(tmp_path / "runs.jsonl", "a") as f:
        f.write('{"model": "solo", "task": "tdd", "pass')  # a crash mid-write
    report = build_report([tmp_path])
    assert report["score"]["raw"]["total"]["solo"]["runs"] == 1
    assert report["performance"]["solo"]["ttft_median_s"] is None
    assert report["memory_series"] == {}


def test_not_a_results_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        build_report([tmp_path / "missing"])
    with pytest.raises(UserError, match="no runs.jsonl"):
        build_report([tmp_path])


def test_seed_data_matches_the_article_and_the_task_list():
    seed = load_seed()
    assert [t["id"] for t in seed["tasks"]] == list(TASK_ORDER)
    assert {m["name"]: sum(m["passes"]) for m in seed["models"]} == seed["totals"]
    assert seed["totals"] == {"Gemma 4": 20, "Devstral": 19, "MiniMax": 22, "Coder-Next": 13, "Qwen3.5": 22}


def test_compare_seed_shows_every_task_and_the_articles_numbers(tmp_path):
    report = build_report([write_two_models(tmp_path)], compare_seed=True)
    assert len(report["tasks"]) == 10
    coder = next(m for m in report["seed"]["models"] if m["name"] == "Coder-Next")
    assert coder["passes"]["dependency_chain"] == 0 and coder["total"] == 13
    assert coder["tiers"] == {"basic": 5, "intermediate": 5, "advanced": 3}
    assert report["seed"]["tier_runs"] == {"basic": 9, "intermediate": 9, "advanced": 12}
