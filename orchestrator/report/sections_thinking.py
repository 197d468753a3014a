"""The thinking-tax and finish-reason tables, and the article's thinking-tax table beside ours.

Built from report["thinking_tax"] and report["finish_reasons"]; the variants of one model (thinking
off, on, budgeted) are rows next to each other, since the models list keeps them together.
"""

from __future__ import annotations

from typing import Any

from orchestrator.report.runs import model_anchor, task_anchor
from orchestrator.report.sections import DASH, Section, Table, model_name, num

SOURCE_SHORT = {"server_usage": "server", "tokenizer": "tokenizer", "estimate": "estimate"}


def sources_text(counts: dict[str, int]) -> str:
    """Where thinking counts came from: one name, or each with its number of turns."""
    if not counts:
        return DASH
    if len(counts) == 1:
        return SOURCE_SHORT.get(next(iter(counts)), next(iter(counts)))
    return ", ".join(f"{SOURCE_SHORT.get(s, s)} {n}" for s, n in counts.items())


def _useful(s: dict[str, Any]) -> str:
    if s["useful_mean"] is None:
        return DASH
    share = f" ({100 * s['useful_share']:.0f}%)" if s["useful_share"] is not None else ""
    return f"{s['useful_mean']:,.0f}{share}"


def _cap(s: dict[str, Any]) -> str:
    """Turns that hit the cap / runs whose last turn it cut."""
    return DASH if s["capped_turns"] is None else f"{s['capped_turns']} / {s['runs_cut_by_cap']}"


def _row(s: dict[str, Any]) -> list[str]:
    return [f"{s['passes']}/{s['runs']}", num(s["generated_mean"], 0), num(s["thinking_mean"], 0), _useful(s),
            num(s["decode_tps_median"]), num(s["effective_tps"]), num(s["thinking_s_mean"]), _cap(s),
            sources_text(s["thinking_sources"])]


FIGURE_HEADS = ["passes", "generated\ntok", "thinking\ntok", "useful tok\n(share)", "decode\ntok/s",
                "useful\ntok/s", "thinking\ns", "cap: turns\n/ runs cut", "thinking\ncounted by"]


def thinking_tax_tables(report: dict[str, Any]) -> list[Table]:
    tax, mode = report["thinking_tax"], report["primary_mode"]
    labels = [m["label"] for m in report["models"] if tax[m["label"]]["runs"]]
    per_model = Table(["Model"] + FIGURE_HEADS, [[model_name(report, lab, speed=True)] + _row(tax[lab]) for lab in labels],
                      title=f"Thinking tax per run, mean ({mode} runs)",
                      links={(i, 0): model_anchor(lab) for i, lab in enumerate(labels)})
    rows, links = [], {}
    # per model, per task, its variants next to each other: off, on and budgeted on the same task
    by_model: dict[str, list[str]] = {}
    for m in report["models"]:
        if m["label"] in labels:
            by_model.setdefault(m["model"], []).append(m["label"])
    for variants in by_model.values():
        for t in report["tasks"]:
            for lab in variants:
                s = tax[lab]["tasks"].get(t["id"])
                if s:
                    links[(len(rows), 1)] = task_anchor(lab, t["id"], mode)
                    rows.append([lab, t["title"]] + _row(s))
    per_task = Table(["Model", "Task"] + FIGURE_HEADS, rows, title=f"Thinking tax per task, mean per run ({mode})",
                     left_columns=2, links=links)
    verdict = {True: "yes", False: "no", None: DASH}
    think_more = Table(["Model", "thinking tok,\npassed runs", "thinking tok,\nfailed runs", "failed thought\nmore?"],
                       [[lab, num(tax[lab]["thinking_passed_mean"], 0), num(tax[lab]["thinking_failed_mean"], 0),
                         verdict[tax[lab]["failed_thought_more"]]] for lab in labels],
                       title="Did failed runs think more than passed ones? (mean per run)")
    return [per_model, per_task, think_more]


def finish_table(report: dict[str, Any], mode: str) -> Table | None:
    """Turns by finish reason per model; None when no turn of this mode was recorded."""
    fin = report["finish_reasons"][mode]
    labels = [m["label"] for m in report["models"] if fin[m["label"]]["turns"]]
    if not labels:
        return None
    others = sorted({k for lab in labels for k in fin[lab]["finish_reasons"]} - {"tool_calls", "stop", "length"})
    rows = []
    for lab in labels:
        f, counts = fin[lab], fin[lab]["finish_reasons"]
        rows.append([lab, str(f["turns"]), str(counts.get("tool_calls", 0)), str(counts.get("stop", 0)),
                     str(counts.get("length", 0))] + [str(counts.get(o, 0)) for o in others]
                    + [f"{f['runs_cut_by_cap']} ({f['failed_runs_cut_by_cap']})",
                       DASH if f["max_tokens"] is None else f"{f['max_tokens']:,}",
                       _lost(f.get("turns_with_lost_calls"))])
    return Table(["Model", "turns", "tool\ncalls", "stop", "length\n(cap)"] + others
                 + ["runs cut by cap\n(failed)", "max_tokens", "lost\ncalls"], rows,
                 title=f"How turns ended: finish reasons ({mode})",
                 links={(i, 0): model_anchor(lab) for i, lab in enumerate(labels)})


def _lost(turns: int | None) -> str:
    """Turns whose call the server lost (the kinds are in the JSON report: losses.py names them)."""
    return DASH if turns is None else str(turns)


def seed_thinking_table(report: dict[str, Any]) -> Table | None:
    """The article's thinking-tax rows, each followed by the measured rows of the matching model."""
    if not report.get("seed"):
        return None
    seed, tax = report["seed"]["thinking_tax"], report["thinking_tax"]
    rows, reference = [], set()
    for s in seed["models"]:
        reference.add(len(rows))
        rows.append([f"{s['name']} (article)", f"{s['tokens']:,}", f"{s['useful']:,} ({100 * s['useful_share']:.0f}%)",
                     num(s["seconds"]), num(s["effective_tps"]), num(s.get("decode_tps")),
                     str(s["capped_tasks"]) + " tasks" if s.get("capped_tasks") else DASH])
        for m in report["models"]:
            t = tax[m["label"]]
            if m["model"] == s["config"] and t["runs"]:
                rows.append([model_name(report, m["label"], speed=True), num(t["generated_mean"], 0), _useful(t),
                             num(t["model_s_mean"]), num(t["effective_tps"]), num(t["decode_tps_median"]),
                             f"{t['runs_cut_by_cap']} run" + ("" if t["runs_cut_by_cap"] == 1 else "s")])
    return Table(["Model", "generated\ntok", "useful tok\n(share)", "seconds", "useful\ntok/s", "decode\ntok/s",
                  "cut by\ncap"], rows, title="Beside the article's thinking-tax table", reference_rows=reference)


def thinking_section(report: dict[str, Any]) -> Section:
    tables = thinking_tax_tables(report)
    seed = seed_thinking_table(report)
    intro = ("Means per scored run. Generated tokens: the server's usage count (thinking included); thinking "
             "tokens name their source per turn (server usage, the model's tokenizer, or an estimate); useful = "
             "generated - thinking. Useful tok/s = useful tokens / seconds the model spent answering (tool time "
             f"left out). Cap: turns ended by the token cap / runs whose last turn it cut. {DASH} = not measured.")
    if seed:
        intro += (" The article measured one task (a rate limiter) per model; ours are means over the tasks run,"
                  " its seconds are generation time like ours.")
    return Section("Thinking tax", intro, tables + ([seed] if seed else []), ["thinking_tax", "thinking_per_task"])
