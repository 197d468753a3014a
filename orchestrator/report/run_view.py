"""One run, turn by turn, for a person reading it: the data behind the HTML report's run viewer.

Joins a run's summary row (runs.py), its turns (turns.jsonl: timing, tokens, finish reason, memory)
and its transcript (the conversation: assistant text, reasoning, tool calls and their results).
Model output is untrusted: every text is capped, and a transcript path that leads out of its results
folder is not followed. A run without a transcript still shows its turns' figures.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from orchestrator.report.data import load_results
from orchestrator.report.runs import run_id, turns_of_runs
from orchestrator.results.loader import run_key

TEXT_CAP_CHARS = 6000
"""Per text shown (assistant text, reasoning, a tool's arguments or result): head and tail kept."""
TRANSCRIPT_CAP_BYTES = 20 * 1024 * 1024
PAGE_BUDGET_CHARS = 30_000_000
"""Conversation text the whole HTML report may hold (a browser opens ~30 MB of text without trouble)."""
REPEAT_MIN_CHARS = 400
REPEAT_RATIO = 0.12
"""Compressed / raw size below which a long text is mostly repetition (prose and code sit near 0.3-0.5)."""

TURN_FIGURES = ("finish_reason", "wall_s", "ttft_s", "decode_tps", "prefill_tps", "prompt_tokens",
                "cached_tokens", "completion_tokens", "thinking_tokens", "thinking_tokens_source", "thinking_s",
                "server_peak_rss_bytes", "gpu_used_bytes", "system_available_bytes", "kv_cache_usage_perc", "warm")


def cap_text(text: Any, limit: int = TEXT_CAP_CHARS) -> dict[str, Any]:
    """A text cut to `limit` characters (head and tail), with how much was left out."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return {"text": text, "omitted": 0, "chars": len(text), "repeats": repeats(text)}
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    omitted = len(text) - len(head) - len(tail)
    return {"text": f"{head}\n[... {omitted:,} characters not shown ...]\n{tail}", "omitted": omitted,
            "chars": len(text), "repeats": repeats(text)}


def repeats(text: str) -> bool:
    """True for a long text that is mostly the same thing over and over (a model stuck in a loop)."""
    if len(text) < REPEAT_MIN_CHARS:
        return False
    raw = text.encode("utf-8", "replace")
    return len(zlib.compress(raw, 6)) / len(raw) < REPEAT_RATIO


def read_transcript(folder: str | None, rel: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The transcript as a dict, or (None, why not)."""
    if not folder or not rel:
        return None, "no transcript recorded for this run"
    root = Path(folder).resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        return None, f"transcript path {rel!r} leads out of the results folder; not read"
    try:
        if path.stat().st_size > TRANSCRIPT_CAP_BYTES:
            return None, f"transcript {rel} is over {TRANSCRIPT_CAP_BYTES // 2**20} MiB; not read"
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return None, f"transcript {rel} is missing"
    except (OSError, ValueError) as err:
        return None, f"transcript {rel} cannot be read ({type(err).__name__})"
    return (data, None) if isinstance(data, dict) else (None, f"transcript {rel} is not a JSON object")


def _arguments(raw: Any) -> str:
    """Tool-call arguments pretty-printed when they are JSON, else exactly as sent."""
    if not isinstance(raw, str):
        return json.dumps(raw, indent=2, ensure_ascii=False)
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def conversation_turns(transcript: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(the task prompt, one entry per assistant turn with its text, calls and results, and any
    feedback that followed it). Turn n is the n-th assistant message."""
    messages = [m for m in transcript.get("messages") or [] if isinstance(m, dict)]
    reasoning = transcript.get("reasoning") or []
    raw = transcript.get("assistant_raw") or []
    prompt, turns = "", []
    for msg in messages:
        role = msg.get("role")
        if role == "user" and not turns and not prompt:
            prompt = msg.get("content") or ""
        elif role == "assistant":
            n = len(turns)
            calls = [{"id": c.get("id"), "name": (c.get("function") or {}).get("name"),
                      "arguments": cap_text(_arguments((c.get("function") or {}).get("arguments"))),
                      "result": None} for c in msg.get("tool_calls") or [] if isinstance(c, dict)]
            turns.append({"turn": n + 1, "content": cap_text(msg.get("content")),
                          "reasoning": cap_text(reasoning[n] if n < len(reasoning) else ""),
                          "raw": cap_text(raw[n] if n < len(raw) else ""), "calls": calls, "feedback": []})
        elif role == "tool" and turns:
            call = next((c for c in turns[-1]["calls"] if c["id"] == msg.get("tool_call_id") and c["result"] is None),
                        next((c for c in turns[-1]["calls"] if c["result"] is None), None))
            if call is not None:
                call["result"] = cap_text(msg.get("content"))
        elif role == "user" and turns:
            turns[-1]["feedback"].append(cap_text(msg.get("content")))  # the harness's check output
    return str(prompt), turns


def build_run_view(summary: dict[str, Any], turn_records: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the viewer shows for one run."""
    transcript, missing = read_transcript(summary.get("folder"), summary.get("transcript"))
    prompt, turns = conversation_turns(transcript) if transcript else ("", [])
    figures = {t.get("turn"): {k: t.get(k) for k in TURN_FIGURES} for t in turn_records}
    for t in turns:
        t["figures"] = figures.pop(t["turn"], {})
    for number in sorted(n for n in figures if isinstance(n, int)):  # turns the transcript lacks
        turns.append({"turn": number, "content": cap_text(""), "reasoning": cap_text(""), "raw": cap_text(""),
                      "calls": [], "feedback": [], "figures": figures[number]})
    turns.sort(key=lambda t: t["turn"])
    checks = [{"name": str(c.get("name")), "passed": bool(c.get("passed")), "detail": cap_text(c.get("detail"), 3000)}
              for c in summary.get("checks") or [] if isinstance(c, dict)]
    explanation = summary.get("explanation") or ""
    last = turns[-1] if turns else None
    if explanation and last and (last["content"]["repeats"] or last["reasoning"]["repeats"]):
        # what a cut run so often is: a small model saying the same thing until the cap
        explanation += f"; turn {last['turn']}'s text repeats itself"
    return {**summary, "explanation": explanation, "prompt": cap_text(prompt), "turn_views": turns, "check_views": checks,
            "transcript_problem": missing, "error": cap_text((transcript or {}).get("error"), 2000)}


def shown_chars(view: dict[str, Any]) -> int:
    """Characters of conversation a run view puts in the page."""
    texts = [view["prompt"], view["error"], *(c["detail"] for c in view["check_views"])]
    for t in view["turn_views"]:
        texts += [t["content"], t["reasoning"], t["raw"], *t["feedback"]]
        texts += [x for c in t["calls"] for x in (c["arguments"], c["result"]) if x is not None]
    return sum(len(x["text"]) for x in texts)


def without_conversation(view: dict[str, Any], why: str) -> dict[str, Any]:
    """The run's figures, checks and reason, its conversation left to the transcript file."""
    empty = cap_text("")
    turns = [{**t, "content": empty, "reasoning": empty, "raw": empty, "calls": [], "feedback": []}
             for t in view["turn_views"]]
    return {**view, "prompt": empty, "turn_views": turns, "transcript_problem": why}


def load_run_views(report: dict[str, Any], budget_chars: int = PAGE_BUDGET_CHARS) -> list[dict[str, Any]]:
    """Every run of the report with its turns and conversation, read again from its folders. Past
    `budget_chars` of conversation the rest of the runs keep their figures, checks and reason, and
    name their transcript instead, so a sweep of hundreds of runs still makes a file a browser opens."""
    loaded = load_results([Path(s) for s in report["sources"]])
    by_run = turns_of_runs(loaded)
    turns_by_id = {run_id(r): by_run.get(run_key(r), []) for r in loaded.runs}
    views, spent = [], 0
    for summary in report["runs"]:
        view = build_run_view(summary, turns_by_id.get(summary["id"], []))
        size = shown_chars(view)
        if spent + size > budget_chars:
            where = f"{summary.get('folder')}/{summary.get('transcript')}" if summary.get("transcript") else "its folder"
            view = without_conversation(view, f"conversation left out to keep this file small; read it in {where}")
        else:
            spent += size
        views.append(view)
    return views
