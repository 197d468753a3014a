"""Raw vs real coding-agent harnesses, the gap the article is about: per model, the raw benchmark beside
every other way it was run (our feedback loop, Claude Code, OpenCode, mini-swe-agent).

For each model and mode: the score with its Wilson 95% interval, per task; and per run, turns (model
requests), tokens, the harness's own prompt overhead (first request's prompt tokens, bytes and tools
offered: Claude Code sends ~12k tokens and 24 tools before the task says anything, mini-swe-agent ~1k
and one), wall time and thinking tokens. Plus a figure: raw vs each harness's score per model.
"""

from __future__ import annotations

import io
from typing import Any

from orchestrator.report.data import Loaded, scored, select
from orchestrator.report.sections import DASH, Section, Table, num
from orchestrator.report.stats import mean_known, wilson_interval

RAW_TOOLS = 4
"""Raw runs offer the four benchmark tools."""


def _score(runs: list[dict[str, Any]]) -> dict[str, Any]:
    passes = sum(bool(r.get("passed")) for r in runs)
    ci = wilson_interval(passes, len(runs))
    return {"passes": passes, "runs": len(runs), "rate": passes / len(runs) if runs else None,
            "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None}


def _first_turn_prompt(loaded: Loaded, label: str, mode: str) -> float | None:
    return mean_known(t.get("prompt_tokens") for t in loaded.turns
                      if t["label"] == label and t.get("mode", "raw") == mode and t.get("turn") == 1)


def _per_run(loaded: Loaded, label: str, mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def harness(key: str):
        return mean_known((r.get("harness") or {}).get(key) for r in runs)

    tokens = [None if r.get("prompt_tokens") is None or r.get("completion_tokens") is None
              else r["prompt_tokens"] + r["completion_tokens"] for r in runs]
    real = any(r.get("harness") for r in runs)
    return {
        "turns": mean_known(r.get("turns") for r in runs),
        "harness_turns": harness("harness_turns") if real else None,
        "tokens": mean_known(tokens),
        "first_prompt_tokens": harness("first_prompt_tokens") if real else _first_turn_prompt(loaded, label, mode),
        "first_request_bytes": harness("first_request_bytes") if real else None,
        "tools_offered": harness("first_request_tools") if real else RAW_TOOLS,
        "wall_s": mean_known(r.get("wall_s") for r in runs),
        "thinking_tokens": mean_known(r.get("thinking_tokens") for r in runs),
        "ended": _endings(runs) if real else None,
    }


def _endings(runs: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in runs:
        ended = (r.get("harness") or {}).get("harness_ended") or "?"
        out[ended] = out.get(ended, 0) + 1
    return out


def harness_compare_section(loaded: Loaded, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """{model label: {"modes": {mode: {score, tasks: {id: score}, per_run}}, "gap_pp": {mode: points}}}
    for models run raw and at least one other way."""
    out: dict[str, Any] = {}
    for m in loaded.models:
        label = m["label"]
        modes = sorted({r.get("mode", "raw") for r in loaded.runs if r["label"] == label})
        if "raw" not in modes or len(modes) < 2:
            continue
        entry: dict[str, Any] = {"modes": {}, "gap_pp": {}}
        for mode in ["raw"] + [x for x in modes if x != "raw"]:
            runs = scored(select(loaded.runs, label, mode))
            entry["modes"][mode] = {
                "score": _score(runs),
                "tasks": {t["id"]: _score(select(runs, task=t["id"])) for t in tasks if select(runs, task=t["id"])},
                "per_run": _per_run(loaded, label, mode, runs),
            }
        raw_rate = entry["modes"]["raw"]["score"]["rate"]
        for mode, data in entry["modes"].items():
            rate = data["score"]["rate"]
            if mode != "raw":
                entry["gap_pp"][mode] = None if rate is None or raw_rate is None else 100 * (rate - raw_rate)
        out[label] = entry
    return out


# ---- tables ----

def _frac_ci(s: dict[str, Any]) -> str:
    if not s["runs"]:
        return DASH
    return f"{s['passes']}/{s['runs']} ({100 * s['ci_low']:.0f}–{100 * s['ci_high']:.0f}%)"


def harness_compare_tables(report: dict[str, Any]) -> list[Table]:
    data = report.get("harness_compare") or {}
    if not data:
        return []
    head = ["Model", "mode", "score (95% CI)", "gap vs raw", "turns / run", "tokens / run", "first prompt tokens",
            "first request KB", "tools", "wall s / run", "thinking tokens / run", "how it ended"]
    rows, per_task = [], []
    for label, entry in data.items():
        for mode, d in entry["modes"].items():
            p = d["per_run"]
            gap = entry["gap_pp"].get(mode)
            rows.append([label, mode, _frac_ci(d["score"]), DASH if gap is None else f"{gap:+.0f} pp",
                         num(p["turns"]), num(p["tokens"], 0), num(p["first_prompt_tokens"], 0),
                         num(None if p["first_request_bytes"] is None else p["first_request_bytes"] / 1024),
                         num(p["tools_offered"], 0), num(p["wall_s"]), num(p["thinking_tokens"], 0),
                         ", ".join(f"{k} {v}" for k, v in sorted((p["ended"] or {}).items())) or DASH])
    columns = [(label, mode) for label, entry in data.items() for mode in entry["modes"]]
    for t in report["tasks"]:
        cells = [data[label]["modes"][mode]["tasks"].get(t["id"]) for label, mode in columns]
        if any(cells):
            per_task.append([t["title"]] + [DASH if c is None else f"{c['passes']}/{c['runs']}" for c in cells])
    return [Table(head, rows, title="Raw vs each harness: score and what a run costs", left_columns=2),
            Table(["Task"] + [f"{label}\n{mode}" for label, mode in columns], per_task,
                  title="Per task, passes/runs in each mode")]


def harness_compare_report_section(report: dict[str, Any]) -> Section | None:
    tables = harness_compare_tables(report)
    if not tables:
        return None
    intro = ("The same model, the same tasks and graders: raw tool calling (the article's benchmark) beside "
             "real coding-agent harnesses, whose every request was metered. Turns are model requests; the first "
             "prompt is the harness's own overhead before the task; a harness that stopped at our wall clock "
             "ended time_limit. The article's Claude Code column (24/24 on its eight tasks) is a reference, "
             "not a target.")
    return Section("Raw vs real harnesses", intro, tables, ["raw_vs_harness"])


# ---- figure ----

def raw_vs_harness_figure(report: dict[str, Any]) -> bytes | None:
    """Grouped bars per model: pass rate in each mode, with its 95% interval."""
    data = report.get("harness_compare") or {}
    if not data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = ["raw"] + sorted({mode for e in data.values() for mode in e["modes"]} - {"raw"})
    labels = list(data)
    width = 0.8 / len(modes)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(labels) * len(modes) / 2), 3.6), dpi=110)
    for i, mode in enumerate(modes):
        xs, ys, lows, highs = [], [], [], []
        for j, label in enumerate(labels):
            s = data[label]["modes"].get(mode, {}).get("score")
            if not s or s["rate"] is None:
                continue
            xs.append(j + (i - (len(modes) - 1) / 2) * width)
            ys.append(100 * s["rate"])
            lows.append(100 * (s["rate"] - s["ci_low"]))
            highs.append(100 * (s["ci_high"] - s["rate"]))
        ax.bar(xs, ys, width, yerr=[lows, highs], capsize=3, label=mode)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("pass rate, % (95% CI)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, ncols=min(4, len(modes)))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
