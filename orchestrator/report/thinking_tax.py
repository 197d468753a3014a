"""The thinking-token tax: what a model's thinking costs per task run, as the article's table has it.

Per model (each thinking variant its own row) and per task, means per scored run:
- generated tokens (the server's usage count of completion tokens, thinking included),
- thinking tokens, each turn's figure named by its source (server usage, the model's tokenizer, an
  estimate); useful tokens = generated - thinking,
- decode tok/s (median of warm turns) and effective useful tok/s = useful tokens / model seconds, where
  model seconds are the turns' request-to-last-byte times (tool time left out, as the article's
  "time" is generation time),
- seconds spent thinking, turns that hit the token cap (`finish_reason: length`) and runs whose last
  turn it cut, passes; and whether failed runs thought more than passed ones.

Each figure comes from turns.jsonl when every turn of the run knows it, else from the run record's
total; per-turn figures (model seconds, cap hits, sources) stay unknown without turns. Unknown stays
None, never 0.
"""

from __future__ import annotations

from typing import Any

from orchestrator.report.data import Loaded, scored, select
from orchestrator.results.loader import run_key
from orchestrator.report.runs import CAP_FINISH, turns_of_runs
from orchestrator.report.stats import mean_known, median

SOURCE_ORDER = ("server_usage", "tokenizer", "estimate")


def _sum_known_all(values: list[Any]) -> Any:
    """The sum when every part is known, else None (a partly counted run is not a count)."""
    if not values or any(v is None for v in values):
        return None
    return sum(values)


def run_figures(run: dict[str, Any], turns: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's thinking figures: each from its turns when they all know it, else the run record's."""
    def total(key: str) -> Any:
        summed = _sum_known_all([t.get(key) for t in turns])
        return summed if summed is not None else run.get(key)

    generated, thinking = total("completion_tokens"), total("thinking_tokens")
    from_turns = _sum_known_all([t.get("thinking_tokens") for t in turns]) is not None
    # A tokenizer or an estimate can count a little more thinking than the server says it generated
    # (special tokens, a share rounded up): the useful part is then none, never negative.
    useful = max(generated - thinking, 0) if generated is not None and thinking is not None else None
    return {"passed": bool(run.get("passed")), "generated": generated, "thinking": thinking, "useful": useful,
            "model_s": _sum_known_all([t.get("wall_s") for t in turns]), "thinking_s": total("thinking_s"),
            "sources": [t.get("thinking_tokens_source") for t in turns] if from_turns else [],
            "capped_turns": sum(t.get("finish_reason") == CAP_FINISH for t in turns) if turns else None,
            "cut_by_cap": bool(turns) and turns[-1].get("finish_reason") == CAP_FINISH,
            "decode_tps": [t.get("decode_tps") for t in turns if t.get("warm", True)]}


def source_counts(figures: list[dict[str, Any]]) -> dict[str, int]:
    """How many turns' thinking counts came from each source, best source first."""
    counts: dict[str, int] = {}
    for f in figures:
        for s in f["sources"]:
            counts[s or "unknown"] = counts.get(s or "unknown", 0) + 1
    order = [s for s in SOURCE_ORDER if s in counts] + sorted(set(counts) - set(SOURCE_ORDER))
    return {s: counts[s] for s in order}


def summarise(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """Means per run over a group of runs, and the effective useful speed over the whole group."""
    both = [f for f in figures if f["useful"] is not None and f["model_s"]]
    useful_s = sum(f["model_s"] for f in both)
    shares = [f for f in figures if f["useful"] is not None and f["generated"]]
    passed = [f for f in figures if f["passed"]]
    failed = [f for f in figures if not f["passed"]]
    capped = [f["capped_turns"] for f in figures if f["capped_turns"] is not None]
    return {
        "runs": len(figures), "passes": len(passed),
        "runs_known": sum(f["thinking"] is not None for f in figures),
        "generated_mean": mean_known(f["generated"] for f in figures),
        "thinking_mean": mean_known(f["thinking"] for f in figures),
        "useful_mean": mean_known(f["useful"] for f in figures),
        "useful_share": (sum(f["useful"] for f in shares) / sum(f["generated"] for f in shares)) if shares else None,
        "model_s_mean": mean_known(f["model_s"] for f in figures),
        "thinking_s_mean": mean_known(f["thinking_s"] for f in figures),
        "decode_tps_median": median(v for f in figures for v in f["decode_tps"]),
        "effective_tps": sum(f["useful"] for f in both) / useful_s if useful_s > 0 else None,
        "capped_turns": sum(capped) if capped else None,
        "runs_cut_by_cap": sum(f["cut_by_cap"] for f in figures),
        "thinking_sources": source_counts(figures),
        "thinking_passed_mean": mean_known(f["thinking"] for f in passed),
        "thinking_failed_mean": mean_known(f["thinking"] for f in failed),
    }


def failed_thought_more(s: dict[str, Any]) -> bool | None:
    """Whether failed runs thought more than passed ones, on average; None when either is unknown."""
    p, f = s["thinking_passed_mean"], s["thinking_failed_mean"]
    return None if p is None or f is None else f > p


def thinking_tax_section(loaded: Loaded, mode: str, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """Per model label: the summary over its scored runs, and one per task it ran."""
    by_run = turns_of_runs(loaded)
    out = {}
    for m in loaded.models:
        runs = scored(select(loaded.runs, m["label"], mode))
        figures = {id(r): run_figures(r, by_run.get(run_key(r), [])) for r in runs}
        total = summarise(list(figures.values()))
        total["failed_thought_more"] = failed_thought_more(total)
        per_task = {}
        for t in tasks:
            task_runs = select(runs, task=t["id"])
            if task_runs:
                per_task[t["id"]] = summarise([figures[id(r)] for r in task_runs])
        out[m["label"]] = {"model": m["model"], "variant": m.get("variant"), "max_tokens": m.get("max_tokens"),
                           **total, "tasks": per_task}
    return out
