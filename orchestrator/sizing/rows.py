"""One row per model and Mac configuration, and the answers per model: which Macs fit, how fast, how
long the full benchmark would take, the cheapest current Mac that fits and the cheapest at a speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config import ModelConfig
from orchestrator.sizing.catalog import MacOption
from orchestrator.sizing.measured import BENCHMARK_RUNS, Measured
from orchestrator.sizing.model import (
    Estimate, estimate, kv_bytes, max_context, raised_wired_limit_gb, roofline_decode_tps, sized_backend,
    usable_gb, verdict, workload,
)
from orchestrator.sizing.speed import (
    EngineSpeed, Hardware, Workload, decode_features, decode_tps, prefill_features, prefill_tps, ttft_s,
)

PUBLIC_DATA = "orchestrator/sizing/measurements.yaml"


@dataclass(frozen=True)
class TokenProfile:
    """What the measured runs of one model spent, summed so any Mac's time is one dot product."""

    completion_tokens: int
    uncached_prompt_tokens: int
    kv_bytes_weighted: float
    """Σ completion tokens x KV bytes at their turn's context: decode time is linear in it."""
    runs: int


def token_profile(config: ModelConfig, m: Measured | None) -> TokenProfile | None:
    if m is None or not m.turns or not m.runs_with_turns:
        return None
    completion = sum(t.completion_tokens for t in m.turns)
    kv = sum(t.completion_tokens * (kv_bytes(config, t.prompt_tokens + t.completion_tokens // 2) or 0)
             for t in m.turns)
    return TokenProfile(completion, sum(t.uncached_tokens for t in m.turns), kv, m.runs_with_turns)


def benchmark_hours(profile: TokenProfile | None, speed: EngineSpeed | None, work: Workload | None,
                    hw: Hardware) -> float | None:
    """Hours the full benchmark (BENCHMARK_RUNS task runs) would take on `hw`, from the measured tokens.

    Decode seconds are linear in the features, so the sum over turns is the features of the sums.
    Time outside the model (tools, tests, the harness) is not counted.
    """
    if profile is None or speed is None or work is None or not hw.fp16_tflops or not profile.completion_tokens:
        return None
    mean_kv = profile.kv_bytes_weighted / profile.completion_tokens
    decode_s = profile.completion_tokens * speed.decode.seconds(decode_features(work, hw, mean_kv))
    prefill_s = profile.uncached_prompt_tokens * speed.prefill.seconds(prefill_features(work, hw))
    return (decode_s + prefill_s) * BENCHMARK_RUNS / profile.runs / 3600


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def mac_row(config: ModelConfig, est: Estimate, option: MacOption, speed: EngineSpeed | None,
            raised_limit: bool = False, needed_gb: float | None = None,
            profile: TokenProfile | None = None) -> dict:
    """One model on one Mac configuration. `needed_gb` overrides the estimate (a measured peak)."""
    entry = option.entry
    needed = est.needed_gb if needed_gb is None else needed_gb
    default = usable_gb(option)
    raised = max(raised_wired_limit_gb(option.memory_gb), default)
    usable = raised if raised_limit else default
    work = workload(config, est)
    hw = Hardware(entry.bandwidth_gbs, entry.gpu_tflops) if entry.bandwidth_gbs else None
    decode = prefill = None
    if speed and work and hw:
        decode = decode_tps(speed, work, hw, kv_bytes(config, est.context) or 0)
        prefill = prefill_tps(speed, work, hw)
    sources = [f"mac: {entry.source}"] if entry.source else []
    if speed:
        sources.append(f"speed: {speed.engine} constants fitted on {speed.decode.rows} decode and "
                       f"{speed.prefill.rows} prefill measurements ({PUBLIC_DATA})"
                       + (f", {speed.calibrated_turns} of them this project's turns" if speed.calibrated_turns else ""))
    return {
        "model": est.model,
        "mac": option.label,
        "short": option.short_label,
        "mac_id": entry.id,
        "chip": entry.chip,
        "gpu_cores": entry.gpu_cores,
        "memory_gb": option.memory_gb,
        "status": entry.status,
        "price_usd": option.price_usd,
        "bandwidth_gbs": entry.bandwidth_gbs,
        "fp16_tflops": _r(entry.gpu_tflops, 1),
        "needed_gb": _r(needed),
        "estimated_gb": _r(est.needed_gb),
        "usable_gb": _r(usable),
        "usable_default_gb": _r(default),
        "usable_raised_gb": _r(raised),
        "verdict": verdict(needed, default, raised),
        "max_context": max_context(config, est, usable),
        "engine": speed.engine if speed else None,
        "context": est.context,
        "roofline_decode_tps": _r(roofline_decode_tps(entry.bandwidth_gbs, est.active_b, est.bits), 1),
        "decode_tps": _r(decode.expected, 1) if decode else None,
        "decode_tps_low": _r(decode.low, 1) if decode else None,
        "decode_tps_high": _r(decode.high, 1) if decode else None,
        "prefill_tps": _r(prefill.expected, 0) if prefill else None,
        "prefill_tps_low": _r(prefill.low, 0) if prefill else None,
        "prefill_tps_high": _r(prefill.high, 0) if prefill else None,
        "ttft_s": _r(ttft_s(est.context, prefill), 1),
        "benchmark_h": _r(benchmark_hours(profile, speed, work, hw), 3) if hw else None,
        "sources": sources,
        "uncertain": sorted(entry.uncertain),
    }


def cheapest_fit(rows: list[dict], allow_raised: bool) -> dict | None:
    """The cheapest priced Mac option that fits; without a priced one, the smallest memory that fits."""
    ok = {"fits", "fits_raised_limit"} if allow_raised else {"fits"}
    fitting = [r for r in rows if r["verdict"] in ok]
    if not fitting:
        return None
    priced = [r for r in fitting if r["price_usd"] is not None]
    if priced:
        return min(priced, key=lambda r: (r["price_usd"], r["memory_gb"]))
    return min(fitting, key=lambda r: r["memory_gb"])


def cheapest_at_speed(rows: list[dict], min_decode_tps: float, allow_raised: bool = False) -> dict | None:
    """The cheapest current Mac (known launch price) that fits and is predicted to decode this fast."""
    ok = {"fits", "fits_raised_limit"} if allow_raised else {"fits"}
    good = [r for r in rows if r["verdict"] in ok and r["status"] == "current" and r["price_usd"] is not None
            and r["decode_tps"] is not None and r["decode_tps"] >= min_decode_tps]
    return min(good, key=lambda r: (r["price_usd"], -r["decode_tps"]), default=None)


def _measured_needed(est: Estimate, measured: Measured | None, backend: str) -> tuple[float | None, str]:
    """The measured peak where it stands for this Mac path, else None; and why."""
    if measured is None or measured.peak_memory_gb is None:
        return None, "estimate"
    if measured.backend and measured.backend != backend:
        est.notes.append(f"measured with {measured.backend}, not {backend}: estimate kept")
        return None, "estimate"
    if est.weights_gb is not None and measured.peak_memory_gb < est.weights_gb:
        # mlx-lm issue #1807: an MLX server's RSS can miss its Metal buffers.
        est.notes.append(f"measured peak {measured.peak_memory_gb:.1f} GB is below the weights: "
                         "the process RSS missed GPU buffers, estimate kept")
        return None, "estimate"
    return measured.peak_memory_gb, "measured"


def _pick(r: dict | None, *keys: str) -> dict | None:
    return r and {k: r[k] for k in keys}


def size_report(configs: list[ModelConfig], mac_options: list[MacOption], speeds: dict[str, EngineSpeed],
                context: int | None = None, raised_limit: bool = False, measured: dict | None = None,
                min_decode_tps: float | None = None) -> dict:
    """Every model on every Mac option, plus one summary a model."""
    measured = measured or {}
    rows, models = [], []
    for config in configs:
        backend = sized_backend(config)
        est = estimate(config, context, backend)
        m = measured.get(config.name)
        speed = speeds.get(backend)
        if speed is None:
            est.notes.append(f"no speed model for backend '{backend}' on a Mac (only {', '.join(speeds)})")
        needed, source = _measured_needed(est, m, backend)
        profile = token_profile(config, m)
        model_rows = []
        for option in mac_options:
            r = mac_row(config, est, option, speed, raised_limit, needed, profile)
            mine = m is not None and m.ran_on(option)
            r.update({
                "needed_source": source,
                "measured_decode_tps": _r(m.decode_tps, 1) if m else None,
                "measured_here": mine,
                "measured_ratio": _r(m.decode_tps / r["decode_tps"], 2) if mine and m.decode_tps and r["decode_tps"] else None,
                "score": m.score if m else None,
            })
            model_rows.append(r)
        smallest = min((r for r in model_rows if r["verdict"] == "fits"),
                       key=lambda r: (r["memory_gb"], r["price_usd"] is None, r["price_usd"] or 0), default=None)
        current = [r for r in model_rows if r["status"] == "current"]
        models.append({
            "model": config.name, "backend": backend, "engine": speed.engine if speed else None,
            "context": est.context, "bits": _r(est.bits), "weights_gb": _r(est.weights_gb),
            "weights_source": est.weights_source, "kv_gb": _r(est.kv_gb), "overhead_gb": est.overhead_gb,
            "estimated_gb": _r(est.needed_gb), "needed_gb": _r(needed or est.needed_gb), "needed_source": source,
            "cheapest_fit": _pick(cheapest_fit(model_rows, False), "mac", "short", "price_usd", "decode_tps"),
            "cheapest_current_fit": _pick(cheapest_fit(current, raised_limit), "mac", "short", "price_usd", "decode_tps",
                                          "benchmark_h"),
            "smallest_fit": _pick(smallest, "mac", "memory_gb"),
            "cheapest_fit_raised_limit": _pick(cheapest_fit(model_rows, True), "mac", "price_usd"),
            "min_decode_tps": min_decode_tps,
            "cheapest_at_speed": _pick(cheapest_at_speed(model_rows, min_decode_tps, raised_limit),
                                       "mac", "short", "price_usd", "decode_tps") if min_decode_tps else None,
            "benchmark_runs_measured": profile.runs if profile else None,
            "measured_decode_tps": _r(m.decode_tps, 1) if m else None,
            "measured_on": (m.machine.get("chip") or m.machine.get("os")) if m and m.machine else None,
            "score": m.score if m else None, "passes": m.passes if m else None, "total": m.total if m else None,
            "notes": est.notes,
        })
        rows += model_rows
    return {"rows": rows, "models": models}
