"""What measured runs say for sizing: peak memory, decode speed, score, and the machine they ran on.

Reads results folders in the layout of records.py (runs.jsonl, turns.jsonl, models/<model>/meta.json)
and nothing else, so a crashed or partial run still counts for what it recorded.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.sizing.catalog import GIB, MacOption
from orchestrator.results.records import read_jsonl


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

    @property
    def peak_memory_gb(self) -> float | None:
        return None if self.peak_memory_bytes is None else self.peak_memory_bytes / GIB

    @property
    def score(self) -> str | None:
        return f"{self.passes}/{self.total}" if self.total else None

    def ran_on(self, option: MacOption) -> bool:
        """Whether the runs were measured on a Mac like `option`: same chip, same memory size."""
        chip = str(self.machine.get("chip") or "").removeprefix("Apple ").strip().lower()
        total = self.machine.get("memory_total_bytes")
        if not chip or not total:
            return False
        return chip == option.entry.chip.lower() and round(total / GIB) == option.memory_gb


def _is_infra_error(run: dict[str, Any]) -> bool:
    return run.get("reason") == "infra_error" or run.get("ended") == "infra_error"


def _max(values) -> int | None:
    present = [v for v in values if isinstance(v, (int, float))]
    return int(max(present)) if present else None


def read_results(dirs: list[str | Path]) -> dict[str, Measured]:
    """Per model label, what the results folders measured."""
    found: dict[str, Measured] = {}
    decode: dict[str, list[float]] = {}
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            raise UserError(f"--results {d}: no such folder (give a results folder with runs.jsonl)")
        if not (root / "runs.jsonl").exists() and not (root / "turns.jsonl").exists():
            raise UserError(f"--results {d}: no runs.jsonl or turns.jsonl here; is it a results folder?")
        for meta_path in sorted(root.glob("models/*/meta.json")):
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # a torn meta.json costs that model its config, not the whole report
            label = meta.get("model") or meta_path.parent.name
            m = found.setdefault(label, Measured(label))
            m.backend = meta.get("backend") or m.backend
            m.config = meta.get("config") or m.config
            m.machine = meta.get("machine") or m.machine
            m.peak_memory_bytes = _max([m.peak_memory_bytes, meta.get("memory_after_load_bytes")])
        for run in read_jsonl(root / "runs.jsonl"):
            m = found.setdefault(run["model"], Measured(run["model"]))
            m.backend = m.backend or run.get("backend")
            if _is_infra_error(run):
                continue
            m.total += 1
            m.passes += bool(run.get("passed"))
        for turn in read_jsonl(root / "turns.jsonl"):
            m = found.setdefault(turn["model"], Measured(turn["model"]))
            m.peak_memory_bytes = _max([m.peak_memory_bytes, turn.get("server_peak_rss_bytes")])
            tps = turn.get("decode_tps")
            if tps and turn.get("warm", True) and turn.get("concurrency", 1) == 1:
                decode.setdefault(m.model, []).append(float(tps))
    for model, values in decode.items():
        found[model].decode_tps = statistics.median(values)
        found[model].decode_turns = len(values)
    return found
