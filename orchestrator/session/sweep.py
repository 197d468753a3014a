"""Sweeps: many models on one machine, one after the other, unattended and resumable.

Each model gets a pre-flight check (backend installed, fits in memory, disk for its weights), then its
own session (launch, run, stop), then a wait until the machine has its memory back, so the next model
is measured on a quiet machine. A model that cannot start is reported and the sweep goes on.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import psutil

from orchestrator.config import ModelConfig
from orchestrator.errors import InfraError, UserError
from orchestrator.session.model_session import run_model_session
from orchestrator.session.preflight import preflight
from orchestrator.results.records import ResultsDir, RunRecord
from orchestrator.session.runner import Plan


@dataclass
class ModelOutcome:
    label: str
    config_path: str | None
    status: str = "pending"
    """done, skipped (pre-flight), failed_to_start, or interrupted."""
    reason: str | None = None
    runs_recorded: int = 0
    memory_released_s: float | None = None


@dataclass
class SweepOutcome:
    models: list[ModelOutcome] = field(default_factory=list)


def sweep_labels(configs: list[ModelConfig]) -> list[str]:
    """Names as labels; two configs that share a name but differ get their hash appended."""
    labels = []
    for config in configs:
        same = [c for c in configs if c.name == config.name]
        distinct = {c.config_hash() for c in same}
        labels.append(config.name if len(distinct) == 1 else f"{config.name}-{config.config_hash()[:6]}")
    return labels


def wait_memory_released(baseline_available: int, timeout_s: float = 120.0, slack: float = 0.05) -> float | None:
    """Seconds until available memory is back within `slack` of the baseline; None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if psutil.virtual_memory().available >= baseline_available * (1 - slack):
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def run_sweep(configs: list[ModelConfig], plan: Plan, results: ResultsDir,
              on_model: Callable[[str, str], None] | None = None,
              on_ready: Callable[[Any], None] | None = None,
              on_done: Callable[[RunRecord], None] | None = None,
              check_fit: bool = True) -> SweepOutcome:
    outcome = SweepOutcome()
    say = on_model or (lambda label, text: None)
    for config, label in zip(configs, sweep_labels(configs)):
        model = ModelOutcome(label, str(config.path) if config.path else None)
        outcome.models.append(model)
        _save(results, outcome)
        problem = preflight(config, check_fit=check_fit)
        if problem:
            model.status, model.reason = "skipped", problem
            say(label, f"skipped: {problem}")
            continue
        baseline = psutil.virtual_memory().available
        say(label, "starting")
        try:
            records = run_model_session(config, plan, results, label=label, on_ready=on_ready, on_done=on_done)
        except (InfraError, UserError) as err:
            model.status, model.reason = "failed_to_start", str(err).splitlines()[0]
            say(label, f"failed to start: {model.reason}")
            _save(results, outcome)
            continue
        except KeyboardInterrupt:
            model.status = "interrupted"
            _save(results, outcome)
            raise
        model.status, model.runs_recorded = "done", len(records)
        model.memory_released_s = wait_memory_released(baseline)
        if model.memory_released_s is None:
            say(label, "warning: memory not back to its level before the model after 120 s")
        _save(results, outcome)
    return outcome


def _save(results: ResultsDir, outcome: SweepOutcome) -> None:
    results.write_json(results.root / "sweep.json", {"models": [asdict(m) for m in outcome.models]})
