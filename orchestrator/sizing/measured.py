"""What measured runs say for sizing: peak memory, decode speed, score, the machine they ran on, and
the tokens every turn used (for the benchmark-time estimate and for calibrating the speed model).

Reads results folders through the one results loader (orchestrator/results/loader.py), so a crashed
or partial run counts for what it recorded and a retried run counts once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.results.loader import is_infra_error, load_results, run_key
from orchestrator.sizing.catalog import GIB, MacOption

BENCHMARK_RUNS = 30
"""The full benchmark: 10 tasks x 3 runs."""


@dataclass(frozen=True)
class TurnTokens:
    """One measured turn: the tokens it used and the speeds measured, for sizing."""

    prompt_tokens: int
    uncached_tokens: int
    completion_tokens: int
    decode_tps: float | None
    prefill_tps: float | None
    single_stream: bool
    """Warm and alone on its server: only such turns speak for one user's speed."""


@dataclass
class Measured:
    """One model's figures over every results folder given."""

    model: str
    backend: str | None = None
    config: dict[str, Any] | None = None
    """The config as served (meta.json), so a model absent from model_configs/ can still be sized."""
    peak_memory_bytes: int | None = None
    """Highest of the server tree's peak RSS over turns and its memory right after load."""
    decode_tps: float | None = None
    """Median decode tokens/s over warm, single-stream turns."""
    decode_turns: int = 0
    passes: int = 0
    total: int = 0
    """Scored runs: infrastructure failures are never scored against the model."""
    machine: dict[str, Any] = field(default_factory=dict)
    """meta.json's `machine` (machine.machine_info() where it ran)."""
    turns: list[TurnTokens] = field(default_factory=list)
    runs_with_turns: int = 0
    """Distinct task runs the turns belong to: the benchmark estimate scales them to BENCHMARK_RUNS."""

    @property
    def peak_memory_gb(self) -> float | None:
        return None if self.peak_memory_bytes is None else self.peak_memory_bytes / GIB

    @property
    def score(self) -> str | None:
        return f"{self.passes}/{self.total}" if self.total else None

    @property
    def chip(self) -> str:
        return str(self.machine.get("chip") or "").removeprefix("Apple ").strip()

    @property
    def memory_gb(self) -> float | None:
        total = self.machine.get("memory_total_bytes")
        return float(round(total / GIB)) if total else None

    def ran_on(self, option: MacOption) -> bool:
        """Whether the runs were measured on a Mac like `option`: same chip, same memory size."""
        if not self.chip or not self.memory_gb:
            return False
        return self.chip.lower() == option.entry.chip.lower() and self.memory_gb == option.memory_gb


def _max(values) -> int | None:
    present = [v for v in values if isinstance(v, (int, float))]
    return int(max(present)) if present else None


def _turn(turn: dict[str, Any]) -> TurnTokens | None:
    prompt = turn.get("prompt_tokens")
    completion = turn.get("completion_tokens")
    if prompt is None or completion is None:
        return None
    cached = turn.get("cached_tokens") or 0
    return TurnTokens(
        prompt_tokens=int(prompt), uncached_tokens=max(int(prompt) - int(cached), 0),
        completion_tokens=int(completion), decode_tps=turn.get("decode_tps"),
        prefill_tps=turn.get("prefill_tps"),
        single_stream=bool(turn.get("warm", True)) and turn.get("concurrency", 1) == 1)


def read_results(dirs: list[str | Path]) -> dict[str, Measured]:
    """Per model label, what the results folders measured."""
    results = load_results(dirs)
    found: dict[str, Measured] = {}
    for meta in results.metas:
        label = meta.get("model")
        m = found.setdefault(label, Measured(label))
        m.backend = meta.get("backend") or m.backend
        m.config = meta.get("config") or m.config
        m.machine = meta.get("machine") or m.machine
        m.peak_memory_bytes = _max([m.peak_memory_bytes, meta.get("memory_after_load_bytes")])
    for run in results.runs:
        m = found.setdefault(run["model"], Measured(run["model"]))
        m.backend = m.backend or run.get("backend")
        if is_infra_error(run):
            continue
        m.total += 1
        m.passes += bool(run.get("passed"))
    decode: dict[str, list[float]] = {}
    runs: dict[str, set] = {}
    for turn in results.turns:
        m = found.setdefault(turn["model"], Measured(turn["model"]))
        m.peak_memory_bytes = _max([m.peak_memory_bytes, turn.get("server_peak_rss_bytes")])
        tokens = _turn(turn)
        if tokens is not None:
            m.turns.append(tokens)
            runs.setdefault(m.model, set()).add(run_key(turn))
        tps = turn.get("decode_tps")
        if tps and turn.get("warm", True) and turn.get("concurrency", 1) == 1:
            decode.setdefault(m.model, []).append(float(tps))
    for model, values in decode.items():
        found[model].decode_tps = statistics.median(values)
        found[model].decode_turns = len(values)
    for model, keys in runs.items():
        found[model].runs_with_turns = len(keys)
    return found
