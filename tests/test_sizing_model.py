"""Sizing's memory arithmetic on small made-up models and Macs, every figure computed by hand (GB here is
2^30 bytes, as macOS counts memory; a config's `weights_gb` is 10^9 bytes): the KV cache formula term by
term, weights from the file or from parameters x bits, the share of unified memory the GPU may wire,
the verdict at its edges, the largest context to the token, and the share of an MoE a token reads."""

import pytest

from orchestrator.config import parse_config
from orchestrator.sizing.catalog import MacEntry, MacOption
from orchestrator.sizing.model import (
    DEFAULT_CONTEXT, RUNTIME_OVERHEAD_GB, Estimate, default_wired_limit_gb, estimate, kv_bytes, max_context,
    raised_wired_limit_gb, roofline_decode_tps, sized_backend, usable_gb, verdict, workload,
)
from orchestrator.units import GIB

KIB_A_TOKEN = {"kv_layers": 1, "kv_heads": 1, "head_dim": 256}
"""2 tensors x 1 layer x 1 head x 256 x 2 bytes = 1024 bytes of KV cache a token."""


def toy(arch=None, params=None, context_length=65536, mlx=None, llamacpp=None, backend="mlx", unverified=False):
    raw = {"name": "toy", "backend": backend, "context_length": context_length}
    if arch is not None:
        raw["architecture"] = dict(arch, unverified=unverified)
    if params is not None:
        raw["parameters"] = params
    if mlx is not None:
        raw["mlx"] = {"model": "toy/mlx", **mlx}
    if llamacpp is not None:
        raw["llamacpp"] = {"model": "toy.gguf", **llamacpp}
    return parse_config(raw, "toy.yaml")


def est_of(weights_gb=1.0, overhead_gb=2.0):
    return Estimate(model="toy", context=4096, bits=4.0, weights_gb=weights_gb, weights_source="weights_gb",
                    kv_gb=None, overhead_gb=overhead_gb)


# ---- KV cache ---------------------------------------------------------------------------------------

def test_kv_cache_is_keys_and_values_x_layers_x_kv_heads_x_head_dim_x_two_bytes_a_token():
    config = toy({"kv_layers": 3, "kv_heads": 5, "head_dim": 7}, mlx={})
    assert kv_bytes(config, 1) == 2 * 3 * 5 * 7 * 2 == 420
    assert kv_bytes(config, 11) == 4620
    assert kv_bytes(config, 0) == 0


def test_shared_keys_and_values_count_the_full_layers_once():
    config = toy({"kv_layers": 3, "kv_heads": 5, "head_dim": 7, "kv_shared": True}, mlx={})
    assert kv_bytes(config, 11) == 3 * 5 * 7 * 2 * 11 == 2310


def test_sliding_layers_keep_both_tensors_with_their_own_geometry_up_to_their_window():
    config = toy({"kv_layers": 3, "kv_heads": 5, "head_dim": 7, "kv_shared": True, "sliding_layers": 2,
                  "sliding_window": 4, "sliding_kv_heads": 3, "sliding_head_dim": 6}, mlx={})
    # full layers 1 x 3 x 5 x 7 x 2 = 210 a token; sliding 2 x 2 x 3 x 6 x 2 = 144 a token, at most 4 tokens
    assert kv_bytes(config, 3) == 210 * 3 + 144 * 3 == 1062
    assert kv_bytes(config, 4) == 210 * 4 + 144 * 4 == 1416
    assert kv_bytes(config, 10) == 210 * 10 + 144 * 4 == 2676


def test_sliding_layers_without_their_own_geometry_take_the_full_layers_heads_and_dim():
    config = toy({"kv_layers": 3, "kv_heads": 5, "head_dim": 7, "sliding_layers": 2, "sliding_window": 4}, mlx={})
    assert kv_bytes(config, 10) == 420 * 10 + 2 * 2 * 5 * 7 * 2 * 4 == 5320


def test_sliding_layers_without_a_window_leave_the_cache_unknown():
    config = toy({"kv_layers": 3, "kv_heads": 5, "head_dim": 7, "sliding_layers": 2}, mlx={})
    assert kv_bytes(config, 10) is None


@pytest.mark.parametrize("missing", ["kv_layers", "kv_heads", "head_dim"])
def test_kv_cache_is_unknown_without_each_geometry_figure(missing):
    arch = {"kv_layers": 3, "kv_heads": 5, "head_dim": 7}
    del arch[missing]
    assert kv_bytes(toy(arch, mlx={}), 10) is None


def test_a_model_with_no_full_attention_layers_keeps_no_growing_cache():
    config = toy({"kv_layers": 0, "kv_heads": 5, "head_dim": 7, "sliding_layers": 1, "sliding_window": 4}, mlx={})
    assert kv_bytes(config, 100) == 2 * 1 * 5 * 7 * 2 * 4 == 560


# ---- estimate ----------------------------------------------------------------------------------------

def test_weights_from_parameters_x_bits_in_gib_plus_kv_plus_overhead():
    config = toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4})
    est = estimate(config, 4096)
    assert est.weights_source == "parameters x bits" and est.bits == 4
    assert est.weights_gb == pytest.approx(4e9 / GIB, rel=1e-12)  # 8e9 x 4 / 8 bytes
    assert est.kv_gb == pytest.approx(4096 * 1024 / GIB, rel=1e-12)  # 4 MiB
    assert est.overhead_gb == RUNTIME_OVERHEAD_GB == 2.0
    assert est.needed_gb == pytest.approx(4e9 / GIB + 4 / 1024 + 2.0, rel=1e-12)
    assert est.context == 4096 and est.notes == [] and est.model == "toy"


def test_the_real_file_size_beats_parameters_and_implies_the_bits():
    est = estimate(toy(KIB_A_TOKEN, {"total_b": 20}, mlx={"weights_gb": 10.0}))
    assert est.weights_source == "weights_gb"
    assert est.weights_gb == pytest.approx(10e9 / GIB, rel=1e-12)
    assert est.bits == pytest.approx(4.0, rel=1e-12)  # 10 GB x 8 / 20 B parameters
    stated = estimate(toy(KIB_A_TOKEN, {"total_b": 20}, mlx={"weights_gb": 10.0, "bits": 4.5}))
    assert stated.bits == 4.5 and stated.weights_gb == pytest.approx(10e9 / GIB, rel=1e-12)
    no_params = estimate(toy(KIB_A_TOKEN, mlx={"weights_gb": 10.0}))
    assert no_params.bits is None and no_params.weights_gb == pytest.approx(10e9 / GIB, rel=1e-12)


def test_without_size_the_weights_and_the_need_are_unknown_and_said():
    est = estimate(toy(KIB_A_TOKEN, {"total_b": 8}, mlx={}))
    assert est.weights_gb is None and est.weights_source is None and est.needed_gb is None
    assert len(est.notes) == 1 and est.notes[0].startswith("weights unknown")
    assert est.kv_gb == pytest.approx(DEFAULT_CONTEXT * 1024 / GIB, rel=1e-12)


def test_unknown_kv_cache_counts_nothing_and_is_said():
    est = estimate(toy({"kv_layers": 3}, {"total_b": 8}, mlx={"bits": 4}), 4096)
    assert est.kv_gb is None
    assert est.needed_gb == pytest.approx(4e9 / GIB + 2.0, rel=1e-12)
    assert len(est.notes) == 1 and est.notes[0].startswith("KV cache unknown")


def test_context_defaults_to_32k_and_is_capped_at_the_models_window():
    config = toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4}, context_length=65536)
    assert estimate(config).context == DEFAULT_CONTEXT == 32768
    assert estimate(config, 1000).context == 1000
    assert estimate(config, 65536).notes == []
    capped = estimate(toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4}, context_length=4096))
    assert capped.context == 4096 and capped.kv_gb == pytest.approx(4 / 1024, rel=1e-12)
    assert len(capped.notes) == 1 and "4096" in capped.notes[0]


def test_unverified_architecture_is_said():
    est = estimate(toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4}, unverified=True), 4096)
    assert len(est.notes) == 1 and est.notes[0].startswith("architecture figures unverified")


def test_mlx_is_sized_where_the_config_has_it_else_the_configs_own_backend():
    both = toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4}, llamacpp={"bits": 8}, backend="llamacpp")
    assert sized_backend(both) == "mlx"
    assert estimate(both).bits == 4 and estimate(both).weights_gb == pytest.approx(4e9 / GIB, rel=1e-12)
    assert estimate(both, backend="llamacpp").weights_gb == pytest.approx(8e9 / GIB, rel=1e-12)
    gguf_only = toy(KIB_A_TOKEN, {"total_b": 8}, llamacpp={"bits": 8}, backend="llamacpp")
    assert sized_backend(gguf_only) == "llamacpp" and estimate(gguf_only).bits == 8


def test_an_moe_estimate_carries_its_active_parameters():
    assert estimate(toy(KIB_A_TOKEN, {"total_b": 30, "active_b": 3}, mlx={"bits": 4})).active_b == 3
    assert estimate(toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4})).active_b == 8


# ---- GPU-usable memory and verdict --------------------------------------------------------------------

@pytest.mark.parametrize("memory, default", [(16, 16 * 2 / 3), (36, 24.0), (37, 27.75), (64, 48.0), (512, 384.0)])
def test_the_gpu_may_wire_two_thirds_up_to_36_gb_and_three_quarters_above(memory, default):
    assert default_wired_limit_gb(memory) == pytest.approx(default, rel=1e-12)


@pytest.mark.parametrize("memory, raised", [
    (16, 16 * 2 / 3),  # 16 - 8 = 8 is below the default: the default stands
    (48, 40.0),        # reserve at least 8
    (64, 56.0),        # 64 / 8 = 8
    (100, 87.5),       # 100 / 8 = 12.5
    (200, 184.0),      # 25 capped at 16
    (256, 240.0),
])
def test_a_raised_limit_leaves_an_eighth_of_memory_between_8_and_16_gb_to_macos(memory, raised):
    assert raised_wired_limit_gb(memory) == pytest.approx(raised, rel=1e-12)


def mac(memory=(64, 128), wired=None, bandwidth=100.0, tflops=None):
    return MacEntry(id="toy-mac", machine="Toy Mac", chip="M4", gpu_cores=10, memory_gb=list(memory),
                    bandwidth_gbs=bandwidth, fp16_tflops=tflops, wired_limit_gb=wired or {})


def test_a_measured_wired_limit_beats_the_rule_for_its_memory_size_only():
    entry = mac(wired={64: 50.0})
    assert usable_gb(MacOption(entry, 64)) == 50.0
    assert usable_gb(MacOption(entry, 128)) == 96.0


@pytest.mark.parametrize("needed, expected", [
    (1.0, "fits"), (24.0, "fits"), (24.5, "fits_raised_limit"), (28.0, "fits_raised_limit"), (28.5, "no"),
    (None, "unknown"),
])
def test_verdict_at_the_edges_of_the_default_and_raised_limits(needed, expected):
    assert verdict(needed, 24.0, 28.0) == expected


def test_roofline_decode_is_bandwidth_in_1e9_bytes_over_the_active_weight_bytes():
    assert roofline_decode_tps(800, 10, 8) == pytest.approx(80.0, rel=1e-12)
    assert roofline_decode_tps(546, 3, 4.5) == pytest.approx(546e9 / (3e9 * 4.5 / 8), rel=1e-12)


@pytest.mark.parametrize("args", [(None, 3, 4.5), (546, None, 4.5), (546, 3, None), (0, 3, 4.5)])
def test_roofline_needs_bandwidth_active_parameters_and_bits(args):
    assert roofline_decode_tps(*args) is None


# ---- largest context ------------------------------------------------------------------------------

def test_largest_context_is_the_last_token_whose_kv_cache_fits_beside_weights_and_overhead():
    config = toy(KIB_A_TOKEN, context_length=8192, mlx={})
    est = est_of(weights_gb=1.0, overhead_gb=2.0)
    assert max_context(config, est, 3.0 + 2**-10) == 1024  # 1 MiB left: 1024 tokens of 1 KiB
    assert max_context(config, est, 3.0 + 2**-10 - 2**-30) == 1023  # one byte short
    assert max_context(config, est, 3.0 + 2**-10 + 1023 * 2**-30) == 1024  # 1023 bytes spare: not a token
    assert max_context(config, est, 3.0) == 0
    assert max_context(config, est, 2.5) == 0, "weights and overhead alone do not fit"


def test_largest_context_counts_the_estimates_own_overhead():
    config = toy(KIB_A_TOKEN, context_length=8192, mlx={})
    assert max_context(config, est_of(weights_gb=1.0, overhead_gb=0.5), 1.5 + 2**-10) == 1024
    assert max_context(config, est_of(weights_gb=3.0, overhead_gb=0.5), 3.5 + 2**-9) == 2048


def test_largest_context_is_capped_at_the_models_window():
    config = toy(KIB_A_TOKEN, context_length=8192, mlx={})
    est = est_of()
    assert max_context(config, est, 3.0 + 2**-7) == 8192  # exactly the whole window's cache
    assert max_context(config, est, 3.0 + 2**-7 - 2**-30) == 8191
    assert max_context(config, est, 1000.0) == 8192


def test_largest_context_with_sliding_layers_pays_their_window_first():
    # 1 KiB a token for the full layer, 1 KiB a token for the sliding one up to 256 tokens
    config = toy(dict(KIB_A_TOKEN, sliding_layers=1, sliding_window=256), context_length=8192, mlx={})
    est = est_of()
    assert max_context(config, est, 3.0 + 2**-9) == 1792  # 2 MiB = (1792 + 256) KiB
    assert max_context(config, est, 3.0 + 2**-14) == 32  # 64 KiB = 32 x 2 KiB


def test_a_model_keeping_no_kv_cache_gets_its_whole_window_once_the_weights_fit():
    config = toy({"kv_layers": 0, "kv_heads": 1, "head_dim": 256}, context_length=8192, mlx={})
    assert max_context(config, est_of(), 3.0) == 8192  # weights and overhead exactly fill it
    assert max_context(config, est_of(), 3.0 - 2**-30) == 0


def test_largest_context_is_unknown_without_weights_or_kv_geometry():
    assert max_context(toy({"kv_layers": 1}, context_length=8192, mlx={}), est_of(), 100.0) is None
    assert max_context(toy(KIB_A_TOKEN, context_length=8192, mlx={}), est_of(weights_gb=None), 100.0) is None


# ---- what a decoded token reads -----------------------------------------------------------------------

def test_an_moe_token_reads_the_active_share_of_the_weights_and_computes_on_active_parameters():
    config = toy(KIB_A_TOKEN, {"total_b": 30, "active_b": 3}, mlx={"weights_gb": 15.0})
    work = workload(config, estimate(config))
    assert work.active_weight_bytes == pytest.approx(1.5e9, rel=1e-12)  # 15e9 x 3 / 30
    assert work.active_params == pytest.approx(3e9, rel=1e-12)
    assert work.moe is True


def test_a_dense_token_reads_every_weight():
    config = toy(KIB_A_TOKEN, {"total_b": 8}, mlx={"bits": 4})
    work = workload(config, estimate(config))
    assert work.active_weight_bytes == pytest.approx(4e9, rel=1e-12)
    assert work.active_params == pytest.approx(8e9, rel=1e-12) and work.moe is False


@pytest.mark.parametrize("active, moe", [(9.0, False), (8.9, True)])
def test_a_model_counts_as_moe_below_nine_tenths_active(active, moe):
    config = toy(KIB_A_TOKEN, {"total_b": 10, "active_b": active}, mlx={"bits": 4})
    assert workload(config, estimate(config)).moe is moe


def test_no_workload_without_parameters_or_weights():
    no_params = toy(KIB_A_TOKEN, mlx={"weights_gb": 10.0})
    assert workload(no_params, estimate(no_params)) is None
    no_size = toy(KIB_A_TOKEN, {"total_b": 8}, mlx={})
    assert workload(no_size, estimate(no_size)) is None
