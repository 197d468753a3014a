"""Which Mac can run which model: memory needed, GPU-usable memory, verdict, roofline decode speed.

Units: memory figures are GiB (2^30 bytes) and called GB, as Apple and macOS count unified memory;
weight file sizes in configs (`weights_gb`, Hugging Face's 10^9-byte GB) are converted. Bandwidth is
Apple's 10^9 bytes a second.

- memory needed = weights + KV cache at the chosen context + RUNTIME_OVERHEAD_GB
  - weights: the real file size when the config knows it, else parameters x bits / 8;
  - KV cache: 2 (keys, values) x kv_layers x kv_heads x head_dim x 2 bytes (fp16) a token; sliding-window
    layers keep at most their window; layers that share keys and values count once;
- GPU-usable memory: Metal's default wired limit (measured where the catalog has it, else about 2/3 of
  memory up to 36 GB and 3/4 above), or the limit raised with `sudo sysctl iogpu.wired_limit_mb`,
  leaving MACOS_RESERVE_GB for macOS;
- verdict: `fits` under the default limit, `fits_raised_limit` only once it is raised, else `no`;
- roofline decode tokens/s = bandwidth / (active parameters x bits / 8): each generated token reads the
  active weights once. Real engines reach REALISTIC_BAND of it.

Measured runs (`sizing_results.py`) replace the estimate and sit beside the roofline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.config import ModelConfig
from orchestrator.sizing.catalog import MacOption

GIB = 2**30
DEFAULT_CONTEXT = 32_768
"""Context sized by default: an agent task of this benchmark (tens of turns of tool output) stays inside
it. Sizing a model's full window (often 256K) is `--context`'s job."""
RUNTIME_OVERHEAD_GB = 2.0
"""Activations during prefill, the prompt cache, the server's Python and Metal runtime. MACS.md calls
it "a few GB" (exo caps wired memory at model size + 4 GB); 2 GB matches the gap between weights and
the peaks the seed article quotes (Gemma 4 31B: ~17 GB of weights, ~20 GB peak)."""
KV_BYTES_PER_VALUE = 2
"""fp16/bf16 KV cache, the default of mlx-lm, vLLM and llama.cpp."""
MACOS_RESERVE_GB = (8.0, 16.0)
"""Memory left to macOS when the wired limit is raised: 1/8 of memory, at least 8 and at most 16 GB."""
REALISTIC_BAND = (0.6, 0.8)
"""Share of the roofline real engines reach (MODELS.md: roughly 60-80%)."""


@dataclass
class Estimate:
    """Memory one model needs at one context, from its config."""

    model: str
    context: int
    bits: float | None
    weights_gb: float | None
    weights_source: str | None
    """`weights_gb` (the real file size) or `parameters x bits`."""
    kv_gb: float | None
    """None when the config lacks the attention geometry: sizing cannot tell."""
    overhead_gb: float = RUNTIME_OVERHEAD_GB
    active_b: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def needed_gb(self) -> float | None:
        if self.weights_gb is None:
            return None
        return self.weights_gb + (self.kv_gb or 0.0) + self.overhead_gb


def kv_bytes(config: ModelConfig, context: int) -> int | None:
    """KV cache bytes at `context` tokens; None when the geometry is unknown."""
    a = config.architecture
    if None in (a.kv_layers, a.kv_heads, a.head_dim):
        return None
    tensors = 1 if a.kv_shared else 2
    total = tensors * a.kv_layers * a.kv_heads * a.head_dim * KV_BYTES_PER_VALUE * context
    if a.sliding_layers:
        if a.sliding_window is None:
            return None
        heads = a.sliding_kv_heads or a.kv_heads
        dim = a.sliding_head_dim or a.head_dim
        total += 2 * a.sliding_layers * heads * dim * KV_BYTES_PER_VALUE * min(context, a.sliding_window)
    return total


def sized_backend(config: ModelConfig) -> str:
    """The section sized for a Mac: mlx where the config has one, else the config's own backend."""
    return "mlx" if config.mlx is not None else config.backend


def estimate(config: ModelConfig, context: int | None = None, backend: str | None = None) -> Estimate:
    """Memory `config` needs served by `backend` (default: `sized_backend`) at `context` tokens."""
    section = config.section(backend or sized_backend(config))
    notes = []
    wanted = context or DEFAULT_CONTEXT
    ctx = min(wanted, config.context_length)
    if ctx < wanted:
        notes.append(f"context capped at the model's {config.context_length} tokens")
    total_b = config.parameters.total_b if config.parameters else None
    bits = section.bits
    if bits is None and section.weights_gb and total_b:
        bits = section.weights_gb * 8 / total_b  # what the real files imply
    if section.weights_gb:
        weights_gb, source = section.weights_gb * 1e9 / GIB, "weights_gb"
    elif total_b and bits:
        weights_gb, source = total_b * 1e9 * bits / 8 / GIB, "parameters x bits"
    else:
        weights_gb, source = None, None
        notes.append("weights unknown: the config needs parameters and bits (or weights_gb)")
    kv = kv_bytes(config, ctx)
    if kv is None:
        notes.append("KV cache unknown: architecture lacks kv_layers/kv_heads/head_dim; not counted")
    if config.architecture.unverified:
        notes.append("architecture figures unverified")
    return Estimate(model=config.name, context=ctx, bits=bits, weights_gb=weights_gb, weights_source=source,
                    kv_gb=None if kv is None else kv / GIB, active_b=config.active_b, notes=notes)


def default_wired_limit_gb(memory_gb: float) -> float:
    """Metal's default GPU working-set limit by rule of thumb: ~2/3 up to 36 GB, 3/4 above."""
    return memory_gb * (2 / 3 if memory_gb <= 36 else 3 / 4)


def raised_wired_limit_gb(memory_gb: float) -> float:
    """What `iogpu.wired_limit_mb` can sensibly give: memory less 8-16 GB for macOS (never below default)."""
    low, high = MACOS_RESERVE_GB
    reserve = min(max(memory_gb / 8, low), high)
    return max(memory_gb - reserve, default_wired_limit_gb(memory_gb))


def usable_gb(option: MacOption) -> float:
    return option.measured_wired_limit_gb or default_wired_limit_gb(option.memory_gb)


def verdict(needed_gb: float | None, default_gb: float, raised_gb: float) -> str:
    if needed_gb is None:
        return "unknown"
    if needed_gb <= default_gb:
        return "fits"
    return "fits_raised_limit" if needed_gb <= max(raised_gb, default_gb) else "no"


def roofline_decode_tps(bandwidth_gbs: float | None, active_b: float | None, bits: float | None) -> float | None:
    """Upper bound on decode tokens/s: every token reads the active weights once."""
    if not (bandwidth_gbs and active_b and bits):
        return None
    return bandwidth_gbs * 1e9 / (active_b * 1e9 * bits / 8)


def row(est: Estimate, option: MacOption, raised_limit: bool = False, needed_gb: float | None = None) -> dict:
    """One model on one Mac configuration. `needed_gb` overrides the estimate (a measured peak)."""
    needed = est.needed_gb if needed_gb is None else needed_gb
    default = usable_gb(option)
    raised = raised_wired_limit_gb(option.memory_gb)
    roof = roofline_decode_tps(option.entry.bandwidth_gbs, est.active_b, est.bits)
    return {
        "model": est.model,
        "mac": option.label,
        "mac_id": option.entry.id,
        "memory_gb": option.memory_gb,
        "needed_gb": _r(needed),
        "estimated_gb": _r(est.needed_gb),
        "usable_gb": _r(max(raised, default) if raised_limit else default),
        "usable_default_gb": _r(default),
        "usable_raised_gb": _r(max(raised, default)),
        "verdict": verdict(needed, default, raised),
        "bandwidth_gbs": option.entry.bandwidth_gbs,
        "roofline_decode_tps": _r(roof, 1),
        "realistic_decode_tps": [_r(roof * REALISTIC_BAND[0], 1), _r(roof * REALISTIC_BAND[1], 1)] if roof else None,
        "price_usd": option.price_usd,
        "uncertain": sorted(option.entry.uncertain),
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


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _measured_needed(est: Estimate, measured, backend: str) -> tuple[float | None, str]:
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


def size_report(configs: list[ModelConfig], mac_options: list[MacOption], context: int | None = None,
                raised_limit: bool = False, measured: dict | None = None) -> dict:
    """Every model on every Mac option, plus one summary a model (cheapest fit, score, speed)."""
    measured = measured or {}
    rows, models = [], []
    for config in configs:
        backend = sized_backend(config)
        est = estimate(config, context, backend)
        m = measured.get(config.name)
        needed, source = _measured_needed(est, m, backend)
        model_rows = []
        for option in mac_options:
            r = row(est, option, raised_limit, needed)
            roof = r["roofline_decode_tps"]
            mine = m is not None and m.ran_on(option)
            r.update({
                "needed_source": source,
                "measured_decode_tps": _r(m.decode_tps, 1) if m else None,
                "measured_ratio": _r(m.decode_tps / roof, 2) if mine and m.decode_tps and roof else None,
                "measured_here": mine,
                "score": m.score if m else None,
            })
            model_rows.append(r)
        fitting = [r for r in model_rows if r["verdict"] == "fits"]
        smallest = min(fitting, key=lambda r: (r["memory_gb"], r["price_usd"] is None, r["price_usd"] or 0),
                       default=None)
        fit = cheapest_fit(model_rows, allow_raised=False)
        fit_raised = cheapest_fit(model_rows, allow_raised=True)
        models.append({
            "model": config.name, "backend": backend, "context": est.context, "bits": _r(est.bits),
            "weights_gb": _r(est.weights_gb), "weights_source": est.weights_source, "kv_gb": _r(est.kv_gb),
            "overhead_gb": est.overhead_gb, "estimated_gb": _r(est.needed_gb), "needed_gb": _r(needed or est.needed_gb),
            "needed_source": source,
            "cheapest_fit": fit and {"mac": fit["mac"], "price_usd": fit["price_usd"]},
            "smallest_fit": smallest and {"mac": smallest["mac"], "memory_gb": smallest["memory_gb"]},
            "cheapest_fit_raised_limit": fit_raised and {"mac": fit_raised["mac"], "price_usd": fit_raised["price_usd"]},
            "measured_decode_tps": _r(m.decode_tps, 1) if m else None,
            "measured_on": (m.machine.get("chip") or m.machine.get("os")) if m and m.machine else None,
            "score": m.score if m else None, "passes": m.passes if m else None, "total": m.total if m else None,
            "notes": est.notes,
        })
        rows += model_rows
    return {"rows": rows, "models": models}
