"""The speed model's arithmetic on given constants, every figure computed by hand: what one token costs
(weights and KV cache over bandwidth in 10^9 bytes a second, FLOPs over the FP16 peak), the fitted range
applied to the prediction and capped at the bandwidth bound, and the time to first token as the whole
prompt prefilled."""

import pytest

from orchestrator.sizing.speed import (
    EngineSpeed, Fitted, Hardware, Prediction, Workload, decode_features, decode_tps, prefill_features,
    prefill_tps, ttft_s,
)

WORK = Workload(active_weight_bytes=4e9, active_params=8e9, moe=True)
HW = Hardware(bandwidth_gbs=400, fp16_tflops=16)


def engine(decode=(1.0, 1.0, 0.0, 0.0, 0.0), prefill=(1.0, 0.0), decode_range=(0.5, 2.0), prefill_range=(0.9, 1.1)):
    return EngineSpeed("toy", Fitted(decode, *decode_range, 10), Fitted(prefill, *prefill_range, 10))


def test_decode_features_are_weights_and_kv_over_bandwidth_flops_over_peak_a_fixed_one_and_moe():
    # 4e9 / 400e9, 1e9 / 400e9, 2 x 8e9 / 16e12, fixed, MoE
    assert decode_features(WORK, HW, 1e9) == [0.01, 0.0025, 0.001, 1.0, 1.0]
    dense = Workload(4e9, 8e9, moe=False)
    assert decode_features(dense, HW, 0.0) == [0.01, 0.0, 0.001, 1.0, 0.0]


def test_unknown_gpu_peak_makes_the_compute_terms_zero_and_a_negative_cache_reads_nothing():
    assert decode_features(WORK, Hardware(400, None), -5.0) == [0.01, 0.0, 0.0, 1.0, 1.0]
    assert prefill_features(WORK, Hardware(400, None)) == [0.0, 1.0]


def test_prefill_features_are_flops_over_peak_and_a_fixed_one():
    assert prefill_features(WORK, HW) == [0.001, 1.0]


def test_fitted_seconds_are_the_dot_product_of_coefficients_and_features():
    assert Fitted((1.0, 2.0, 3.0), 0.9, 1.1, 3).seconds([0.5, 0.25, 2.0]) == pytest.approx(7.0, rel=1e-12)


def test_decode_is_one_over_the_seconds_a_token_with_the_fitted_range_applied():
    speed = engine(decode=(1.0, 2.0, 1.0, 0.001, 0.004), decode_range=(0.8, 1.2))
    # 0.01 + 2 x 0.0025 + 0.001 + 0.001 + 0.004 = 0.021 s a token; bound 400e9 / 5e9 = 80 tok/s
    p = decode_tps(speed, WORK, HW, 1e9)
    assert p.expected == pytest.approx(1 / 0.021, rel=1e-12)
    assert p.low == pytest.approx(0.8 / 0.021, rel=1e-12)
    assert p.high == pytest.approx(1.2 / 0.021, rel=1e-12)


def test_decode_range_never_reaches_past_the_bandwidth_bound():
    p = decode_tps(engine(decode=(2.0, 2.0, 0.0, 0.0, 0.0)), WORK, HW, 1e9)  # 2 x 5e9 / 400e9 = 0.025 s
    assert (p.expected, p.low, p.high) == pytest.approx((40.0, 20.0, 80.0), rel=1e-12)  # 2 x 40 capped at 80
    narrow = decode_tps(engine(decode=(2.0, 2.0, 0.0, 0.0, 0.0), decode_range=(0.5, 1.5)), WORK, HW, 1e9)
    assert narrow.high == pytest.approx(60.0, rel=1e-12)


def test_a_prediction_above_the_bound_keeps_its_expected_value_as_the_top_of_the_range():
    p = decode_tps(engine(decode=(0.5, 0.5, 0.0, 0.0, 0.0)), WORK, HW, 1e9)
    assert (p.expected, p.low, p.high) == pytest.approx((160.0, 80.0, 160.0), rel=1e-12)


def test_the_bandwidth_bound_ignores_a_negative_cache():
    p = decode_tps(engine(decode=(1.0, 1.0, 0.0, 0.0, 0.0)), WORK, HW, -1e9)
    assert (p.expected, p.high) == pytest.approx((100.0, 100.0), rel=1e-12)  # 400e9 / 4e9


def test_the_bandwidth_bound_with_an_empty_cache_is_the_weights_alone():
    p = decode_tps(engine(decode=(1.5, 1.0, 0.0, 0.0, 0.0)), WORK, HW, 0.0)  # 1.5 x 0.01 s: 66.7 tok/s
    assert p.expected == pytest.approx(1 / 0.015, rel=1e-12)
    assert p.high == 100.0, "2 x 66.7 capped at 400e9 / 4e9 exactly"


def test_constants_that_cost_nothing_predict_nothing():
    speed = engine(decode=(0.0,) * 5, prefill=(0.0, 0.0))
    assert decode_tps(speed, WORK, HW, 1e9) is None
    assert prefill_tps(speed, WORK, HW) is None


def test_prefill_is_fp16_peak_over_fitted_efficiency_with_its_range():
    p = prefill_tps(engine(prefill=(2.0, 0.0001)), WORK, HW)  # 2 x 0.001 + 0.0001 = 0.0021 s a token
    assert p.expected == pytest.approx(1 / 0.0021, rel=1e-12)
    assert (p.low, p.high) == pytest.approx((0.9 / 0.0021, 1.1 / 0.0021), rel=1e-12)


@pytest.mark.parametrize("tflops", [None, 0.0])
def test_no_prefill_prediction_without_a_gpu_peak(tflops):
    assert prefill_tps(engine(prefill=(1.0, 0.001)), WORK, Hardware(400, tflops)) is None


def test_time_to_first_token_prefills_the_whole_prompt():
    assert ttft_s(5000, Prediction(500.0, 400.0, 600.0)) == pytest.approx(10.0, rel=1e-12)
    assert ttft_s(0, Prediction(500.0, 400.0, 600.0)) == 0.0
    assert ttft_s(5000, Prediction(0.5, 0.4, 0.6)) == pytest.approx(10000.0, rel=1e-12), "slow, but a time"
    assert ttft_s(5000, None) is None
    assert ttft_s(5000, Prediction(0.0, 0.0, 0.0)) is None
