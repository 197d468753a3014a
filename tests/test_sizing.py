"""Sizing arithmetic pinned to hand calculations (GB here = 2^30 bytes, as macOS counts memory), and the
shape of the speed predictions: what must hold whatever the fitted constants are."""

import pytest

from orchestrator.config import CONFIG_DIR, load_config, parse_config
from orchestrator.sizing.catalog import GIB, MacOption, load_catalog, options, select_options
from orchestrator.sizing.fit import public_speeds
from orchestrator.sizing.model import (
    DEFAULT_CONTEXT, RUNTIME_OVERHEAD_GB, default_wired_limit_gb, estimate, kv_bytes, max_context,
    raised_wired_limit_gb, roofline_decode_tps, verdict, workload,
)
from orchestrator.sizing.rows import cheapest_at_speed, cheapest_fit, mac_row, size_report
from orchestrator.sizing.speed import EngineSpeed, Fitted, Hardware, Workload, decode_tps, prefill_tps, ttft_s


def seed(name):
    return load_config(CONFIG_DIR / f"{name}.yaml")


def option(query):
    found = select_options(options(load_catalog()), query)
    assert len(found) == 1, [o.label for o in found]
    return found[0]


def row(config, query, context=None, raised=False, speed="mlx"):
    return mac_row(config, estimate(config, context), option(query), public_speeds()[speed], raised)


def test_qwen35_27b_needs_15_to_20_gb_and_does_not_fit_a_16_gb_mac():
    est = estimate(seed("qwen3.5-27b"))
    # 27e9 x 4.5 / 8 bytes = 14.14 GiB; KV 64 KiB x 32768 tokens = 2 GiB; + 2 GiB runtime.
    assert est.weights_gb == pytest.approx(27e9 * 4.5 / 8 / GIB)
    assert est.kv_gb == pytest.approx(2.0)
    assert est.needed_gb == pytest.approx(18.14, abs=0.01)
    for query in ("mini-2024-m4 16", "mbp14-2025-m5 16"):
        assert row(seed("qwen3.5-27b"), query)["verdict"] == "no"
    assert row(seed("qwen3.5-27b"), "mini-2024-m4 32")["verdict"] == "fits"


def test_minimax_m25_4bit_needs_over_120_gb_from_its_real_file_size():
    est = estimate(seed("minimax-m2.5"))
    assert est.weights_source == "weights_gb" and est.weights_gb == pytest.approx(128.7e9 / GIB)
    assert row(seed("minimax-m2.5"), "studio-2023-m2ultra-60c 128")["verdict"] == "no"
    assert row(seed("minimax-m2.5"), "studio-2023-m2ultra-60c 192")["verdict"] == "fits"


@pytest.mark.parametrize("name, kib_per_token", [
    ("qwen3-coder-next", 24),  # 2 x 12 layers x 2 heads x 256 x 2 bytes
    ("qwen3.5-27b", 64),       # 2 x 16 x 4 x 256 x 2
    ("minimax-m2.5", 248),     # 2 x 62 x 8 x 128 x 2
    ("devstral-2-123b", 352),  # 2 x 88 x 8 x 128 x 2
])
def test_kv_cache_per_token_matches_models_md(name, kib_per_token):
    assert kv_bytes(seed(name), 1) == kib_per_token * 1024


def test_sliding_layers_keep_at_most_their_window_and_shared_kv_counts_once():
    gemma = seed("gemma-4-31b")
    global_per_token = 1 * 10 * 4 * 512 * 2  # keys and values shared: one tensor
    sliding_full = 2 * 50 * 16 * 256 * 2 * 1024
    assert kv_bytes(gemma, 1024) == global_per_token * 1024 + sliding_full
    assert kv_bytes(gemma, 4096) - kv_bytes(gemma, 2048) == global_per_token * 2048


@pytest.mark.parametrize("memory, default, raised", [
    (16, 10.67, 10.67), (36, 24.0, 28.0), (48, 36.0, 40.0), (64, 48.0, 56.0), (96, 72.0, 84.0),
    (128, 96.0, 112.0), (512, 384.0, 496.0),
])
def test_wired_limits(memory, default, raised):
    assert default_wired_limit_gb(memory) == pytest.approx(default, abs=0.01)
    assert raised_wired_limit_gb(memory) == pytest.approx(raised, abs=0.01)


def test_a_measured_wired_limit_in_the_catalog_beats_the_rule():
    assert row(seed("qwen3.5-27b"), "studio-2022-m1ultra-48c 128")["usable_gb"] == 96
    assert row(seed("qwen3.5-27b"), "mini-2024-m4 16")["usable_gb"] == 10.67


@pytest.mark.parametrize("needed, expected", [
    (10.0, "fits"), (48.0, "fits"), (50.0, "fits_raised_limit"), (56.0, "fits_raised_limit"),
    (57.0, "no"), (None, "unknown"),
])
def test_verdict_on_a_64_gb_mac(needed, expected):
    assert verdict(needed, 48.0, 56.0) == expected


def test_raised_limit_flag_reports_the_raised_usable_memory_and_keeps_the_verdict():
    plain = row(seed("devstral-2-123b"), "studio-2025-m3ultra-60c 96")
    raised = row(seed("devstral-2-123b"), "studio-2025-m3ultra-60c 96", raised=True)
    assert plain["verdict"] == raised["verdict"] == "fits_raised_limit"
    assert (plain["usable_gb"], raised["usable_gb"]) == (72.0, 84.0)
    assert raised["max_context"] > plain["max_context"]


def test_largest_context_is_what_the_kv_cache_budget_holds():
    config = seed("qwen3.5-27b")  # 64 KiB a token
    est = estimate(config)
    usable = est.weights_gb + est.overhead_gb + 1.0  # one GiB left for the cache: 16384 tokens
    assert max_context(config, est, usable) == 16384
    assert max_context(config, est, est.weights_gb) == 0, "weights and overhead alone do not fit"
    assert max_context(config, est, 1000) == config.context_length, "capped at the model's window"
    gemma = seed("gemma-4-31b")  # sliding layers: the first 1024 tokens cost more
    g = estimate(gemma)
    budget = g.weights_gb + g.overhead_gb + 0.5
    n = max_context(gemma, g, budget)
    assert kv_bytes(gemma, n) <= 0.5 * GIB < kv_bytes(gemma, n + 1)


def test_cheapest_fit_prefers_a_known_price_then_the_least_memory():
    rows = [
        {"mac": "a", "memory_gb": 64, "verdict": "fits", "price_usd": 2499},
        {"mac": "b", "memory_gb": 32, "verdict": "fits", "price_usd": None},
        {"mac": "c", "memory_gb": 96, "verdict": "fits", "price_usd": 1999},
        {"mac": "d", "memory_gb": 24, "verdict": "fits_raised_limit", "price_usd": 999},
    ]
    assert cheapest_fit(rows, allow_raised=False)["mac"] == "c"
    assert cheapest_fit(rows, allow_raised=True)["mac"] == "d"
    assert cheapest_fit([r | {"price_usd": None} for r in rows], allow_raised=False)["mac"] == "b"
    assert cheapest_fit([rows[0] | {"verdict": "no"}], allow_raised=True) is None


def test_cheapest_at_speed_takes_only_current_priced_macs_fast_enough():
    base = {"verdict": "fits", "status": "current", "memory_gb": 64}
    rows = [base | {"mac": "slow-cheap", "price_usd": 999, "decode_tps": 12.0},
            base | {"mac": "old-fast", "price_usd": 500, "decode_tps": 90.0, "status": "discontinued"},
            base | {"mac": "fast", "price_usd": 2499, "decode_tps": 30.0},
            base | {"mac": "faster-dearer", "price_usd": 3999, "decode_tps": 60.0},
            base | {"mac": "unpriced", "price_usd": None, "decode_tps": 70.0},
            base | {"mac": "no-fit", "price_usd": 100, "decode_tps": 70.0, "verdict": "no"}]
    assert cheapest_at_speed(rows, 20)["mac"] == "fast"
    assert cheapest_at_speed(rows, 50)["mac"] == "faster-dearer"
    assert cheapest_at_speed(rows, 100) is None


def test_context_is_capped_at_the_models_window_and_unknown_geometry_is_said():
    config = parse_config({"name": "x", "backend": "llamacpp", "parameters": {"total_b": 7},
                           "context_length": 4096, "llamacpp": {"model": "x.gguf", "bits": 4.8}}, "x.yaml")
    est = estimate(config, context=DEFAULT_CONTEXT)
    assert est.context == 4096 and est.kv_gb is None
    assert est.needed_gb == pytest.approx(7e9 * 4.8 / 8 / GIB + RUNTIME_OVERHEAD_GB)
    assert any("KV cache unknown" in n for n in est.notes) and any("capped" in n for n in est.notes)
    assert max_context(config, est, 100) is None


def test_a_config_without_size_gives_an_unknown_verdict_and_no_speed_not_a_guess():
    config = parse_config({"name": "x", "backend": "llamacpp", "context_length": 4096,
                           "llamacpp": {"model": "x.gguf"}}, "x.yaml")
    r = row(config, "mini-2024-m4 16", speed="llamacpp")
    assert r["needed_gb"] is None and r["verdict"] == "unknown" and r["roofline_decode_tps"] is None
    assert r["decode_tps"] is None and r["ttft_s"] is None and r["max_context"] is None


def test_roofline_needs_every_figure():
    assert roofline_decode_tps(None, 3, 4.5) is None
    assert roofline_decode_tps(800, 10, 8) == pytest.approx(80.0)


def test_qwen3_coder_next_is_far_below_its_roofline_on_an_m3_ultra():
    """The issue's example: a 3B-active MoE's roofline says 485 tok/s; measured MoE decode is about a
    third of the roofline or less, and the prediction must say so."""
    r = row(seed("qwen3-coder-next"), "studio-2025-m3ultra-80c 96", context=4096)
    assert r["roofline_decode_tps"] == pytest.approx(485.3, abs=0.1)
    assert r["decode_tps"] < r["roofline_decode_tps"] / 2.5
    assert r["decode_tps_low"] < r["decode_tps"] < r["decode_tps_high"] < r["roofline_decode_tps"]


def test_decode_falls_with_context_and_prefill_does_not_depend_on_it():
    config = seed("qwen3.5-27b")
    short, long = (row(config, "studio-2025-m4max-40c 128", context=c) for c in (1024, 131072))
    assert long["decode_tps"] < short["decode_tps"] * 0.8
    assert long["prefill_tps"] == short["prefill_tps"]
    assert long["ttft_s"] == pytest.approx(131072 / long["prefill_tps"], rel=0.01)


def test_more_bandwidth_and_more_gpu_cores_are_never_slower():
    config = seed("gemma-4-31b")
    m4max32, m4max40 = row(config, "studio-2025-m4max-32c 36"), row(config, "studio-2025-m4max-40c 48")
    assert m4max40["decode_tps"] > m4max32["decode_tps"] and m4max40["prefill_tps"] > m4max32["prefill_tps"]
    m1ultra48, m1ultra64 = row(config, "studio-2022-m1ultra-48c 64"), row(config, "studio-2022-m1ultra-64c 64")
    assert m1ultra64["decode_tps"] >= m1ultra48["decode_tps"], "equal bandwidth, more cores"


def test_m5_neural_accelerators_speed_up_prefill_far_more_than_decode():
    config = seed("qwen3.5-27b")
    m4, m5 = row(config, "mbp14-2024-m4 32"), row(config, "mbp14-2025-m5 32")
    assert m5["prefill_tps"] > 2.5 * m4["prefill_tps"]
    assert 1.0 < m5["decode_tps"] / m4["decode_tps"] < 1.5  # 153 vs 120 GB/s


def test_prediction_arithmetic_on_given_constants():
    speed = EngineSpeed("x", Fitted((1.0, 2.0, 1.0, 0.001, 0.004), 0.8, 1.2, 10), Fitted((2.0, 0.0), 0.9, 1.1, 10))
    work = Workload(active_weight_bytes=4e9, active_params=8e9, moe=True)
    hw = Hardware(bandwidth_gbs=400, fp16_tflops=16)
    # 4e9/400e9 + 2 x 1e9/400e9 + 1.0 x 16e9/16e12 + 0.001 + 0.004 = 0.01 + 0.005 + 0.001 + 0.005
    p = decode_tps(speed, work, hw, kv_read_bytes=1e9)
    assert p.expected == pytest.approx(1 / 0.021) and (p.low, p.high) == pytest.approx((0.8 / 0.021, 1.2 / 0.021))
    pre = prefill_tps(speed, work, hw)
    assert pre.expected == pytest.approx(16e12 / (2 * 16e9))
    assert ttft_s(5000, pre) == pytest.approx(5000 / pre.expected)
    assert prefill_tps(speed, work, Hardware(400, None)) is None


def test_workload_reads_only_the_active_experts_share_of_the_file():
    config = seed("qwen3-coder-next")  # 44 GB file, 3B of 80B active
    w = workload(config, estimate(config))
    assert w.moe and w.active_weight_bytes == pytest.approx(44e9 * 3 / 80) and w.active_params == 3e9
    assert not workload(seed("qwen3.5-27b"), estimate(seed("qwen3.5-27b"))).moe


def test_report_covers_every_model_and_mac_option_with_a_speed_where_it_can():
    configs = [seed(n) for n in ("qwen3.5-27b", "minimax-m2.5")]
    macs = options(load_catalog())
    report = size_report(configs, macs, public_speeds(), min_decode_tps=20)
    assert len(report["rows"]) == 2 * len(macs)
    assert all(r["decode_tps"] for r in report["rows"])
    minimax = next(m for m in report["models"] if m["model"] == "minimax-m2.5")
    assert "256 GB" in minimax["smallest_fit"]["mac"] or "192 GB" in minimax["smallest_fit"]["mac"]
    qwen = next(m for m in report["models"] if m["model"] == "qwen3.5-27b")
    assert qwen["smallest_fit"]["memory_gb"] == 32  # 24 GB Macs give 16 GB to the GPU by default
    fast = qwen["cheapest_at_speed"]
    winner = next(r for r in report["rows"] if r["mac"] == fast["mac"] and r["model"] == "qwen3.5-27b")
    assert winner["status"] == "current" and winner["decode_tps"] >= 20
    cheaper = [r for r in report["rows"] if r["model"] == "qwen3.5-27b" and r["status"] == "current"
               and r["verdict"] == "fits" and r["price_usd"] and r["price_usd"] < fast["price_usd"]]
    assert all(r["decode_tps"] < 20 for r in cheaper)
