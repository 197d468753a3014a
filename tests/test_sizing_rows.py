"""One made-up model on one made-up Mac, the whole row computed by hand: what it needs against what the
GPU may use by default and with the raised limit, the largest context each leaves, and the decode,
prefill and time-to-first-token predictions with their ranges."""

from orchestrator.config import parse_config
from orchestrator.sizing.catalog import MacEntry, MacOption
from orchestrator.sizing.model import Estimate
from orchestrator.sizing.rows import mac_row
from orchestrator.sizing.speed import EngineSpeed, Fitted


def toy(total_b, context_length):
    return parse_config({"name": "toy", "backend": "mlx", "context_length": context_length,
                         "parameters": {"total_b": total_b},
                         "architecture": {"kv_layers": 1, "kv_heads": 1, "head_dim": 256},  # 1 KiB a token
                         "mlx": {"model": "toy/mlx", "bits": 8}}, "toy.yaml")


def est(weights_gb, context=4096):
    return Estimate(model="toy", context=context, bits=8.0, weights_gb=weights_gb, weights_source="weights_gb",
                    kv_gb=context * 1024 / 2**30, overhead_gb=2.0, active_b=8.0)


def option(memory, bandwidth=800.0, tflops=10.0, chip="M4"):
    entry = MacEntry(id="toy-mac", machine="Toy Mac", chip=chip, gpu_cores=10, memory_gb=[memory],
                     bandwidth_gbs=bandwidth, fp16_tflops=tflops, status="current", prices_usd={memory: 1999})
    return MacOption(entry, memory)


SPEED = EngineSpeed("mlx", Fitted((1.0, 2.0, 0.0, 0.0, 0.0), 0.5, 2.0, 10), Fitted((1.0, 0.0), 0.8, 1.2, 10))


def test_a_model_over_the_default_limit_fits_only_once_it_is_raised_and_gets_more_context():
    config = toy(40, 2**21)
    e = est(37.0)  # 37 + 4 MiB of cache + 2 = 39.004 GB; a 48 GB Mac wires 36 by default, 40 raised
    plain = mac_row(config, e, option(48), SPEED)
    assert plain["needed_gb"] == 39.0 and plain["estimated_gb"] == 39.0
    assert (plain["usable_gb"], plain["usable_default_gb"], plain["usable_raised_gb"]) == (36.0, 36.0, 40.0)
    assert plain["verdict"] == "fits_raised_limit"
    assert plain["max_context"] == 0, "the weights and overhead alone pass the default limit"
    raised = mac_row(config, e, option(48), SPEED, raised_limit=True)
    assert raised["usable_gb"] == 40.0 and raised["verdict"] == "fits_raised_limit"
    assert raised["max_context"] == 2**20, "1 GB left: 2^20 tokens of 1 KiB"


def test_a_measured_peak_replaces_the_estimate_in_the_verdict():
    config = toy(40, 2**21)
    row = mac_row(config, est(30.0), option(48), SPEED, needed_gb=41.0)
    assert row["needed_gb"] == 41.0 and row["estimated_gb"] == 32.0 and row["verdict"] == "no"


def test_speeds_come_from_the_active_weights_the_cache_at_the_context_and_the_gpu_peak():
    config = toy(8, 65536)
    row = mac_row(config, est(4.0), option(16), SPEED)
    weights, kv = 4 * 2**30, 4096 * 1024
    assert row["verdict"] == "fits" and row["usable_gb"] == 10.67 and row["max_context"] == 65536
    assert row["roofline_decode_tps"] == 100.0  # 800e9 / (8e9 x 8 bits / 8)
    expected = 800e9 / (weights + 2 * kv)  # KV coefficient 2
    assert row["decode_tps"] == round(expected, 1) == 185.9
    assert row["decode_tps_low"] == round(expected / 2, 1)
    assert row["decode_tps_high"] == round(800e9 / (weights + kv), 1) == 186.1, "2x capped at the bandwidth bound"
    assert (row["prefill_tps"], row["prefill_tps_low"], row["prefill_tps_high"]) == (625, 500, 750)  # 10e12 / 16e9
    assert row["ttft_s"] == 6.6  # 4096 tokens / 625 a second
    assert row["context"] == 4096 and row["engine"] == "mlx"


def test_time_to_first_token_grows_with_the_context_prefilled():
    config = toy(8, 65536)
    assert mac_row(config, est(4.0, context=32768), option(64), SPEED)["ttft_s"] == 52.4  # 32768 / 625


def test_a_mac_without_a_gpu_peak_has_decode_but_no_prefill_or_ttft():
    no_peak = option(16, tflops=None, chip="X9")  # a chip the peak table does not know
    row = mac_row(toy(8, 65536), est(4.0), no_peak, SPEED)
    assert row["decode_tps"] == 185.9
    assert (row["prefill_tps"], row["ttft_s"]) == (None, None)
