"""The HTML report's run viewer: every run, openable, read turn by turn. No script: plain HTML.

Runs are grouped by model and task (the score table's cells link to a group); each run is a closed
<details> whose body holds the run's anchor, so following a link to a run opens it (browsers expand
a closed <details> around the target of a fragment link). Every text is escaped: it is model output.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from orchestrator.report.runs import model_anchor
from orchestrator.report.sections import DASH, GIB

LONG_RESULT_CHARS = 800
"""Tool results longer than this start folded."""

RUNS_CSS = """
.runs-index td a { text-decoration: none; }
.ok { color: #17703a; } .bad { color: #a8261d; } .infra { color: #8a6d00; }
.group { margin: 18px 0 8px; }
.group h4 { margin: 4px 0; font-size: 15px; }
details.run { background: #fff; margin: 6px 0; border: 1px solid #dde2ea; border-radius: 4px; }
details.run > summary { padding: 6px 10px; cursor: pointer; font-size: 14px; }
details.run[open] > summary { border-bottom: 1px solid #dde2ea; background: #f1f4f9; }
.run-body { padding: 8px 14px 12px; }
.why { font-weight: 600; margin: 4px 0 8px; }
.turn { border-left: 3px solid #c9d1de; margin: 12px 0; padding: 2px 0 2px 12px; }
.turn.length { border-left-color: #a8261d; }
.turn-head { font-size: 13px; color: #3a4356; margin-bottom: 4px; }
.turn-head b { color: #1d2330; }
.finish { padding: 0 6px; border-radius: 3px; background: #e4e8ef; }
.finish.length { background: #f6d5d2; color: #7a1b14; font-weight: 700; }
pre { white-space: pre-wrap; word-break: break-word; background: #f4f6f9; padding: 6px 8px; margin: 4px 0;
      font-size: 12.5px; max-height: 28em; overflow: auto; border-radius: 3px; }
pre.assistant { background: #eef5ff; }
pre.feedback { background: #fff6e0; }
.call { margin: 6px 0 6px 8px; }
.call-name { font: 600 13px ui-monospace, monospace; }
details.fold > summary { cursor: pointer; font-size: 13px; color: #4a5468; }
.flag { color: #a8261d; font-size: 12px; font-weight: 600; margin-left: 6px; }
table.checks td { white-space: normal; vertical-align: top; text-align: left; }
table.checks pre { max-height: 12em; }
"""


def _num(value: Any, fmt: str, suffix: str = "") -> str:
    return DASH if value is None else f"{value:{fmt}}{suffix}"


def _outcome(run: dict[str, Any]) -> tuple[str, str]:
    """(css class, short text) of a run's outcome."""
    if run["passed"]:
        return "ok", "✓ passed"
    if not run["scored"]:
        return "infra", "infra_error (not scored)"
    return "bad", f"✗ {run['reason'] or 'failed'}" + (" ✂ cap" if run["cut_by_cap"] else "")


def _text_block(value: dict[str, Any], css: str) -> str:
    flag = '<span class="flag">repeats itself</span>' if value.get("repeats") else ""
    return f'{flag}<pre class="{css}">{escape(value["text"])}</pre>'


def _fold(title: str, value: dict[str, Any], css: str = "", open_: bool = False) -> str:
    flag = ' <span class="flag">repeats itself</span>' if value.get("repeats") else ""
    return (f'<details class="fold"{" open" if open_ else ""}><summary>{escape(title)} '
            f'({value["chars"]:,} characters){flag}</summary><pre class="{css}">{escape(value["text"])}</pre></details>')


def _turn_head(t: dict[str, Any]) -> str:
    f = t.get("figures") or {}
    finish = f.get("finish_reason") or "unknown"
    parts = [f"<b>Turn {t['turn']}</b>", f'<span class="finish {escape(finish)}">{escape(finish)}</span>']
    parts.append(f"TTFT {_num(f.get('ttft_s'), '.2f', ' s')}")
    parts.append(f"decode {_num(f.get('decode_tps'), '.1f', ' tok/s')}")
    parts.append(f"prefill {_num(f.get('prefill_tps'), ',.0f', ' tok/s')}")
    tokens = f"{_num(f.get('completion_tokens'), ',d')} generated"
    if f.get("thinking_tokens") is not None:
        tokens += f" ({f['thinking_tokens']:,} thinking, {escape(str(f.get('thinking_tokens_source') or '?'))})"
    parts.append(tokens)
    parts.append(f"prompt {_num(f.get('prompt_tokens'), ',d')}")
    parts.append(f"wall {_num(f.get('wall_s'), '.2f', ' s')}")
    if f.get("server_peak_rss_bytes") is not None:
        parts.append(f"RSS {f['server_peak_rss_bytes'] / GIB:.2f} GiB")
    if f.get("gpu_used_bytes") is not None:
        parts.append(f"GPU {f['gpu_used_bytes'] / GIB:.1f} GiB")
    if f.get("warm") is False:
        parts.append("cold server")
    return '<div class="turn-head">' + " · ".join(parts) + "</div>"


def _turn(t: dict[str, Any]) -> str:
    finish = (t.get("figures") or {}).get("finish_reason")
    out = [f'<div class="turn{" length" if finish == "length" else ""}">', _turn_head(t)]
    if t["reasoning"]["chars"]:
        out.append(_fold("Reasoning", t["reasoning"], "reasoning"))
    if t["content"]["chars"]:
        out.append(_text_block(t["content"], "assistant"))
    elif not t["calls"] and t["raw"]["chars"]:
        out.append(_fold("Raw output", t["raw"], "assistant", open_=True))
    for call in t["calls"]:
        out.append(f'<div class="call"><div class="call-name">→ {escape(str(call["name"]))}</div>'
                   f'<pre class="args">{escape(call["arguments"]["text"])}</pre>')
        if call["result"] is not None:
            out.append(_fold("Result", call["result"], open_=call["result"]["chars"] <= LONG_RESULT_CHARS))
        out.append("</div>")
    for fb in t["feedback"]:
        out.append('<div class="call-name">harness feedback</div>' + _text_block(fb, "feedback"))
    out.append("</div>")
    return "\n".join(out)


def _checks(run: dict[str, Any]) -> str:
    if not run["check_views"]:
        return ""
    rows = "".join(f'<tr><td class="{"ok" if c["passed"] else "bad"}">{"✓" if c["passed"] else "✗"} '
                   f'{escape(c["name"])}</td><td>{"<pre>" + escape(c["detail"]["text"]) + "</pre>" if c["detail"]["chars"] else ""}'
                   f"</td></tr>" for c in run["check_views"])
    return f'<table class="checks"><thead><tr><th class="name">Check</th><th class="name">What it saw</th></tr></thead><tbody>{rows}</tbody></table>'


def _run(run: dict[str, Any]) -> str:
    cls, outcome = _outcome(run)
    turns = DASH if run["turns"] is None else f"{run['turns']} turn" + ("" if run["turns"] == 1 else "s")
    head = (f"run {run['run']} · <span class=\"{cls}\">{escape(outcome)}</span> · {turns} · "
            f"{_num(run['wall_s'], '.1f', ' s')}")
    body = [f'<div class="run-body" id="{escape(run["id"])}">']
    if run["explanation"]:
        body.append(f'<p class="why {cls}">{escape(run["explanation"])}</p>')
    if run["error"]["chars"] and run["scored"]:
        body.append(_fold("Loop error", run["error"]))
    body.append(_checks(run))
    if run["transcript_problem"]:
        body.append(f'<p class="intro">{escape(run["transcript_problem"])}</p>')
    if run["prompt"]["chars"]:
        body.append(_fold("Task prompt", run["prompt"]))
    body.extend(_turn(t) for t in run["turn_views"])
    body.append("</div>")
    return f'<details class="run"><summary>{head}</summary>\n' + "\n".join(body) + "\n</details>"


def _index(label: str, runs: list[dict[str, Any]], request: dict[str, Any] | None = None) -> str:
    """One model's runs at a glance: a row per task and mode, a linked cell per run."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault(r["group"], []).append(r)
    width = max(len(g) for g in groups.values())
    rows = []
    for group in groups.values():
        first = group[0]
        cells = "".join(f'<td><a class="{_outcome(r)[0]}" href="#{escape(r["id"])}">{escape(_outcome(r)[1])}</a></td>'
                        for r in sorted(group, key=lambda r: r["run"] or 0))
        rows.append(f'<tr><td class="name"><a href="#{escape(first["group"])}">{escape(first["title"])}</a></td>'
                    f'<td class="name">{escape(first["mode"])}</td>{cells}{"<td></td>" * (width - len(group))}</tr>')
    heads = "".join(f"<th>run {i}</th>" for i in range(width))
    sent = (f'<p class="intro">This variant\'s requests carried <code>{escape(json.dumps(request, sort_keys=True))}'
            "</code>.</p>") if request else ""
    return (f'<div class="scroll"><h3 id="{escape(model_anchor(label))}">{escape(label)}</h3>{sent}<table class="runs-index"><thead><tr><th class="name">Task</th>'
            f'<th class="name">Mode</th>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def render_runs(views: list[dict[str, Any]], requests: dict[str, dict[str, Any]] | None = None) -> str:
    """The Runs section: an index per model, then every run grouped by model, task and mode."""
    if not views:
        return ""
    out = ['<h2 id="runs">Runs</h2>',
           '<p class="intro">Every run, as recorded. Open one to read it turn by turn: reasoning folded, tool '
           "calls with their arguments and results, each turn's figures, the checks and what they saw. "
           "✂ cap: the last turn was cut by the token cap (finish reason <code>length</code>).</p>"]
    by_label: dict[str, list[dict[str, Any]]] = {}
    for v in views:
        by_label.setdefault(v["label"], []).append(v)
    for label, runs in by_label.items():
        out.append(_index(label, runs, (requests or {}).get(label)))
    for label, runs in by_label.items():
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in runs:
            groups.setdefault(r["group"], []).append(r)
        for gid, group in groups.items():
            out.append(f'<div class="group" id="{escape(gid)}"><h4>{escape(label)} · {escape(group[0]["title"])} '
                       f'({escape(group[0]["mode"])})</h4>')
            out.extend(_run(r) for r in sorted(group, key=lambda r: r["run"] or 0))
            out.append("</div>")
    return "\n".join(out)
