"""The report's sections as plain tables of strings, built once from the report dict.

Markdown, the rich terminal view and HTML all render these same tables, so the three cannot show
different numbers; report.json is the dict itself and so carries every number shown here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.report.runs import task_anchor

DASH = "—"
"""Shown for an unknown figure: unknown is not zero."""
GIB = 1024**3
TIER_LABEL = {"basic": "Basic", "intermediate": "Inter.", "advanced": "Adv."}


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    title: str = ""
    total_rows: int = 0
    """How many rows at the end are totals (drawn apart)."""
    left_columns: int = 1
    """Leading columns of names (left-aligned); the rest are figures (right-aligned).

    A header may hold a newline where a narrow column can break it."""
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    """(row, column) -> the HTML id a cell links to (a run, or a group of runs); other formats ignore it."""
    reference_rows: set[int] = field(default_factory=set)
    """Rows that hold the article's published figures, set apart from what was measured."""


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    """Names of plots.py figures that belong here."""


def num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return DASH if value is None else f"{value:,.{digits}f}{suffix}"


def gib(value: int | None) -> str:
    return DASH if value is None else f"{value / GIB:.1f} GiB"


def frac(t: dict[str, int]) -> str:
    """passes/runs, with runs lost to infrastructure noted (they are not in the score)."""
    if not t["runs"] and not t.get("infra_errors"):
        return DASH
    text = f"{t['passes']}/{t['runs']}"
    return text + (f" (+{t['infra_errors']} infra)" if t.get("infra_errors") else "")


def model_name(report: dict[str, Any], label: str, speed: bool = False) -> str:
    """A model's column label; speed figures measured under concurrency say so."""
    m = next(x for x in report["models"] if x["label"] == label)
    return f"{label} (×{m['concurrency']} concurrent)" if speed and m["concurrency"] > 1 else label


def labels_in(report: dict[str, Any], mode: str) -> list[str]:
    total = report["score"][mode]["total"]
    return [m["label"] for m in report["models"] if total[m["label"]]["runs"] or total[m["label"]]["infra_errors"]]


def score_table(report: dict[str, Any], mode: str) -> Table:
    """The article's table: tasks (with tier) x models, passes/runs, tier subtotals and the total."""
    score, seed = report["score"][mode], report["seed"] if mode == "raw" else None
    columns: list[tuple[str, Any]] = []  # (header, cell function of a row key)
    matched, measured = set(), {}
    labels = labels_in(report, mode)
    model_of = {x["label"]: x for x in report["models"]}
    for n, label in enumerate(labels):
        measured[len(columns) + 2] = label
        columns.append((label, lambda key, lab=label: frac(_score_cell(score, lab, key))))
        m = model_of[label]
        later_variant = n + 1 < len(labels) and model_of[labels[n + 1]]["model"] == m["model"]
        if seed and m.get("seed_name") and not later_variant:  # once, after the model's last variant
            matched.add(m["seed_name"])
            columns.append((f"{m['seed_name']}\n(article)", _seed_cell(seed, m["seed_name"])))
    for s in (seed or {}).get("models", []):
        if s["name"] not in matched:
            columns.append((f"{s['name']}\n(article)", _seed_cell(seed, s["name"])))
    rows = [[t["title"], TIER_LABEL.get(t["tier"], t["tier"])] + [f(("task", t["id"])) for _, f in columns]
            for t in report["tasks"]]
    totals = [[f"{TIER_LABEL.get(tier, tier)} total", ""] + [f(("tier", tier)) for _, f in columns]
              for tier in report["tiers"]]
    totals.append(["Total", ""] + [f(("total", None)) for _, f in columns])
    links = {(i, col): task_anchor(label, t["id"], mode) for i, t in enumerate(report["tasks"])
             for col, label in measured.items() if score["cells"][label][t["id"]]["runs"]
             or score["cells"][label][t["id"]]["infra_errors"]}
    return Table(["Task", "Tier"] + [h for h, _ in columns], rows + totals, total_rows=len(totals), left_columns=2,
                 links=links)


def _score_cell(score: dict, label: str, key: tuple[str, str | None]) -> dict[str, int]:
    kind, name = key
    if kind == "task":
        return score["cells"][label][name]
    return score["tiers"][label][name] if kind == "tier" else score["total"][label]


def _seed_cell(seed: dict, name: str):
    s = next(x for x in seed["models"] if x["name"] == name)

    def cell(key: tuple[str, str | None]) -> str:
        kind, value = key
        if kind == "task":
            return f"{s['passes'][value]}/{seed['runs']}" if value in s["passes"] else DASH
        if kind == "tier":
            return f"{s['tiers'][value]}/{seed['tier_runs'][value]}" if value in seed["tier_runs"] else DASH
        return f"{s['total']}/{seed['tasks'] * seed['runs']}"
    return cell


def reliability_tables(report: dict[str, Any], mode: str) -> list[Table]:
    rel = report["reliability"][mode]
    labels = labels_in(report, mode)
    ks = sorted({int(k) for lab in labels for k in rel[lab]["pass_hat_k"]})
    head = ["Model", "pass@1", "95% CI (Wilson)"] + [f"pass^{k}" for k in ks] + ["tasks all passed"]
    rows = []
    for lab in labels:
        r = rel[lab]
        ci = r["ci95"]
        rows.append([lab, f"{num(r['pass_at_1'], 2)} ({r['passes']}/{r['runs']})",
                     DASH if ci is None else f"{ci[0]:.2f}–{ci[1]:.2f}"]
                    + [num(r["pass_hat_k"].get(str(k)), 2) for k in ks]
                    + [f"{r['tasks_all_passed']}/{r['tasks_run']}"])
    per_task = [[t["title"]] + [_hat_cell(rel[lab]["tasks"][t["id"]]) for lab in labels] for t in report["tasks"]]
    return [Table(head, rows, title=f"Per model ({mode})"),
            Table(["Task"] + labels, per_task, title=f"pass^k per task, k = 1, 2, ... ({mode}); ✓ all runs passed",
                  links=_task_links(report, labels, mode, lambda lab, t: rel[lab]["tasks"][t]["runs"]))]


def _hat_cell(t: dict[str, Any]) -> str:
    if not t["runs"]:
        return DASH
    hats = " · ".join(num(t["pass_hat_k"][str(k)], 2) for k in range(1, t["runs"] + 1))
    return hats + (" ✓" if t["all_passed"] else "")


def failure_tables(report: dict[str, Any], mode: str) -> list[Table]:
    fail = report["failures"][mode]
    labels = labels_in(report, mode)
    reasons: list[str] = []
    for lab in labels:
        reasons += [r for r in fail[lab]["reasons"] if r not in reasons]
    rows = [[r] + [str(fail[lab]["reasons"].get(r, 0)) for lab in labels] for r in reasons]
    rows += [["runs scored (failed)"] + [f"{fail[lab]['runs']} ({fail[lab]['failed']})" for lab in labels],
             ["turns per run"] + [num(fail[lab]["turns_per_run"]) for lab in labels],
             ["tool calls per run"] + [num(fail[lab]["tool_calls_per_run"]) for lab in labels],
             ["malformed calls (per run)"] + [f"{fail[lab]['malformed_calls']} ({num(fail[lab]['malformed_per_run'], 2)})"
                                              for lab in labels]]
    by_task = [[t["title"]] + [", ".join(f"{r} ×{n}" for r, n in fail[lab]["by_task"][t["id"]].items()) or DASH
                               for lab in labels] for t in report["tasks"]]
    return [Table(["Primary reason"] + labels, rows, title=f"Failure reasons ({mode})", total_rows=4),
            Table(["Task"] + labels, by_task, title=f"Failure reasons per task ({mode})",
                  links={(i, j + 1): task_anchor(lab, t["id"], mode) for i, t in enumerate(report["tasks"])
                         for j, lab in enumerate(labels) if fail[lab]["by_task"][t["id"]]})]


def infra_table(report: dict[str, Any]) -> Table | None:
    if not report["infra_errors"]:
        return None
    rows = [[e["label"], e["task"], e["mode"], str(e["run"]), str(e["attempts"] or DASH), e["error"] or DASH]
            for e in report["infra_errors"]]
    return Table(["Model", "Task", "Mode", "Run", "Attempts", "Error"], rows,
                 title="Runs lost to infra_error (not in any score)")


def performance_tables(report: dict[str, Any]) -> list[Table]:
    perf, labels = report["performance"], [m["label"] for m in report["models"]]
    names = [model_name(report, lab, speed=True) for lab in labels]
    speed = [[name, num(p["load_s"]), num(p["ttft_median_s"], 2), num(p["ttft_p90_s"], 2),
              num(p["decode_tps_median"]), num(p["prefill_tps_median"]), _share(p.get("prompt_cached_share")),
              str(p["warm_turns"])]
             for name, p in zip(names, (perf[lab] for lab in labels))]
    cost = [[name, gib(p["memory_after_load_bytes"]), gib(p["peak_rss_bytes"]), gib(p["peak_gpu_bytes"]),
             gib(p.get("peak_footprint_bytes")),
             num(p["wall_s_total"]), f"{p['passes']}", num(p["score_per_hour"]), num(p["score_per_gib"], 2)]
            for name, p in zip(names, (perf[lab] for lab in labels))]
    per_task = [[t["title"]] + [num(perf[lab]["wall_s_per_task"][t["id"]]) for lab in labels]
                for t in report["tasks"]]
    mode = report["primary_mode"]
    return [Table(["Model", "load s", "TTFT median s", "TTFT p90 s", "decode tok/s", "prefill tok/s",
                   "prompt\ncached", "warm turns"],
                  speed, title="Speed (medians over warm turns)"),
            # Footprint: macOS only, unverified until a Mac has run it (metrics/footprint.py).
            Table(["Model", "after load", "peak RSS", "peak GPU", "peak\nfootprint", f"wall s ({mode})", "passes",
                   "passes / hour",
                   "passes / GiB"], cost, title=f"Memory, and score per hour and per GiB ({mode} runs)"),
            Table(["Task"] + names, per_task, title=f"Wall time per run, seconds (mean per task, {mode})",
                  links=_task_links(report, labels, mode, lambda lab, t: perf[lab]["wall_s_per_task"][t] is not None))]


def _share(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.0f}%"


def _task_links(report: dict[str, Any], labels: list[str], mode: str, has_runs) -> dict[tuple[int, int], str]:
    """Cells of a task x model table that link to that model's runs of the task (where it has some)."""
    return {(i, j + 1): task_anchor(lab, t["id"], mode) for i, t in enumerate(report["tasks"])
            for j, lab in enumerate(labels) if has_runs(lab, t["id"])}


def _signed(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return DASH if value is None else f"{value:+,.{digits}f}{suffix}"


def harness_tables(report: dict[str, Any]) -> list[Table]:
    gap = report["harness_gap"]
    if not gap:
        return []
    labels = list(gap)
    head = ["Model", "raw", "harness", "gap", "extra turns / run", "extra tokens / run", "extra s / run",
            "feedback rounds / run"]
    rows = [[model_name(report, lab, speed=True), frac(g["raw"]), frac(g["harness"]), _signed(g["gap_pp"], 0, " pp"),
             _signed(g["extra_turns_per_run"]), _signed(g["extra_tokens_per_run"], 0),
             _signed(g["extra_seconds_per_run"]), num(g["harness_rounds_mean"])]
            for lab, g in gap.items()]
    per_task = []
    for t in report["tasks"]:
        cells = [gap[lab]["tasks"].get(t["id"]) for lab in labels]
        if any(cells):
            per_task.append([t["title"]] + [DASH if c is None else
                                             f"{frac(c['raw'])} → {frac(c['harness'])} ({_signed(c['gap_pp'], 0)})"
                                             for c in cells])
    return [Table(head, rows, title="Score and cost, harness minus raw"),
            Table(["Task"] + labels, per_task, title="Per task: raw → harness (gap in points)")]
