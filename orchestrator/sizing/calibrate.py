"""This project's own measured turns as observations for the speed model (`size --results`).

A turn counts when it ran warm and alone on its server on a Mac the catalog knows (chip and memory
size from meta.json), with an engine the speed model has constants for. Its decode speed is taken at
the context it reached (prompt + half of what it generated); its prefill speed only when at least
MIN_PREFILL_TOKENS of the prompt were not cached (shorter ones are dominated by fixed costs and clock
noise).
"""

from __future__ import annotations

from orchestrator.config import ModelConfig
from orchestrator.sizing.catalog import MacEntry, find_bin
from orchestrator.sizing.fit import ENGINES, Observation, calibrated_speeds
from orchestrator.sizing.measured import Measured
from orchestrator.sizing.model import estimate, kv_bytes, sized_backend, workload
from orchestrator.sizing.speed import EngineSpeed, Hardware

MIN_PREFILL_TOKENS = 256


def observations(measured: dict[str, Measured], configs: list[ModelConfig],
                 entries: list[MacEntry]) -> tuple[list[Observation], list[str]]:
    """Observations from every measured model that ran on a known Mac; and why others did not count."""
    by_name = {c.name: c for c in configs}
    out, notes = [], []
    for name, m in measured.items():
        config = by_name.get(name)
        engine = m.backend or (sized_backend(config) if config else None)
        if config is None or engine not in ENGINES or not m.turns:
            continue
        entry = find_bin(entries, m.chip, memory_gb=m.memory_gb) if m.chip else None
        if entry is None or not entry.bandwidth_gbs:
            notes.append(f"{name}: measured on '{m.chip or m.machine.get('os') or 'an unknown machine'}', "
                         "not a Mac in the catalog: its speeds do not calibrate the Mac model")
            continue
        est = estimate(config, backend=engine)
        work = workload(config, est)
        if work is None:
            continue
        hardware = Hardware(entry.bandwidth_gbs, entry.gpu_tflops)
        for turn in m.turns:
            if not turn.single_stream:
                continue
            if turn.decode_tps:
                context = turn.prompt_tokens + turn.completion_tokens // 2
                out.append(Observation(engine=engine, source="measured", mac=entry.id, model=name, work=work,
                                       hardware=hardware, kv_read_bytes=kv_bytes(config, context) or 0,
                                       decode_tps=turn.decode_tps))
            if turn.prefill_tps and turn.uncached_tokens >= MIN_PREFILL_TOKENS:
                out.append(Observation(engine=engine, source="measured", mac=entry.id, model=name, work=work,
                                       hardware=hardware, prefill_tps=turn.prefill_tps))
    return out, notes


def speeds_for(measured: dict[str, Measured], configs: list[ModelConfig],
               entries: list[MacEntry]) -> tuple[dict[str, EngineSpeed], list[str]]:
    """Each engine's constants: public ones, refitted with the measured turns where there are some."""
    found, notes = observations(measured, configs, entries)
    return calibrated_speeds(found), notes
