"""Sizing from measured runs: a results folder written with records.py's own models and writer, read
through the results loader; the CLI's JSON and its 80-column tables."""

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console

from orchestrator.cli.size import parse_context, run_size
from orchestrator.config import CONFIG_DIR, load_config
from orchestrator.errors import UserError
from orchestrator.results.records import ResultsDir, RunRecord, TurnRecord
from orchestrator.sizing.catalog import GIB
from orchestrator.sizing.measured import read_results
from orchestrator.sizing.render import print_report

M3_ULTRA_96 = {"os": "Darwin", "chip": "Apple M3 Ultra", "memory_total_bytes": 96 * GIB}


def run(model, task, passed, reason=None, ended="answer", backend="mlx", n=0):
    return RunRecord(model=model, config_hash="abc", backend=backend, task=task, tier="t1", run=n,
                     passed=passed, reason=reason, turns=2, tool_calls=1, malformed_calls=0, wall_s=3.0,
                     ended=ended)


def turn(model, n, peak_gb, decode_tps, warm=True, task="t", prompt=2000, completion=300, prefill_tps=None):
    return TurnRecord(model=model, config_hash="abc", task=task, run=0, turn=n, decode_tps=decode_tps,
                      server_peak_rss_bytes=int(peak_gb * GIB), warm=warm, prompt_tokens=prompt,
                      cached_tokens=0, completion_tokens=completion, prefill_tps=prefill_tps)


def write_results(root, model="qwen3-coder-next", backend="mlx", peaks=(45.0, 46.5), machine=M3_ULTRA_96,
                  decode=(300.0, 320.0, 340.0), prefill=None):
    results = ResultsDir(root)
    config = load_config(CONFIG_DIR / f"{model}.yaml")
    results.write_json(results.model_dir(model) / "meta.json", {
        "model": model, "backend": backend, "config": config.model_dump(mode="json"),
        "memory_after_load_bytes": int(44 * GIB), "machine": machine})
    for r in (run(model, "a", True), run(model, "b", True), run(model, "c", False, "out_of_turns"),
              run(model, "d", False, "infra_error", "infra_error")):
        results.runs.write(r)
    results.turns.write(turn(model, 1, peaks[0], 500.0, warm=False))  # cold: not a decode figure
    for i, tps in enumerate(decode, 2):
        results.turns.write(turn(model, i, peaks[1] if i == 2 else peaks[0], tps, prefill_tps=prefill))
    results.close()
    return root


def test_read_results_peak_decode_score_and_tokens(tmp_path):
    m = read_results([write_results(tmp_path)])["qwen3-coder-next"]
    assert m.peak_memory_gb == pytest.approx(46.5, abs=0.01)
    assert m.decode_tps == 320.0 and m.decode_turns == 3
    assert (m.passes, m.total, m.score) == (2, 3, "2/3")
    assert len(m.turns) == 4 and m.runs_with_turns == 1
    assert sum(t.completion_tokens for t in m.turns) == 1200 and not m.turns[0].single_stream


def test_measured_peak_replaces_the_estimate_and_ratio_shows_where_it_ran(tmp_path):
    report = run_size(["qwen3-coder-next"], [str(write_results(tmp_path))], "m3 ultra 60c", None, False, None)
    rows = {r["memory_gb"]: r for r in report["rows"]}
    here = rows[96]
    assert here["needed_source"] == "measured" and here["needed_gb"] == pytest.approx(46.5, abs=0.01)
    assert here["estimated_gb"] == pytest.approx(43.73, abs=0.01)
    assert here["measured_decode_tps"] == 320.0 and here["score"] == "2/3"
    assert here["measured_ratio"] == pytest.approx(320 / here["decode_tps"], abs=0.01)
    assert rows[256]["measured_ratio"] is None, "a ratio only on the machine the runs measured"


def test_benchmark_time_scales_the_measured_tokens_to_thirty_runs(tmp_path):
    # at the context the measured turns decoded at (2000 + 300 / 2), the row's speeds are theirs
    report = run_size(["qwen3-coder-next"], [str(write_results(tmp_path))], "studio m3 ultra 80c 96", "2150", False, None)
    r = report["rows"][0]
    # 4 turns of 2000 uncached prompt + 300 generated tokens in one run, scaled to 30 runs
    per_run_s = 4 * (2000 / r["prefill_tps"] + 300 / r["decode_tps"])
    assert r["benchmark_h"] == pytest.approx(per_run_s * 30 / 3600, rel=0.02)
    slow = run_size(["qwen3-coder-next"], [str(tmp_path)], "mini-2024-m4pro-16c 64", None, False, None)["rows"][0]
    assert slow["benchmark_h"] > r["benchmark_h"], "a slower Mac takes longer"
    plain = run_size(["qwen3-coder-next"], [], "studio m3 ultra 80c 96", None, False, None)["rows"][0]
    assert plain["benchmark_h"] is None, "no measured tokens, no benchmark estimate"


def test_measured_turns_calibrate_the_engine_for_every_mac(tmp_path):
    """Runs on an M3 Ultra that decode at half the public prediction pull every Mac's prediction down."""
    before = run_size(["qwen3-coder-next"], [], None, "4k", False, None)
    expected_here = next(r for r in before["rows"] if r["mac_id"] == "studio-2025-m3ultra-60c" and r["memory_gb"] == 96)
    slow = expected_here["decode_tps"] / 2
    write_results(tmp_path, decode=(slow,) * 12, peaks=(45.0, 45.0))
    after = run_size(["qwen3-coder-next"], [str(tmp_path)], None, "4k", False, None)
    assert after["speed_model"]["mlx"]["measured_turns_used"] == 12
    old = {(r["mac_id"], r["memory_gb"]): r["decode_tps"] for r in before["rows"]}
    for r in after["rows"]:
        if r["mac_id"] == "studio-2025-m4max-40c":
            assert r["decode_tps"] < old[(r["mac_id"], r["memory_gb"])] * 0.9, "another Mac moved too"
    assert after["speed_model"]["llamacpp"] == before["speed_model"]["llamacpp"], "other engines keep theirs"


def test_runs_off_a_mac_do_not_calibrate_the_mac_model(tmp_path):
    write_results(tmp_path, backend="mlx", machine={"os": "Linux", "chip": "Intel Xeon", "memory_total_bytes": 64 * GIB})
    report = run_size(["qwen3-coder-next"], [str(tmp_path)], "m3 ultra 60c 96", None, False, None)
    assert report["speed_model"]["mlx"]["measured_turns_used"] == 0
    assert any("not a Mac in the catalog" in n for n in report["notes"])


def test_rss_below_the_weights_is_not_trusted(tmp_path):
    # mlx-lm #1807: an MLX server's RSS can miss its Metal buffers.
    write_results(tmp_path, peaks=(3.0, 4.0))
    meta = tmp_path / "models" / "qwen3-coder-next" / "meta.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "memory_after_load_bytes": int(2 * GIB)}))
    report = run_size(["qwen3-coder-next"], [str(tmp_path)], "m3 ultra 60c 96", None, False, None)
    assert report["rows"][0]["needed_source"] == "estimate"
    assert any("below the weights" in n for n in report["models"][0]["notes"])


def test_a_gpu_run_does_not_stand_for_the_mac_memory(tmp_path):
    write_results(tmp_path, backend="vllm", machine={"os": "Linux", "chip": "Intel Xeon"})
    report = run_size(["qwen3-coder-next"], [str(tmp_path)], "m3 ultra 60c 96", None, False, None)
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


def test_bad_min_tps_is_one_line():
    with pytest.raises(UserError, match="--min-tps"):
        run_size([], [], None, None, False, None, min_tps=-3)


ISSUE_FIELDS = {"model", "mac", "chip", "gpu_cores", "memory_gb", "usable_gb", "needed_gb", "verdict",
                "roofline_decode_tps", "decode_tps", "decode_tps_low", "decode_tps_high", "prefill_tps",
                "ttft_s", "sources"}


def test_cli_json_rows_carry_the_issue_fields_and_errors_are_one_line():
    out = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "size", "qwen3.5-27b", "--mac", "mini-2024-m4",
                          "--context", "8k", "--format", "json"], capture_output=True, text=True, cwd=CONFIG_DIR.parent)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    assert all(ISSUE_FIELDS <= set(r) for r in rows)
    assert [r["verdict"] for r in rows] == ["no", "no", "fits"]  # 24 GB gives the GPU 16
    for r in rows:
        assert r["chip"] == "M4" and r["gpu_cores"] == 10 and r["sources"]
        assert r["decode_tps_low"] < r["decode_tps"] < r["decode_tps_high"] <= r["roofline_decode_tps"]
        assert r["ttft_s"] == pytest.approx(8192 / r["prefill_tps"], rel=0.01)
    bad = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "size", "--mac", "M7 Hyper"],
                         capture_output=True, text=True, cwd=CONFIG_DIR.parent)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "mini-2024-m4" in bad.stderr


@pytest.mark.parametrize("configs, mac, min_tps", [
    ([], None, None),                       # the grid: five seed models as columns
    ([], "m4 max", 20),                     # still a grid, fewer Macs
    (["qwen3.5-27b"], None, 15),            # one model: a table of Macs
    ([], "studio m3 ultra 80c 512", None),  # one machine's view
])
def test_tables_fit_80_columns(tmp_path, configs, mac, min_tps):
    write_results(tmp_path)
    report = run_size(configs, [str(tmp_path)], mac, None, False, None, min_tps=min_tps)
    buffer = io.StringIO()
    print_report(report, Console(file=buffer, width=80, color_system=None))
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text, "no cell cut short"
    for m in report["models"]:
        assert m["model"] in text
