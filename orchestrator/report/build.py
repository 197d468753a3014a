"""The report as one JSON-ready dict, built from results folders: every number any format shows.

report.json is exactly this dict. The run viewer of the HTML report reads the transcripts on top
(run_view.py); the dict keeps one summary row per run, so report.json stays small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.report.cost import harness_gap_section, memory_series, performance_section
from orchestrator.report.harness_gap import harness_compare_section
from orchestrator.report.data import (failure_section, infra_error_list, load_results, modes_of,
                                      reliability_section, score_section, task_list, tiers_of)
from orchestrator.report.runs import finish_section, run_summaries
from orchestrator.report.seed import seed_section
from orchestrator.report.thinking_tax import thinking_tax_section


def build_report(dirs: list[Path], compare_seed: bool = False) -> dict[str, Any]:
    """Every number the reports show.

    Thinking and performance-per-score use the primary mode: raw (the article's benchmark) when
    raw runs exist, else harness; the harness section compares the two modes.
    """
    loaded = load_results(dirs)
    tasks = task_list(loaded, all_seed_tasks=compare_seed)
    modes = modes_of(loaded)
    primary = modes[0] if modes else "raw"
    titles = {t["id"]: t["title"] for t in tasks}
    return {
        "sources": loaded.sources,
        "tasks": tasks,
        "tiers": tiers_of(tasks),
        "models": loaded.models,
        "modes": modes,
        "primary_mode": primary,
        "score": {mode: score_section(loaded, mode, tasks) for mode in modes},
        "seed": seed_section() if compare_seed else None,
        "reliability": {mode: reliability_section(loaded, mode, tasks) for mode in modes},
        "failures": {mode: failure_section(loaded, mode, tasks) for mode in modes},
        "finish_reasons": {mode: finish_section(loaded, mode) for mode in modes},
        "infra_errors": infra_error_list(loaded),
        "performance": performance_section(loaded, primary, tasks),
        "thinking_tax": thinking_tax_section(loaded, primary, tasks),
        "harness_gap": harness_gap_section(loaded, tasks),
        "harness_compare": harness_compare_section(loaded, tasks),
        "memory_series": memory_series(loaded),
        "runs": run_summaries(loaded, titles),
    }
