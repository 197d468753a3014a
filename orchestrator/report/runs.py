"""Every run as a row a person can read: its outcome in words, how its turns ended, where to open it.

Why a run failed is more than its one-word reason: a run whose last turn was cut by the token cap
(`finish_reason: length`) says so, whatever reason the graders gave, because "no_tool_calls" alone
hides that the model never got to finish. Finish reasons are also counted per model: how many turns
ended in a tool call, a stop, or the cap.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.report.data import Loaded, scored, select
from orchestrator.results.loader import is_infra_error, run_key

REASON_TEXT = {
    "no_tool_calls": "answered without calling any tool",
    "invalid_tool_calls": "every tool call was malformed (bad JSON, unknown tool or missing argument)",
    "out_of_turns": "used every turn without finishing",
    "never_wrote": "stopped without writing a change",
    "wrong_fix": "wrote a change, but the hidden tests fail on it",
    "no_verification": "did not re-run the tests after its last write",
    "wrong_answer": "the final answer misses what the task asked for",
    "collateral_damage": "broke existing tests or changed files it should not have",
    "looping": "repeated the same tool call three times or more",
    "parser_dropped_call": "wrote a tool call the server's parser dropped",
    "truncated": "the last turn was cut by the token cap",
    "infra_error": "the server failed (not scored)",
}
"""One line per primary failure reason (trajectory.FAILURE_REASONS), for people reading a run."""

CAP_FINISH = "length"
FINISH_ORDER = ("tool_calls", "stop", CAP_FINISH)


def run_id(run: dict[str, Any]) -> str:
    """An HTML id for one run, stable across renders: label, task, mode and run index."""
    raw = f"run-{run.get('label', '?')}-{run.get('task')}-{run.get('mode', 'raw')}-r{run.get('run')}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw)


def task_anchor(label: str, task: str, mode: str) -> str:
    """The HTML id of the group of one model's runs of one task (what a score cell links to)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"runs-{label}-{task}-{mode}")


def model_anchor(label: str) -> str:
    """The HTML id of one model's run index."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"runs-of-{label}")


def turns_of_runs(loaded: Loaded) -> dict[tuple, list[dict[str, Any]]]:
    """The turns of each run (its last attempt), by run_key, in turn order."""
    out: dict[tuple, list[dict[str, Any]]] = {}
    for t in loaded.turns:
        out.setdefault(run_key(t), []).append(t)
    for turns in out.values():
        turns.sort(key=lambda t: t.get("turn") or 0)
    return out


def cap_note(turns: list[dict[str, Any]], cap: int | None) -> str | None:
    """Says that the run's last turn was cut by the token cap, with the figures known; else None."""
    if not turns or turns[-1].get("finish_reason") != CAP_FINISH:
        return None
    last = turns[-1]
    cap = last.get("max_tokens") or cap  # the cap the request carried, where the turn recorded it
    made = last.get("completion_tokens")
    of = f" of max_tokens {cap:,}" if cap else ""
    figure = f" at {made:,} tokens{of}" if made is not None else (f" (max_tokens {cap:,})" if cap else "")
    return f"last turn (turn {last.get('turn')}) cut by the token cap{figure}"


def explain(run: dict[str, Any], turns: list[dict[str, Any]], cap: int | None) -> str:
    """The failure reason in words, plus the cap when it cut the last turn; '' for a pass."""
    if run.get("passed"):
        return ""
    reason = run.get("reason") or "unknown"
    text = f"{reason}: {REASON_TEXT.get(reason, 'no description for this reason')}"
    if is_infra_error(run) and run.get("error"):
        text += f" ({run['error']})"
    note = cap_note(turns, cap)
    if note and reason != "truncated":
        text += f"; {note}"
    elif note:
        text = f"truncated: {note}"
    return text


def finish_counts(turns: list[dict[str, Any]]) -> dict[str, int]:
    """Turns by finish reason: tool_calls, stop, length first, then any other the server sent."""
    counts: dict[str, int] = {}
    for t in turns:
        key = t.get("finish_reason") or "unknown"
        counts[key] = counts.get(key, 0) + 1
    order = [k for k in FINISH_ORDER if k in counts] + sorted(set(counts) - set(FINISH_ORDER))
    return {k: counts[k] for k in order}


def run_summaries(loaded: Loaded, titles: dict[str, str]) -> list[dict[str, Any]]:
    """One row per run (infra_error runs included, marked): what the run viewer and links need."""
    by_run = turns_of_runs(loaded)
    caps = {m["label"]: m.get("max_tokens") for m in loaded.models}
    out = []
    for r in loaded.runs:
        turns = by_run.get(run_key(r), [])
        cap = caps.get(r["label"])
        out.append({
            "id": run_id(r), "group": task_anchor(r["label"], r.get("task"), r.get("mode", "raw")),
            "label": r["label"], "task": r.get("task"), "title": titles.get(r.get("task"), r.get("task")),
            "mode": r.get("mode", "raw"), "run": r.get("run"), "passed": bool(r.get("passed")),
            "reason": r.get("reason"), "explanation": explain(r, turns, cap),
            "cut_by_cap": cap_note(turns, cap) is not None, "scored": not is_infra_error(r),
            "turns": r.get("turns"), "tool_calls": r.get("tool_calls"), "wall_s": r.get("wall_s"),
            "thinking_tokens": r.get("thinking_tokens"), "completion_tokens": r.get("completion_tokens"),
            "finish_reasons": finish_counts(turns), "max_tokens": cap,
            "checks": r.get("checks") or [], "transcript": r.get("transcript"), "folder": r.get("folder"),
        })
    return out


def lost_counts(turns: list[dict[str, Any]]) -> dict[str, int]:
    """Lost-call kinds over turns, most frequent first."""
    counts: dict[str, int] = {}
    for t in turns:
        for kind in t.get("lost_calls") or []:
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def finish_section(loaded: Loaded, mode: str) -> dict[str, Any]:
    """Per model: turns by finish reason, and the scored runs whose last turn the cap cut."""
    by_run = turns_of_runs(loaded)
    out = {}
    for m in loaded.models:
        runs = scored(select(loaded.runs, m["label"], mode))
        turns = [t for r in runs for t in by_run.get(run_key(r), [])]
        cut = [r for r in runs if cap_note(by_run.get(run_key(r), []), None)]
        out[m["label"]] = {"turns": len(turns), "finish_reasons": finish_counts(turns),
                           "runs": len(runs), "runs_cut_by_cap": len(cut),
                           # Calls the server lost (orchestrator/agent/losses.py), by kind, and the turns
                           # that lost any: a parser's failure must not read as the model's.
                           "lost_calls": lost_counts(turns),
                           "turns_with_lost_calls": sum(bool(t.get("lost_calls")) for t in turns),
                           "failed_runs_cut_by_cap": sum(not r.get("passed") for r in cut),
                           "max_tokens": m.get("max_tokens") or max(
                               (t["max_tokens"] for t in turns if isinstance(t.get("max_tokens"), int)), default=None)}
    return out
