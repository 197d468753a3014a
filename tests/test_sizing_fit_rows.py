"""The speed fit on small made-up tables: what a public row becomes (the catalog's bandwidth and peak,
the active share of the file, llama-bench's 64 tokens of cache), which rows are fitted, constants
recovered exactly from exact data, the range held out rows give (and the stated guess when too few are
held out), and this project's own turns weighing together as much as the public rows."""

import pytest
import yaml

from orchestrator.errors import UserError
from orchestrator.sizing.catalog import MacEntry
from orchestrator.sizing.fit import (
    DECODE_FLOOR, PREFILL_FLOOR, Observation, _solve, calibrated_speeds, decode_rows, fit_engine, fit_rows,
    holdout_groups, load_public, nnls_normal, prefill_rows, public_speeds, weighted_quantile,
)
from orchestrator.sizing.speed import Hardware, Workload, decode_features, prefill_features
from orchestrator.units import GIB

ENTRIES = [MacEntry(id="toy-m4", machine="Toy", chip="M4", gpu_cores=10, memory_gb=[16], bandwidth_gbs=120.0,
                    fp16_tflops=4.0),
           MacEntry(id="toy-m4max", machine="Toy", chip="M4 Max", gpu_cores=40, memory_gb=[64],
                    bandwidth_gbs=546.0, fp16_tflops=16.0)]
MODELS = {"dense": {"params_b": 8, "active_b": 8, "kv_bytes_per_token": 1000},
          "moe": {"params_b": 30, "active_b": 3, "moe": True}}


def table(tmp_path, rows, sources=("bench",)):
    path = tmp_path / "measurements.yaml"
    path.write_text(yaml.safe_dump({"sources": {s: {"url": f"https://{s}.example"} for s in sources},
                                    "models": MODELS, "rows": rows}))
    return path


def row(**fields):
    return {"source": "bench", "model": "dense", "chip": "M4", "gpu_cores": 10, "engine": "mlx", "bits": 4,
            "decode_tps": 20.0, "prefill_tps": 300.0} | fields


# ---- the public table --------------------------------------------------------------------------------

def test_a_public_row_becomes_an_observation_on_the_catalogs_mac(tmp_path):
    [o] = load_public(table(tmp_path, [row()]), ENTRIES)
    assert o == Observation(engine="mlx", source="bench", mac="M4 10c", model="dense",
                            work=Workload(active_weight_bytes=4e9, active_params=8e9, moe=False),
                            hardware=Hardware(120.0, 4.0), kv_read_bytes=64_000, decode_tps=20.0,
                            prefill_tps=300.0, anomalous=None)


def test_an_moe_row_reads_the_active_share_of_its_file_and_its_stated_context(tmp_path):
    rows = [row(model="moe", chip="M4 Max", gpu_cores=40, bits=None, weights_gib=16, decode_context=5000,
                anomalous="a bug report")]
    [o] = load_public(table(tmp_path, rows), ENTRIES)
    assert o.work.active_weight_bytes == pytest.approx(16 * GIB * 3 / 30, rel=1e-12)
    assert o.work.active_params == 3e9 and o.work.moe is True
    assert o.hardware == Hardware(546.0, 16.0) and o.mac == "M4 Max 40c"
    assert o.kv_read_bytes == 0, "no KV figure for the model: none counted"
    assert o.anomalous == "a bug report"


def test_an_moe_row_from_bits_reads_its_active_parameters_at_those_bits(tmp_path):
    [o] = load_public(table(tmp_path, [row(model="moe", bits=4.5)]), ENTRIES)
    assert o.work.active_weight_bytes == pytest.approx(3e9 * 4.5 / 8, rel=1e-12)


def test_a_stated_decode_context_sets_the_cache_read(tmp_path):
    [o] = load_public(table(tmp_path, [row(decode_context=5000)]), ENTRIES)
    assert o.kv_read_bytes == 5_000_000


def test_a_row_without_a_gpu_bin_takes_the_chips_lowest_bin(tmp_path):
    raw = row()
    del raw["gpu_cores"]
    [o] = load_public(table(tmp_path, [raw]), ENTRIES)
    assert o.mac == "M4 ?c" and o.hardware == Hardware(120.0, 4.0)


@pytest.mark.parametrize("bad, words", [
    ({"source": "blog"}, "source 'blog'"), ({"model": "huge"}, "model 'huge'"),
    ({"chip": "M9 Ultra"}, "chip 'M9 Ultra'"),
])
def test_a_row_naming_what_the_table_or_catalog_lacks_is_one_line_naming_the_row(tmp_path, bad, words):
    with pytest.raises(UserError) as err:
        load_public(table(tmp_path, [row(), row(**bad)]), ENTRIES)
    assert "rows[1]" in str(err.value) and words in str(err.value) and "\n" not in str(err.value)


def observation(decode_tps=20.0, prefill_tps=300.0, source="bench", engine="mlx", tflops=4.0, anomalous=None):
    return Observation(engine, source, "toy", "dense", Workload(4e9, 8e9), Hardware(120.0, tflops), 1000.0,
                       decode_tps=decode_tps, prefill_tps=prefill_tps, anomalous=anomalous)


def test_fitted_rows_are_seconds_a_token_and_leave_out_anomalous_and_missing_speeds():
    obs = [observation(), observation(decode_tps=None), observation(prefill_tps=None), observation(tflops=None),
           observation(anomalous="bug")]
    work, hw = Workload(4e9, 8e9), Hardware(120.0, 4.0)
    assert decode_rows(obs) == [(decode_features(work, hw, 1000.0), 1 / 20.0, 1.0, "bench")] * 2 + [
        (decode_features(work, Hardware(120.0, None), 1000.0), 1 / 20.0, 1.0, "bench")]
    assert prefill_rows(obs) == [(prefill_features(work, hw), 1 / 300.0, 1.0, "bench")] * 2


# ---- the fit ---------------------------------------------------------------------------------------------

def exact_prefill_rows(n, efficiency=2.0, fixed=0.0005):
    """n rows of prefill made by `efficiency` x FLOP time + `fixed`, each from its own source."""
    rows = []
    for i in range(n):
        flops = 0.001 * (i + 1)
        rows.append(([flops, 1.0], efficiency * flops + fixed, 1.0, f"s{i}"))
    return rows


def test_exact_data_gives_its_constants_back_and_no_spread():
    fitted = fit_rows(exact_prefill_rows(6), PREFILL_FLOOR)
    assert fitted.coefficients == pytest.approx((2.0, 0.0005), rel=1e-9)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((1.0, 1.0), abs=1e-9)
    assert fitted.rows == 6


@pytest.mark.parametrize("n, held_out", [(3, 0), (4, 4), (5, 5)])
def test_fewer_than_five_held_out_rows_give_the_stated_30_percent_guess(n, held_out):
    """Three rows of two unknowns: leaving one out leaves too few to fit, so none is held out."""
    fitted = fit_rows(exact_prefill_rows(n), PREFILL_FLOOR)
    expected = (0.7, 1.3) if held_out < 5 else (1.0, 1.0)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx(expected, abs=1e-9)


def test_the_range_is_what_fits_did_on_rows_they_did_not_see():
    """One unknown, seconds = c x feature. Five rows measured on the line (feature/seconds = 1), one twice as
    slow (0.5). Fitting all: c = sum(r) / sum(r^2) = 5.5 / 5.25. Leaving the slow row out: c = 1, which
    predicts it twice as fast as measured (ratio 0.5). Leaving a normal row out: c = 4.5 / 4.25, which
    predicts it 18/17 slower (ratio 18/17). The middle 90% of the six held-out ratios: 0.5 to 18/17."""
    rows = [([0.001 * (i + 1)], 0.001 * (i + 1), 1.0, f"s{i}") for i in range(5)] + [([0.002], 0.004, 1.0, "slow")]
    fitted = fit_rows(rows, (0.0,))
    assert fitted.coefficients == pytest.approx((5.5 / 5.25,), rel=1e-9)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((0.5, 18 / 17), rel=1e-9)


def test_the_range_always_holds_the_expected_value():
    # every row measured twice as fast as the floor allows: every held-out ratio is 2, so the range would
    # be 2 to 2; its low end is brought down to the prediction itself
    rows = [([0.001 * (i + 1)], 0.0005 * (i + 1), 1.0, f"s{i}") for i in range(6)]
    fitted = fit_rows(rows, (1.0,))
    assert fitted.coefficients == (1.0,)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((1.0, 2.0), rel=1e-9)


def test_solve_is_exact_on_a_small_system_and_refuses_a_singular_one():
    assert _solve([[2.0, 1.0], [1.0, 3.0]], [5.0, 10.0]) == pytest.approx([1.0, 3.0], rel=1e-12)
    assert _solve([[0.0, 1.0], [1.0, 0.0]], [2.0, 3.0]) == pytest.approx([3.0, 2.0], rel=1e-12), "needs pivoting"
    assert _solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]) is None


def test_nnls_drops_a_coefficient_the_data_would_make_negative():
    # b = 1 x a1 - 1 x a2: with x >= 0 the best is x2 = 0 and x1 the projection on a1
    a = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    b = [1.0, -1.0, 0.0]
    gram = [[sum(r[i] * r[j] for r in a) for j in range(2)] for i in range(2)]
    rhs = [sum(r[i] * y for r, y in zip(a, b)) for i in range(2)]
    assert nnls_normal(gram, rhs) == pytest.approx([0.5, 0.0], abs=1e-12)
    assert nnls_normal(gram, [-1.0, -1.0]) == [0.0, 0.0], "nothing positive helps: all zero"


def test_weighted_quantile_interpolates_between_weighted_midpoints():
    assert weighted_quantile([3.0, 1.0], [1.0, 1.0], 0.25) == 1.0  # at or below the first midpoint
    assert weighted_quantile([1.0, 3.0], [1.0, 1.0], 0.5) == pytest.approx(2.0)
    assert weighted_quantile([1.0, 3.0], [1.0, 3.0], 0.5) == pytest.approx(1.0 + 2.0 * (0.5 - 0.125) / 0.5)
    assert weighted_quantile([1.0, 3.0], [1.0, 1.0], 0.9) == 3.0


def test_a_source_of_twelve_rows_is_held_out_whole_and_one_of_thirteen_row_by_row():
    assert holdout_groups(["a"] * 12) == [list(range(12))]
    assert holdout_groups(["a"] * 13) == [[i] for i in range(13)]
    assert holdout_groups(["a", "b", "a"]) == [[0, 2], [1]]


# ---- engines and calibration -------------------------------------------------------------------------

BANDWIDTHS = (100.0, 400.0, 250.0, 800.0, 120.0, 546.0, 300.0, 200.0)
PEAKS = (3.0, 7.0, 2.0, 30.0, 4.0, 16.0, 11.0, 5.0)
CACHES = (0.0, 5e8, 2e9, 1e8, 3e9, 0.0, 7e8, 1.5e9)


def synthetic(engine, source, n, slow=1.0):
    """n observations on made-up Macs, made by exact constants, `slow` times slower."""
    out = []
    for i in range(n):
        hw = Hardware(BANDWIDTHS[i], PEAKS[i])
        work = Workload((1 + i % 3) * 1e9, (2 + i % 4) * 1e9, moe=i % 2 == 1)
        decode_s = sum(c * f for c, f in zip((1.2, 1.5, 1.0, 0.002, 0.003), decode_features(work, hw, CACHES[i])))
        prefill_s = sum(c * f for c, f in zip((1.5, 0.0001), prefill_features(work, hw)))
        out.append(Observation(engine, source, f"mac{i}", "m", work, hw, CACHES[i], decode_tps=1 / (slow * decode_s),
                               prefill_tps=1 / (slow * prefill_s)))
    return out


def test_an_engine_is_fitted_on_its_own_rows_and_says_which_are_this_projects():
    obs = synthetic("mlx", "bench", 8) + synthetic("llamacpp", "other", 3, slow=3.0) + synthetic("mlx", "measured", 2)
    speed = fit_engine("mlx", obs)
    assert speed.engine == "mlx" and speed.decode.rows == 10 and speed.prefill.rows == 10
    assert speed.sources == ("bench", "measured") and speed.calibrated_turns == 2
    assert speed.decode.coefficients == pytest.approx((1.2, 1.5, 1.0, 0.002, 0.003), rel=1e-6)
    assert speed.prefill.coefficients == pytest.approx((1.5, 0.0001), rel=1e-6)


@pytest.mark.parametrize("kept", ["decode_tps", "prefill_tps"])
def test_an_engine_without_decode_or_prefill_rows_is_one_line(kept):
    obs = [Observation(**{**o.__dict__, ("prefill_tps" if kept == "decode_tps" else "decode_tps"): None})
           for o in synthetic("mlx", "bench", 6)]
    with pytest.raises(UserError, match="mlx"):
        fit_engine("mlx", obs)
    with pytest.raises(UserError, match="llamacpp"):
        fit_engine("llamacpp", synthetic("mlx", "bench", 6))


def test_public_constants_cover_both_engines():
    assert set(public_speeds()) == {"mlx", "llamacpp"}
    assert calibrated_speeds([]) is public_speeds()


def test_own_turns_weigh_together_as_much_as_the_public_rows_however_many_they_are():
    public = load_public()
    mlx_public = sum(1 for o in public if o.engine == "mlx")
    own = synthetic("mlx", "measured", 1, slow=2.0)
    once = calibrated_speeds(own)
    thrice = calibrated_speeds(own * 3)
    assert once["llamacpp"] is public_speeds()["llamacpp"], "an engine with no own turns keeps its public fit"
    assert once["mlx"].calibrated_turns == 1 and thrice["mlx"].calibrated_turns == 3
    assert once["mlx"].decode.coefficients == pytest.approx(thrice["mlx"].decode.coefficients, rel=1e-6)
    equal_weight = fit_engine("mlx", [o for o in public if o.engine == "mlx"]
                              + [Observation(**{**own[0].__dict__, "weight": float(mlx_public)})])
    assert once["mlx"].decode.coefficients == pytest.approx(equal_weight.decode.coefficients, rel=1e-9)
    assert once["mlx"].decode.coefficients != pytest.approx(public_speeds()["mlx"].decode.coefficients, rel=1e-3)


def test_turns_of_one_engine_calibrate_it_and_leave_the_other_public():
    calibrated = calibrated_speeds(synthetic("llamacpp", "measured", 1, slow=2.0))
    assert calibrated["mlx"] is public_speeds()["mlx"]
    assert calibrated["llamacpp"].calibrated_turns == 1
    assert calibrated["llamacpp"].decode.rows == public_speeds()["llamacpp"].decode.rows + 1


def test_a_source_is_held_out_only_where_enough_rows_remain_to_fit():
    """One unknown; source `a` has five rows, `b` one. Leaving `a` out would leave one row for one
    unknown: not held out. Only `b` is, one ratio: too few, so the stated guess."""
    rows = [([0.001 * (i + 1)], 0.001 * (i + 1), 1.0, "a") for i in range(5)] + [([0.002], 0.004, 1.0, "b")]
    fitted = fit_rows(rows, (0.0,))
    assert (fitted.ratio_low, fitted.ratio_high) == (0.7, 1.3)


def test_a_source_too_big_to_leave_out_does_not_stop_the_others_being_held_out():
    """Five unknowns, exact data. Source `big` (two rows) left out would leave five rows: not held out. The
    five single-row sources after it each are, predicted exactly: the range is 1 to 1."""
    rows = [(features, seconds, weight, "big" if i < 2 else f"s{i}")
            for i, (features, seconds, weight, _) in enumerate(decode_rows(synthetic("mlx", "bench", 7)))]
    fitted = fit_rows(rows, DECODE_FLOOR)
    assert fitted.coefficients == pytest.approx((1.2, 1.5, 1.0, 0.002, 0.003), rel=1e-6)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((1.0, 1.0), abs=1e-6)


def test_the_top_of_the_range_is_the_fastest_held_out_row_beyond_the_95th_percentile():
    """One unknown; five rows on the line, one measured twice as fast (feature/seconds = 2). Fitting all:
    c = sum(r) / sum(r^2) = 7 / 9. Leaving the fast row out: c = 1, predicting it 2x too slow (ratio 2).
    Leaving a normal row out: c = 6 / 8, predicting it 0.75 too fast. The 5% point lies inside the five
    0.75s, the 95% point beyond the last midpoint (11/12): 0.75 to 2."""
    rows = [([0.001 * (i + 1)], 0.001 * (i + 1), 1.0, f"s{i}") for i in range(5)] + [([0.002], 0.001, 1.0, "fast")]
    fitted = fit_rows(rows, (0.0,))
    assert fitted.coefficients == pytest.approx((7 / 9,), rel=1e-9)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((0.75, 2.0), rel=1e-9)


def test_solve_pivots_on_the_largest_entry_of_the_column():
    # the last row has a zero where the first does not: taking it as the pivot would call this singular
    assert _solve([[2.0, 0.0], [0.0, 3.0]], [4.0, 9.0]) == pytest.approx([2.0, 3.0], rel=1e-12)


def test_solve_calls_a_system_singular_relative_to_its_largest_entry():
    # a pivot 1e-13 of the largest entry: singular, wherever the large entry sits
    assert _solve([[1e-7, 0.0], [0.0, 1e6]], [1.0, 1.0]) is None
    assert _solve([[1e6, 0.0], [0.0, 1e-7]], [1.0, 1.0]) is None
    # a pivot exactly 1e-12 of the largest entry (1.0) is still solved
    assert _solve([[1e-12, 0.0], [0.0, 1.0]], [1e-12, 1.0]) == pytest.approx([1.0, 1.0], rel=1e-9)


def test_a_held_out_row_predicted_to_take_no_time_is_left_out_of_the_range():
    """One unknown; a row with a zero feature adds nothing to the fit (c = 1 from the five on the line)
    and its held-out prediction is 0 seconds, which has no ratio: the five others give 1 to 1."""
    rows = [([0.001 * (i + 1)], 0.001 * (i + 1), 1.0, f"s{i}") for i in range(5)] + [([0.0], 0.001, 1.0, "zero")]
    fitted = fit_rows(rows, (0.0,))
    assert fitted.coefficients == pytest.approx((1.0,), rel=1e-12)
    assert (fitted.ratio_low, fitted.ratio_high) == pytest.approx((1.0, 1.0), rel=1e-12)
