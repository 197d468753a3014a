"""Results folders in, one report dict out: the numbers every report format shows, and nothing else.

Reports read only files (records.py's layout): runs.jsonl, turns.jsonl, models/<model>/meta.json.
Any of them may be missing or end in a torn line; what was recorded still counts.

Rules the numbers follow:
- A task run is keyed (config_hash, task, run, mode). After a resume or a retry the same key can occur
  more than once: the LAST record in file order wins (folders are read in the order given, so a later
  folder overrides an earlier one for the same key). Turns follow the same rule: when a run's turn
  numbering starts again, the earlier attempt's turns are dropped.
- Runs lost to `infra_error` are listed apart and never scored: not in passes, not in runs.
- A model is its `model` name; a thinking variant of it (a record's `variant`) is `name/variant`, so
  the variants of one model sit side by side; two configs that share a name and variant are told
  apart as `name@hash8`.
- Unknown figures stay None (JSON null, "—" on screen), never averaged in as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.report.seed import TIER_ORDER, load_seed
from orchestrator.report.stats import all_passed, mean_known, pass_hat_k, wilson_interval
from orchestrator.results.loader import is_infra_error
from orchestrator.results.loader import load_results as read_results_folders
from orchestrator.trajectory import FAILURE_REASONS


@dataclass
class Loaded:
    """Every folder's records after dedup, each run and turn tagged with its model's `label`."""

    sources: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Per label, every meta.json found for it (one a folder)."""
    models: list[dict[str, Any]] = field(default_factory=list)


def load_results(dirs: list[Path]) -> Loaded:
    """Read, check and dedup the folders through the one results loader; label the models."""
    results = read_results_folders(dirs)
    loaded = Loaded(sources=results.sources, runs=results.runs, turns=results.turns)
    _label_models(loaded, results.metas)
    return loaded


def _expand_variant_metas(metas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One server launch can serve several thinking variants: its meta.json lists them, and each
    variant gets the launch's figures (load time, memory after load) under its own config hash."""
    out = []
    for meta in metas:
        variants = meta.get("variants")
        if not isinstance(variants, list) or not variants:
            out.append(meta)
            continue
        for v in variants:
            if isinstance(v, dict) and v.get("name"):
                out.append({**meta, "variant": v["name"], "config_hash": v.get("config_hash"),
                            "max_tokens": v.get("max_tokens"), "request": v.get("request")})
    return out


def _label_models(loaded: Loaded, metas: list[dict[str, Any]]) -> None:
    """Give every record a `label`, and list the models in first-seen order, variants of one together."""
    metas = _expand_variant_metas(metas)
    # records name their config by hash; the launch's meta.json says which model and variant a hash
    # is (on disk a variant's runs carry a name of their own, e.g. `qwen3.5-27b+off`)
    variant_of = {m["config_hash"]: m for m in metas if m.get("variant") and m.get("config_hash")}
    for row in [*loaded.runs, *loaded.turns]:
        meta = variant_of.get(row.get("config_hash"))
        if meta is not None and not row.get("variant"):
            row["model"], row["variant"] = meta["model"], meta["variant"]
    hashes: dict[tuple, list[str]] = {}
    for row in [*loaded.runs, *loaded.turns, *metas]:
        seen = hashes.setdefault((row.get("model", "?"), row.get("variant")), [])
        if row.get("config_hash") and row["config_hash"] not in seen:
            seen.append(row["config_hash"])

    def label(row: dict[str, Any]) -> str:
        name, variant = row.get("model", "?"), row.get("variant")
        text = f"{name}/{variant}" if variant else name
        if len(hashes[(name, variant)]) > 1 and row.get("config_hash"):
            return f"{text}@{row['config_hash'][:8]}"
        return text

    models: dict[str, dict[str, Any]] = {}
    for row in [*loaded.runs, *loaded.turns]:
        row["label"] = label(row)
        m = models.setdefault(row["label"], {"label": row["label"], "model": row.get("model", "?"),
                                             "variant": row.get("variant"),
                                             "config_hash": row.get("config_hash"), "backend": None,
                                             "concurrency": 1})
        m["backend"] = m["backend"] or row.get("backend")
        m["concurrency"] = max(m["concurrency"], int(row.get("concurrency") or 1))
    for meta in metas:
        # a meta.json without a config_hash belongs to every config of that name: only one exists then
        if meta.get("config_hash") is None and len(hashes.get((meta["model"], meta.get("variant")), [])) > 1:
            continue
        lab = label(meta)
        loaded.meta.setdefault(lab, []).append(meta)
        if lab in models:
            models[lab]["backend"] = models[lab]["backend"] or meta.get("backend")
            cap = meta.get("max_tokens") or ((meta.get("config") or {}).get("sampling") or {}).get("max_tokens")
            models[lab]["max_tokens"] = models[lab].get("max_tokens") or cap
            if isinstance(meta.get("request"), dict):  # what a variant's requests carried over the config's
                models[lab]["variant_request"] = meta["request"]
    seed_by_config = {m["config"]: m["name"] for m in load_seed()["models"]}
    first_seen = list(dict.fromkeys(m["model"] for m in models.values()))
    for m in models.values():
        m["seed_name"] = seed_by_config.get(m["model"])
        m.setdefault("max_tokens", None)
    # variants of one model side by side, models in the order they were first seen
    loaded.models = sorted(models.values(), key=lambda m: first_seen.index(m["model"]))


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
