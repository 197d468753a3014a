"""GPU compute of Apple Silicon chips: the FP16 matmul peak that prefill (compute-bound) runs against.

Apple GPU cores have 128 FP32 ALUs and run FP16 at the FP32 rate (philipturner/metal-benchmarks), so
peak = cores x 128 x 2 FLOPs (one FMA) x clock. Clocks are the GPUs' top clocks as public teardowns
and benchmarks report them; M3-M5 ones are approximate. M5 GPUs add a neural accelerator to every
core: Apple quotes "over 4x the peak GPU compute for AI" of the M4 (newsroom, October 2025), taken
here as 4x the M4 figure of the same tier. Errors in these peaks are absorbed by the fitted prefill
efficiency as long as they are consistent across generations; a catalog entry may override with
`fp16_tflops`.
"""

from __future__ import annotations

import re

FLOPS_PER_CORE_CYCLE = 128 * 2
GPU_CLOCK_GHZ = {
    # (generation, tier) -> GHz; tier "" = base chip
    ("M1", ""): 1.278, ("M1", "Pro"): 1.296, ("M1", "Max"): 1.296, ("M1", "Ultra"): 1.296,
    ("M2", ""): 1.398, ("M2", "Pro"): 1.398, ("M2", "Max"): 1.398, ("M2", "Ultra"): 1.398,
    ("M3", ""): 1.38, ("M3", "Pro"): 1.38, ("M3", "Max"): 1.38, ("M3", "Ultra"): 1.38,
    ("M4", ""): 1.47, ("M4", "Pro"): 1.578, ("M4", "Max"): 1.578, ("M4", "Ultra"): 1.578,
}
NEURAL_ACCELERATOR_SPEEDUP = {"M5": 4.0}
"""Matmul peak over the previous generation's same-tier GPU, per core (Apple's M5 claim)."""


def split_chip(chip: str) -> tuple[str, str]:
    """'M4 Max' -> ('M4', 'Max'); 'Apple M3' -> ('M3', ''); anything else -> ('', '')."""
    match = re.fullmatch(r"(?:apple\s+)?(m\d+)(?:\s+(pro|max|ultra))?", chip.strip().lower())
    if not match:
        return "", ""
    return match[1].upper(), (match[2] or "").capitalize()


def fp16_tflops(chip: str, gpu_cores: int | None) -> float | None:
    """Peak FP16 matmul TFLOPS of `chip` with `gpu_cores`; None for a chip this table does not know."""
    if not gpu_cores:
        return None
    generation, tier = split_chip(chip)
    clock = GPU_CLOCK_GHZ.get((generation, tier))
    speedup = 1.0
    if clock is None and generation in NEURAL_ACCELERATOR_SPEEDUP:
        previous = f"M{int(generation[1:]) - 1}"
        clock = GPU_CLOCK_GHZ.get((previous, tier))
        speedup = NEURAL_ACCELERATOR_SPEEDUP[generation]
    if clock is None:
        return None
    return gpu_cores * FLOPS_PER_CORE_CYCLE * clock * speedup / 1000


def has_neural_accelerators(chip: str) -> bool:
    return split_chip(chip)[0] in NEURAL_ACCELERATOR_SPEEDUP
