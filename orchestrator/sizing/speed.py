"""How fast one model runs on one Mac: decode tokens/s at a context, prefill tokens/s, time to first token.

Decode reads every active weight once a token, plus the whole KV cache at the current context, so

    seconds a token = a x weight_bytes / bandwidth + k x kv_bytes(context) / bandwidth
                      + b x 2 x active_params / fp16_peak + c + d x moe

`a` is 1 / the share of peak bandwidth the engine reaches on weights, `k` the same for the KV cache
(attention kernels stream it less efficiently than matmuls stream weights, and it is what makes
long contexts slow), `b` the compute it cannot hide behind
memory (dequantisation, attention, small kernels: what makes slow-GPU bins slower at equal
bandwidth), `c` a fixed cost a token (kernel launches, sampling, Python), `d` what routing experts
adds (why ~3B-active MoE models reach only about a third of their roofline). Prefill is compute-bound:

    seconds a prompt token = e x 2 x active_params / fp16_peak + g

(a separate MoE prefill term was tried and dropped: on rows it was not fitted on it did worse.)

The constants are fitted per engine on public measurements (fit.py, measurements.yaml) and carry a
range: the spread of the fit's own leave-one-out errors, so a stated range means what was seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DECODE_TERMS = ("weights_over_bandwidth_s", "kv_over_bandwidth_s", "flops_over_peak_s", "fixed_s", "moe_fixed_s")
PREFILL_TERMS = ("flops_over_peak_s", "fixed_s")


@dataclass(frozen=True)
class Workload:
    """What one token of one model costs, whatever the Mac."""

    active_weight_bytes: float
    """Weight bytes read to decode one token (the active experts' share for MoE)."""
    active_params: float
    """Parameters a token passes through; 2 FLOPs each."""
    moe: bool = False


@dataclass(frozen=True)
class Hardware:
    bandwidth_gbs: float
    fp16_tflops: float | None = None
    """None when the chip is unknown: the compute terms then count as zero (said in the notes)."""


@dataclass(frozen=True)
class Fitted:
    """One fitted equation: coefficients over its terms and the range of measured / predicted."""

    coefficients: tuple[float, ...]
    ratio_low: float
    ratio_high: float
    rows: int
    """Measurements the fit used."""

    def seconds(self, features: list[float]) -> float:
        return sum(c * f for c, f in zip(self.coefficients, features))


@dataclass(frozen=True)
class EngineSpeed:
    """An engine's fitted decode and prefill equations."""

    engine: str
    decode: Fitted
    prefill: Fitted
    sources: tuple[str, ...] = ()
    calibrated_turns: int = 0
    notes: tuple[str, ...] = field(default=())


def decode_features(work: Workload, hw: Hardware, kv_read_bytes: float) -> list[float]:
    bandwidth = hw.bandwidth_gbs * 1e9
    flops = 2 * work.active_params / (hw.fp16_tflops * 1e12) if hw.fp16_tflops else 0.0
    return [work.active_weight_bytes / bandwidth, max(kv_read_bytes, 0.0) / bandwidth, flops, 1.0,
            1.0 if work.moe else 0.0]


def prefill_features(work: Workload, hw: Hardware) -> list[float]:
    flops = 2 * work.active_params / (hw.fp16_tflops * 1e12) if hw.fp16_tflops else 0.0
    return [flops, 1.0]


@dataclass(frozen=True)
class Prediction:
    expected: float
    low: float
    high: float


def _predict(fitted: Fitted, features: list[float]) -> Prediction | None:
    seconds = fitted.seconds(features)
    if seconds <= 0:
        return None
    tps = 1 / seconds
    return Prediction(tps, tps * fitted.ratio_low, tps * fitted.ratio_high)


def decode_tps(speed: EngineSpeed, work: Workload, hw: Hardware, kv_read_bytes: float) -> Prediction | None:
    """Decode tokens/s with `kv_read_bytes` of KV cache in memory (the context reached).

    The range never reaches past the bandwidth bound: no engine reads faster than the memory's peak.
    """
    p = _predict(speed.decode, decode_features(work, hw, kv_read_bytes))
    if p is None:
        return None
    bound = hw.bandwidth_gbs * 1e9 / (work.active_weight_bytes + max(kv_read_bytes, 0.0))
    return Prediction(p.expected, p.low, max(min(p.high, bound), p.expected))


def prefill_tps(speed: EngineSpeed, work: Workload, hw: Hardware) -> Prediction | None:
    if not hw.fp16_tflops:
        return None
    return _predict(speed.prefill, prefill_features(work, hw))


def ttft_s(prompt_tokens: int, prefill: Prediction | None) -> float | None:
    """Seconds to the first token of a `prompt_tokens` prompt none of which is cached.

    Attention's own cost grows with the prompt, so very long prompts come out somewhat optimistic.
    """
    if prefill is None or prefill.expected <= 0:
        return None
    return prompt_tokens / prefill.expected
