"""Sizing arithmetic pinned to hand calculations (GB here = 2^30 bytes, as macOS counts memory)."""

import pytest

from orchestrator.config import CONFIG_DIR, load_config, parse_config
from orchestrator.sizing.catalog import GIB, MacOption, load_catalog, options, select
from orchestrator.sizing.model import (
    DEFAULT_CONTEXT,
    RUNTIME_OVERHEAD_GB,
    cheapest_fit,
    default_wired_limit_gb,
    estimate,
    kv_bytes,
    raised_wired_limit_gb,
    roofline_decode_tps,
    row,
    size_report,
    verdict,
)


def seed(name):
    return load_config(CONFIG_DIR / f"{name}.yaml")


def option(mac_id, memory_gb):
    entry = select(load_catalog(), mac_id)[0]
    return MacOption(entry, float(memory_gb))


def test_qwen35_27b_needs_15_to_20_gb_and_does_not_fit_a_16_gb_mac():
    est = estimate(seed("qwen3.5-27b"))
    # 27e9 x 4.5 / 8 bytes = 14.14 GiB; KV 64 KiB x 32768 tokens = 2 GiB; + 2 GiB runtime.
    assert est.weights_gb == pytest.approx(27e9 * 4.5 / 8 / GIB)
    assert est.kv_gb == pytest.approx(2.0)
    assert est.needed_gb == pytest.approx(18.14, abs=0.01)
    assert 15 < est.needed_gb < 20
    for mac_id in ("mini-2024-m4", "mbp14-2025-m5"):
        r = row(est, option(mac_id, 16))
        assert r["verdict"] == "no", r
    assert row(est, option("mini-2024-m4", 32))["verdict"] == "fits"


def test_minimax_m25_4bit_needs_over_120_gb_from_its_real_file_size():
    est = estimate(seed("minimax-m2.5"))
    assert est.weights_source == "weights_gb"
    assert est.weights_gb == pytest.approx(128.7e9 / GIB)
    assert est.needed_gb > 120
    assert row(est, option("studio-2023-m2-ultra", 128))["verdict"] == "no"
    assert row(est, option("studio-2023-m2-ultra", 192))["verdict"] == "fits"


def test_qwen3_coder_next_roofline_on_m3_ultra_is_about_485_tokens_a_second():
    r = row(estimate(seed("qwen3-coder-next")), option("studio-2025-m3-ultra", 96))
    # 819e9 B/s / (3e9 active x 4.5 bits / 8) = 485.3
    assert r["roofline_decode_tps"] == pytest.approx(485.3, abs=0.1)
    assert r["realistic_decode_tps"] == pytest.approx([291.2, 388.3], abs=0.1)


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
    (16, 10.67, 10.67),  # 2/3; raising cannot leave macOS 8 GB and beat the default
    (36, 24.0, 28.0),
    (48, 36.0, 40.0),
    (64, 48.0, 56.0),
    (96, 72.0, 84.0),
    (128, 96.0, 112.0),
    (512, 384.0, 496.0),
])
def test_wired_limits(memory, default, raised):
    assert default_wired_limit_gb(memory) == pytest.approx(default, abs=0.01)
    assert raised_wired_limit_gb(memory) == pytest.approx(raised, abs=0.01)


def test_a_measured_wired_limit_in_the_catalog_beats_the_rule():
    est = estimate(seed("qwen3.5-27b"))
    assert row(est, option("studio-2022-m1-ultra", 128))["usable_gb"] == 96
    assert row(est, option("mini-2024-m4", 16))["usable_gb"] == 10.67


@pytest.mark.parametrize("needed, expected", [
    (10.0, "fits"), (48.0, "fits"), (50.0, "fits_raised_limit"), (56.0, "fits_raised_limit"),
    (57.0, "no"), (None, "unknown"),
])
def test_verdict_on_a_64_gb_mac(needed, expected):
    assert verdict(needed, 48.0, 56.0) == expected


def test_raised_limit_flag_reports_the_raised_usable_memory_and_keeps_the_verdict():
    est = estimate(seed("devstral-2-123b"))  # 65 GB file + 11 GiB KV + 2: ~73.5
    plain, raised = row(est, option("studio-2025-m3-ultra", 96)), row(est, option("studio-2025-m3-ultra", 96), True)
    assert plain["verdict"] == raised["verdict"] == "fits_raised_limit"
    assert (plain["usable_gb"], raised["usable_gb"]) == (72.0, 84.0)


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


def test_context_is_capped_at_the_models_window_and_unknown_geometry_is_said():
    config = parse_config({"name": "x", "backend": "llamacpp", "parameters": {"total_b": 7},
                           "context_length": 4096, "llamacpp": {"model": "x.gguf", "bits": 4.8}}, "x.yaml")
    est = estimate(config, context=DEFAULT_CONTEXT)
    assert est.context == 4096 and est.kv_gb is None
    assert est.needed_gb == pytest.approx(7e9 * 4.8 / 8 / GIB + RUNTIME_OVERHEAD_GB)
    assert any("KV cache unknown" in n for n in est.notes)
    assert any("capped" in n for n in est.notes)


def test_a_config_without_size_gives_an_unknown_verdict_not_a_guess():
    config = parse_config({"name": "x", "backend": "llamacpp", "context_length": 4096,
                           "llamacpp": {"model": "x.gguf"}}, "x.yaml")
    r = row(estimate(config), option("mini-2024-m4", 16))
    assert r["needed_gb"] is None and r["verdict"] == "unknown" and r["roofline_decode_tps"] is None


def test_roofline_needs_every_figure():
    assert roofline_decode_tps(None, 3, 4.5) is None
    assert roofline_decode_tps(800, 10, 8) == pytest.approx(80.0)


def test_report_covers_every_model_and_mac_option():
    configs = [seed(n) for n in ("qwen3.5-27b", "minimax-m2.5")]
    macs = options(load_catalog())
    report = size_report(configs, macs)
    assert len(report["rows"]) == 2 * len(macs)
    minimax = next(m for m in report["models"] if m["model"] == "minimax-m2.5")
    assert "256 GB" in minimax["smallest_fit"]["mac"] or "192 GB" in minimax["smallest_fit"]["mac"]
    qwen = next(m for m in report["models"] if m["model"] == "qwen3.5-27b")
    assert qwen["smallest_fit"]["memory_gb"] == 32  # 24 GB Macs give 16 GB to the GPU by default
