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
  active weights once, an upper bound; speed.py predicts what an engine really does;
- largest context: the most tokens whose KV cache still fits beside the weights and the overhead.

rows.py puts these together per model and Mac; measured runs (measured.py) replace the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.config import ModelConfig
from orchestrator.sizing.catalog import MacOption
from orchestrator.sizing.speed import Workload
from orchestrator.units import GIB

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


def max_context(config: ModelConfig, est: Estimate, usable: float) -> int | None:
    """The most tokens of context whose KV cache fits in `usable` GB beside weights and overhead.

    None when the KV geometry or the weights are unknown; 0 when the weights alone do not fit.
    """
    if est.weights_gb is None or kv_bytes(config, 1) is None:
        return None
    budget = (usable - est.weights_gb - est.overhead_gb) * GIB
    if budget < 0:
        return 0
    low, high = 0, config.context_length
    if kv_bytes(config, high) <= budget:
        return high
    while low < high:  # kv_bytes grows with the context: the last n that fits
        mid = (low + high + 1) // 2
        if kv_bytes(config, mid) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def workload(config: ModelConfig, est: Estimate) -> Workload | None:
    """What one decoded token reads and computes, for the speed model; None when the size is unknown."""
    active = config.active_b
    total = config.parameters.total_b if config.parameters else None
    if not active or est.weights_gb is None:
        return None
    share = active / total if total else 1.0
    return Workload(active_weight_bytes=est.weights_gb * GIB * share, active_params=active * 1e9,
                    moe=share < 0.9)
