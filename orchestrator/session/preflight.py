"""Before a sweep launches a model: is its backend installed, does it fit, is there disk for its weights?

A model that fails any of these is skipped with the reason, instead of swapping the machine into the
ground or dying an hour into an unattended sweep.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from backends import backend_for
from orchestrator.config import ModelConfig
from orchestrator.errors import UserError
from orchestrator.sizing.model import GIB, estimate

BENCHMARK_CONTEXT = 32768
"""Tokens a benchmark conversation can reach: ten turns of capped tool output fit well inside it."""


def _is_hub_id(model: str) -> bool:
    return not model.startswith("package:") and not Path(model).expanduser().exists() and model.count("/") == 1


def _in_hub_cache(model: str) -> bool:
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub")
    return (hub.expanduser() / f"models--{model.replace('/', '--')}").exists()


def fit_problem(config: ModelConfig) -> str | None:
    est = estimate(config, context=min(config.context_length, BENCHMARK_CONTEXT), backend=config.backend)
    needed = est.needed_gb
    capacity, what = backend_for(config).capacity_gb(config)
    if needed is None or capacity is None:
        return None  # cannot tell: let the launch decide
    if needed > capacity:
        return (f"needs about {needed:.1f} GB ({est.weights_source} + KV + overhead) but this machine has "
                f"{capacity:.1f} GB of {what}; --no-check-fit runs it anyway")
    return None


def disk_problem(config: ModelConfig) -> str | None:
    section = config.section()
    model = getattr(section, "model", None)
    if not model or not _is_hub_id(model) or _in_hub_cache(model):
        return None
    est = estimate(config, backend=config.backend)
    if est.weights_gb is None:
        return None
    free = shutil.disk_usage(Path.home()).free / GIB
    if est.weights_gb * 1.05 > free:
        return f"downloading {model} needs about {est.weights_gb:.0f} GB of disk; {free:.0f} GB free"
    return None


def backend_problem(config: ModelConfig) -> str | None:
    try:
        backend_for(config).check_installed(config)
    except UserError as err:
        return str(err)
    return None


def preflight(config: ModelConfig, check_fit: bool = True) -> str | None:
    """The first reason not to launch this model here, or None."""
    return backend_problem(config) or (fit_problem(config) if check_fit else None) or disk_problem(config)
