"""Results folders in, one report dict out: the numbers every report format shows, and nothing else.

Reports read only files (records.py's layout): runs.jsonl, turns.jsonl, models/<model>/meta.json.
Any of them may be missing or end in a torn line; what was recorded still counts.

Rules the numbers follow:
- A task run is keyed (config_hash, task, run, mode). After a resume or a retry the same key can occur
  more than once: the LAST record in file order wins (folders are read in the order given, so a later
  folder overrides an earlier one for the same key). Turns follow the same rule: when a run's turn
  numbering starts again, the earlier attempt's turns are dropped.
- Runs lost to `infra_error` are listed apart and never scored: not in passes, not in runs.
- A model is its `model` name; two configs that share a name are told apart as `name@hash8`.
- Unknown figures stay None (JSON null, "—" on screen), never averaged in as 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import UserError
from orchestrator.results.records import read_jsonl
from orchestrator.report.stats import all_passed, mean_known, pass_hat_k, wilson_interval
from orchestrator.trajectory import FAILURE_REASONS

SEED_FILE = Path(__file__).parent / "seed_results.yaml"
TIER_ORDER = ("basic", "intermediate", "advanced")


@dataclass
class Loaded:
    """Every folder's records after dedup, each run and turn tagged with its model's `label`."""

    sources: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Per label, every meta.json found for it (one a folder)."""
    models: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def load_seed() -> dict[str, Any]:
    """The article's published table (data/seed_results.yaml)."""
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def run_key(row: dict[str, Any]) -> tuple:
    return (row.get("config_hash"), row.get("task"), row.get("run"), row.get("mode", "raw"))


def is_infra_error(run: dict[str, Any]) -> bool:
    return run.get("reason") == "infra_error" or run.get("ended") == "infra_error"


def _check_folder(root: Path) -> None:
    if not root.is_dir():
        raise UserError(f"{root}: no such folder; give a results folder (it holds runs.jsonl)")
    if not (root / "runs.jsonl").exists() and not (root / "turns.jsonl").exists():
        raise UserError(f"{root}: no runs.jsonl or turns.jsonl here; is it a results folder?")


def _read_meta(root: Path) -> list[dict[str, Any]]:
    metas = []
    for path in sorted(root.glob("models/*/meta.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a torn meta.json costs that model its load time, not the whole report
        if isinstance(meta, dict):
            meta.setdefault("model", path.parent.name)
            metas.append(meta)
    return metas


def load_results(dirs: list[Path]) -> Loaded:
    """Read and dedup the folders; a folder that is not a results folder is a one-line UserError."""
    if not dirs:
        raise UserError("give at least one results folder")
    roots = [Path(d) for d in dirs]
    for root in roots:
        _check_folder(root)
    runs: dict[tuple, dict[str, Any]] = {}
    turns: dict[tuple, list[dict[str, Any]]] = {}
    metas: list[dict[str, Any]] = []
    for root in roots:
        for row in read_jsonl(root / "runs.jsonl"):
            runs.pop(run_key(row), None)  # re-insert, so dict order is the order of the winners
            runs[run_key(row)] = row
        for row in read_jsonl(root / "turns.jsonl"):
            attempt = turns.setdefault(run_key(row), [])
            if attempt and row.get("turn", 0) <= attempt[-1].get("turn", 0):
                attempt.clear()  # numbering restarted: a retry or a resume; its turns replace the old
            attempt.append(row)
        metas.extend(_read_meta(root))
    loaded = Loaded(sources=[str(r) for r in roots], runs=list(runs.values()),
                    turns=[t for attempt in turns.values() for t in attempt])
    _label_models(loaded, metas)
    return loaded


def _label_models(loaded: Loaded, metas: list[dict[str, Any]]) -> None:
    """Give every record a `label`, and list the models in first-seen order."""
    hashes: dict[str, list[str]] = {}
    for row in [*loaded.runs, *loaded.turns, *metas]:
        seen = hashes.setdefault(row.get("model", "?"), [])
        if row.get("config_hash") and row["config_hash"] not in seen:
            seen.append(row["config_hash"])

    def label(row: dict[str, Any]) -> str:
        name = row.get("model", "?")
        if len(hashes[name]) > 1 and row.get("config_hash"):
            return f"{name}@{row['config_hash'][:8]}"
        return name

    models: dict[str, dict[str, Any]] = {}
    for row in [*loaded.runs, *loaded.turns]:
        row["label"] = label(row)
        m = models.setdefault(row["label"], {"label": row["label"], "model": row.get("model", "?"),
                                             "config_hash": row.get("config_hash"), "backend": None,
                                             "concurrency": 1})
        m["backend"] = m["backend"] or row.get("backend")
        m["concurrency"] = max(m["concurrency"], int(row.get("concurrency") or 1))
    for meta in metas:
        # a meta.json without a config_hash belongs to every config of that name: only one exists then
        if meta.get("config_hash") is None and len(hashes.get(meta["model"], [])) > 1:
            continue
        lab = label(meta)
        loaded.meta.setdefault(lab, []).append(meta)
        if lab in models:
            models[lab]["backend"] = models[lab]["backend"] or meta.get("backend")
    seed_by_config = {m["config"]: m["name"] for m in load_seed()["models"]}
    for m in models.values():
        m["seed_name"] = seed_by_config.get(m["model"])
    loaded.models = list(models.values())


def task_list(loaded: Loaded, all_seed_tasks: bool) -> list[dict[str, str]]:
    """The tasks to show, in the article's order; tasks the article lacks follow in first-seen order."""
    seed_tasks = load_seed()["tasks"]
    present = {r.get("task") for r in loaded.runs}
    tasks = [dict(t) for t in seed_tasks if all_seed_tasks or t["id"] in present]
    known = {t["id"] for t in seed_tasks}
    for r in loaded.runs:
        if r.get("task") not in known:
            known.add(r["task"])
            tasks.append({"id": r["task"], "title": r["task"], "tier": r.get("tier") or "?"})
    return tasks


def tiers_of(tasks: list[dict[str, str]]) -> list[str]:
    found = {t["tier"] for t in tasks}
    return [t for t in TIER_ORDER if t in found] + sorted(found - set(TIER_ORDER))


def modes_of(loaded: Loaded) -> list[str]:
    found = {r.get("mode", "raw") for r in loaded.runs}
    return [m for m in ("raw", "harness") if m in found] + sorted(found - {"raw", "harness"})


def scored(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if not is_infra_error(r)]


def select(runs, label=None, mode=None, task=None) -> list[dict[str, Any]]:
    return [r for r in runs if (label is None or r["label"] == label)
            and (mode is None or r.get("mode", "raw") == mode) and (task is None or r.get("task") == task)]


def _tally(runs: list[dict[str, Any]]) -> dict[str, int]:
    counted = scored(runs)
    return {"passes": sum(bool(r.get("passed")) for r in counted), "runs": len(counted),
            "infra_errors": len(runs) - len(counted)}


def score_section(loaded: Loaded, mode: str, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """The seed-style table for one mode: passes/runs per task, per tier and in total."""
    cells, tiers, total = {}, {}, {}
    for m in loaded.models:
        runs = select(loaded.runs, m["label"], mode)
        cells[m["label"]] = {t["id"]: _tally(select(runs, task=t["id"])) for t in tasks}
        tiers[m["label"]] = {tier: _tally([r for r in runs if r.get("tier") == tier]) for tier in tiers_of(tasks)}
        total[m["label"]] = _tally(runs)
    return {"cells": cells, "tiers": tiers, "total": total}


def seed_section() -> dict[str, Any]:
    seed = load_seed()
    order = [t["id"] for t in seed["tasks"]]
    models = []
    tier_of = {t["id"]: t["tier"] for t in seed["tasks"]}
    for m in seed["models"]:
        passes = dict(zip(order, m["passes"]))
        tiers = {tier: sum(p for task, p in passes.items() if tier_of[task] == tier) for tier in TIER_ORDER}
        models.append({"name": m["name"], "config": m["config"], "passes": passes, "tiers": tiers,
                       "total": sum(m["passes"])})
    tier_runs = {tier: seed["runs"] * sum(t["tier"] == tier for t in seed["tasks"]) for tier in TIER_ORDER}
    return {"source": seed["source"], "runs": seed["runs"], "tasks": len(order), "tier_runs": tier_runs,
            "models": models}


def reliability_section(loaded: Loaded, mode: str, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """pass@1 with its Wilson 95% interval, and pass^k, per model and per task."""
    out = {}
    for m in loaded.models:
        runs = scored(select(loaded.runs, m["label"], mode))
        per_task, max_n = {}, 0
        for t in tasks:
            task_runs = select(runs, task=t["id"])
            n, c = len(task_runs), sum(bool(r.get("passed")) for r in task_runs)
            max_n = max(max_n, n)
            per_task[t["id"]] = {"passes": c, "runs": n, "pass_at_1": c / n if n else None,
                                 "pass_hat_k": {str(k): pass_hat_k(n, c, k) for k in range(1, n + 1)},
                                 "all_passed": all_passed(n, c)}
        n, c = len(runs), sum(bool(r.get("passed")) for r in runs)
        ci = wilson_interval(c, n)
        out[m["label"]] = {
            "passes": c, "runs": n, "pass_at_1": c / n if n else None, "ci95": list(ci) if ci else None,
            # tau-bench: the mean over tasks of C(c,k)/C(n,k); tasks with fewer than k runs left out
            "pass_hat_k": {str(k): mean_known(p["pass_hat_k"].get(str(k)) for p in per_task.values())
                           for k in range(1, max_n + 1)},
            "tasks_all_passed": sum(p["all_passed"] is True for p in per_task.values()),
            "tasks_run": sum(p["runs"] > 0 for p in per_task.values()),
            "tasks": per_task}
    return out


def failure_section(loaded: Loaded, mode: str, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """Primary failure reasons (the fixed list, in its order), turns, tool calls and malformed calls."""
    out = {}
    for m in loaded.models:
        runs = scored(select(loaded.runs, m["label"], mode))
        failed = [r for r in runs if not r.get("passed")]
        reasons = [r.get("reason") or "unknown" for r in failed]
        order = [x for x in FAILURE_REASONS if x in reasons] + sorted(set(reasons) - set(FAILURE_REASONS))
        by_task = {}
        for t in tasks:
            task_reasons = [r.get("reason") or "unknown" for r in failed if r.get("task") == t["id"]]
            by_task[t["id"]] = {x: task_reasons.count(x) for x in order if x in task_reasons}
        out[m["label"]] = {
            "runs": len(runs), "failed": len(failed), "reasons": {x: reasons.count(x) for x in order},
            "by_task": by_task,
            "turns_per_run": mean_known(r.get("turns") for r in runs),
            "tool_calls_per_run": mean_known(r.get("tool_calls") for r in runs),
            "malformed_calls": sum(r.get("malformed_calls") or 0 for r in runs),
            "malformed_per_run": mean_known(r.get("malformed_calls") for r in runs)}
    return out


def infra_error_list(loaded: Loaded) -> list[dict[str, Any]]:
    return [{"label": r["label"], "task": r.get("task"), "run": r.get("run"), "mode": r.get("mode", "raw"),
             "attempts": r.get("attempts"), "error": r.get("error")}
            for r in loaded.runs if is_infra_error(r)]


def build_report(dirs: list[Path], compare_seed: bool = False) -> dict[str, Any]:
    """Every number the reports show, as one JSON-ready dict (report.json is exactly this).

    Thinking and performance-per-score use the primary mode: raw (the article's benchmark) when
    raw runs exist, else harness; the harness section compares the two modes.
    """
    # imported here: report_perf builds on this module's helpers
    from orchestrator.report.cost import harness_gap_section, memory_series, performance_section, thinking_section

    loaded = load_results(dirs)
    tasks = task_list(loaded, all_seed_tasks=compare_seed)
    modes = modes_of(loaded)
    primary = modes[0] if modes else "raw"
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
        "infra_errors": infra_error_list(loaded),
        "performance": performance_section(loaded, primary, tasks),
        "thinking": thinking_section(loaded, primary, tasks),
        "harness_gap": harness_gap_section(loaded, tasks),
        "memory_series": memory_series(loaded),
    }
