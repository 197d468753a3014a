"""The report as one self-contained HTML file: inline CSS, plots embedded as base64 PNG, no scripts.

One file that opens anywhere (mailed, attached to an issue, opened from a results folder) with
nothing to fetch: no external stylesheet, font or image. Every run is in it too (html_runs.py), and
the summary tables link to them.
"""

from __future__ import annotations

import base64
import re
from html import escape
from typing import Any

from orchestrator.report.html_runs import RUNS_CSS, render_runs
from orchestrator.report.plots import FIGURE_TITLES
from orchestrator.report.outline import build_sections
from orchestrator.report.sections import DASH, Table

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       background: #f7f8fa; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d5dae3; }
h3 { font-size: 15px; margin: 20px 0 6px; color: #3a4356; }
p.intro, p.sources { color: #4a5468; margin: 4px 0 12px; max-width: 60em; }
code { background: #eceff4; padding: 1px 5px; border-radius: 3px; font-size: 13px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; margin: 4px 0 16px; font-size: 14px;
        box-shadow: 0 1px 2px rgba(0,0,0,.06); }
th, td { padding: 5px 12px; border-bottom: 1px solid #e4e7ed; text-align: right; white-space: nowrap; }
th.name, td.name { text-align: left; }
thead th { background: #2f3b52; color: #fff; font-weight: 600; position: sticky; top: 0; }
tbody tr:nth-child(even) td { background: #f9fafc; }
tr.total td { font-weight: 700; background: #eef1f6; }
tr.first-total td { border-top: 2px solid #9aa3b5; }
td.unknown { color: #9aa3b5; }
thead th.ref { background: #6b7689; font-weight: 500; font-style: italic; }
td.ref { background: #f1f2f5 !important; }
td a { color: inherit; text-decoration: underline dotted #9aa3b5; }
td.pass-all { color: #17703a; } td.pass-none { color: #a8261d; }
figure { display: inline-block; margin: 8px 16px 16px 0; background: #fff; padding: 8px;
         box-shadow: 0 1px 2px rgba(0,0,0,.08); }
figure img { max-width: 540px; height: auto; display: block; }
figcaption { font-size: 13px; color: #4a5468; margin-top: 4px; }
"""


SCORE_CELL = re.compile(r"(\d+)/(\d+)( \(\+\d+ infra\))?")


def _cell_class(text: str) -> str:
    """Colour a passes/runs cell: all passed green, none red; unknown grey. Other cells stay plain."""
    if text == DASH:
        return "unknown"
    match = SCORE_CELL.fullmatch(text)
    if not match or int(match[2]) == 0:
        return ""
    return "pass-all" if match[1] == match[2] else "pass-none" if match[1] == "0" else ""


def _td(text: str, name: bool, reference: bool, link: str | None = None) -> str:
    classes = " ".join(c for c in ("name" if name else "", "ref" if reference else "", _cell_class(text)) if c)
    inner = f'<a href="#{escape(link)}">{escape(text)}</a>' if link else escape(text)
    return f'<td class="{classes}">{inner}</td>' if classes else f"<td>{inner}</td>"


def html_table(table: Table) -> str:
    out = ['<div class="scroll">']
    if table.title:
        out.append(f"<h3>{escape(table.title)}</h3>")
    # the article's published columns are set apart from what was measured here
    reference = [h.endswith("(article)") for h in table.headers]
    heads = "".join(f'<th class="{"name" if i < table.left_columns else "ref" if reference[i] else ""}">'
                    f'{escape(h).replace(chr(10), "<br>")}</th>' for i, h in enumerate(table.headers))
    out.append(f"<table><thead><tr>{heads}</tr></thead><tbody>")
    first_total = len(table.rows) - table.total_rows
    for n, row in enumerate(table.rows):
        cls = "" if n < first_total else ' class="total first-total"' if n == first_total else ' class="total"'
        ref_row = n in table.reference_rows
        cells = "".join(_td(c, i < table.left_columns, reference[i] or ref_row, table.links.get((n, i)))
                        for i, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _figure(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    title = escape(FIGURE_TITLES.get(name, name))
    return (f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
            f"<figcaption>{title}</figcaption></figure>")


def render_html(report: dict[str, Any], figures: dict[str, bytes], run_views: list[dict[str, Any]] | None = None) -> str:
    """The whole report as one HTML document; `figures` are plots.render_figures' PNGs, `run_views`
    run_view.load_run_views' runs (left out: no run viewer)."""
    body = ["<h1>siliconbench report</h1>",
            '<p class="sources">Results: ' + ", ".join(f"<code>{escape(s)}</code>" for s in report["sources"])
            + (' · <a href="#runs">every run, turn by turn</a>' if run_views else "") + "</p>"]
    for section in build_sections(report):
        body.append(f"<h2>{escape(section.title)}</h2>")
        if section.intro:
            body.append(f'<p class="intro">{escape(section.intro)}</p>')
        body.extend(html_table(t) for t in section.tables)
        body.extend(_figure(name, figures[name]) for name in section.figures if name in figures)
    if run_views:
        requests = {m["label"]: m["variant_request"] for m in report["models"] if m.get("variant_request")}
        body.append(render_runs(run_views, requests))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>siliconbench report</title><style>{CSS}{RUNS_CSS}</style></head>\n"
            "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")
