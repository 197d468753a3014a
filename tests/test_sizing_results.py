"""Sizing from measured runs: a results folder written with records.py's own models and writer."""

import json
import subprocess
import sys

import pytest

from orchestrator.cli.size import parse_context, run_size
from orchestrator.config import CONFIG_DIR, load_config
from orchestrator.errors import UserError
from orchestrator.sizing.catalog import GIB
from orchestrator.results.records import ResultsDir, RunRecord, TurnRecord
from orchestrator.sizing.measured import read_results

M3_ULTRA_96 = {"os": "Darwin", "chip": "Apple M3 Ultra", "memory_total_bytes": 96 * GIB}


def run(model, task, passed, reason=None, ended="answer", backend="mlx"):
    return RunRecord(model=model, config_hash="abc", backend=backend, task=task, tier="t1", run=0,
                     passed=passed, reason=reason, turns=2, tool_calls=1, malformed_calls=0, wall_s=3.0,
                     ended=ended)


def turn(model, n, peak_gb, decode_tps, warm=True):
    return TurnRecord(model=model, config_hash="abc", task="t", run=0, turn=n, decode_tps=decode_tps,
                      server_peak_rss_bytes=int(peak_gb * GIB), warm=warm)


def write_results(root, model="qwen3-coder-next", backend="mlx", peaks=(45.0, 46.5), machine=M3_ULTRA_96):
    results = ResultsDir(root)
    config = load_config(CONFIG_DIR / f"{model}.yaml")
    results.write_json(results.model_dir(model) / "meta.json", {
        "model": model, "backend": backend, "config": config.model_dump(mode="json"),
        "memory_after_load_bytes": int(44 * GIB), "machine": machine})
    for r in (run(model, "a", True), run(model, "b", True), run(model, "c", False, "max_turns"),
              run(model, "d", False, "infra_error", "infra_error")):
        results.runs.write(r)
    results.turns.write(turn(model, 1, peaks[0], 500.0, warm=False))  # cold: not a decode figure
    results.turns.write(turn(model, 2, peaks[1], 300.0))
    results.turns.write(turn(model, 3, peaks[0], 320.0))
    results.turns.write(turn(model, 4, peaks[0], 340.0))
    results.close()
    return root


def test_read_results_peak_decode_and_score_without_infra_errors(tmp_path):
    m = read_results([write_results(tmp_path)])["qwen3-coder-next"]
    assert m.peak_memory_gb == pytest.approx(46.5, abs=0.01)
    assert m.decode_tps == 320.0 and m.decode_turns == 3
    assert (m.passes, m.total, m.score) == (2, 3, "2/3")


def test_measured_peak_replaces_the_estimate_and_ratio_shows_where_it_ran(tmp_path):
    report = run_size(["qwen3-coder-next"], [str(write_results(tmp_path))], "m3 ultra", None, False, None)
    rows = {r["memory_gb"]: r for r in report["rows"]}
    here = rows[96]
    assert here["needed_source"] == "measured" and here["needed_gb"] == pytest.approx(46.5, abs=0.01)
    assert here["estimated_gb"] == pytest.approx(43.73, abs=0.01)
    assert here["measured_decode_tps"] == 320.0
    assert here["measured_ratio"] == pytest.approx(320 / 485.3, abs=0.01)
    assert here["score"] == "2/3"
    assert rows[256]["measured_ratio"] is None, "a ratio only on the machine the runs measured"
    assert report["models"][0]["score"] == "2/3" and report["models"][0]["needed_source"] == "measured"


def test_rss_below_the_weights_is_not_trusted(tmp_path):
    # mlx-lm #1807: an MLX server's RSS can miss its Metal buffers.
    write_results(tmp_path, peaks=(3.0, 4.0))
    meta = tmp_path / "models" / "qwen3-coder-next" / "meta.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "memory_after_load_bytes": int(2 * GIB)}))
    report = run_size(["qwen3-coder-next"], [str(tmp_path)], "m3 ultra", None, False, None)
    assert report["rows"][0]["needed_source"] == "estimate"
    assert any("below the weights" in n for n in report["models"][0]["notes"])


def test_a_gpu_run_does_not_stand_for_the_mac_memory(tmp_path):
    write_results(tmp_path, backend="vllm", machine={"os": "Linux", "chip": "Intel Xeon"})
    report = run_size(["qwen3-coder-next"], [str(tmp_path)], "m3 ultra", None, False, None)
    r = report["rows"][0]
    assert r["needed_source"] == "estimate" and r["measured_decode_tps"] == 320.0 and r["measured_ratio"] is None


def test_without_configs_the_seeds_and_models_only_in_the_results_are_sized(tmp_path):
    write_results(tmp_path)
    meta = tmp_path / "models" / "qwen3-coder-next" / "meta.json"
    data = json.loads(meta.read_text())
    extra = tmp_path / "models" / "coder-next-q8"
    extra.mkdir()
    (extra / "meta.json").write_text(json.dumps({**data, "model": "coder-next-q8",
                                                 "config": {**data["config"], "name": "coder-next-q8"}}))
    report = run_size([], [str(tmp_path)], "mini-2024-m4", None, False, None)
    assert [m["model"] for m in report["models"]] == [
        "gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b", "coder-next-q8"]


def test_bad_results_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no runs.jsonl"):
        read_results([tmp_path])
    with pytest.raises(UserError, match="no such folder"):
        read_results([tmp_path / "missing"])


@pytest.mark.parametrize("text, tokens", [("32768", 32768), ("32k", 32768), ("1M", 1048576), (None, None)])
def test_parse_context(text, tokens):
    assert parse_context(text) == tokens


@pytest.mark.parametrize("text", ["abc", "-5", "0", "12 tokens"])
def test_bad_context_is_one_line(text):
    with pytest.raises(UserError, match="--context"):
        parse_context(text)


def test_cli_json_rows_carry_the_issue_fields_and_errors_are_one_line():
    out = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "size", "qwen3.5-27b", "--mac", "mini-2024-m4",
                          "--format", "json"], capture_output=True, text=True, cwd=CONFIG_DIR.parent)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    keys = {"model", "mac", "memory_gb", "needed_gb", "usable_gb", "verdict", "roofline_decode_tps",
            "measured_decode_tps", "price_usd"}
    assert keys <= set(rows[0]) and [r["verdict"] for r in rows] == ["no", "no", "fits"]
    bad = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "size", "--mac", "M7 Hyper"],
                         capture_output=True, text=True, cwd=CONFIG_DIR.parent)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "mini-2024-m4" in bad.stderr
