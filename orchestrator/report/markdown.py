"""The report as markdown (report.md).

It renders the sections' tables, so it shows the same numbers as the terminal, the HTML and the JSON.
"""

from __future__ import annotations

from typing import Any

from orchestrator.report.outline import build_sections
from orchestrator.report.sections import Table


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(table: Table) -> str:
    lines = []
    if table.title:
        lines += [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(map(_md_cell, table.headers)) + " |")
    lines.append("|" + "|".join(["---"] * table.left_columns + ["---:"] * (len(table.headers) - table.left_columns))
                 + "|")  # figures right-aligned
    first_total = len(table.rows) - table.total_rows
    for n, row in enumerate(table.rows):
        cells = [_md_cell(c) for c in row]
        if n >= first_total:  # totals in bold, as the article sets its Total row apart
            cells = [f"**{c}**" if c else c for c in cells]
        elif n in table.reference_rows:  # the article's published figures, not measured here
            cells = [f"*{c}*" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _sources_line(report: dict[str, Any]) -> str:
    return "Results: " + ", ".join(f"`{s}`" for s in report["sources"])


def render_markdown(report: dict[str, Any], figure_files: dict[str, str] | None = None) -> str:
    """The whole report; `figure_files` maps a figure name to an image path to link (report.md beside PNGs)."""
    parts = ["# siliconbench report", "", _sources_line(report), ""]
    for section in build_sections(report):
        parts += [f"## {section.title}", ""]
        if section.intro:
            parts += [section.intro, ""]
        for table in section.tables:
            parts += [md_table(table), ""]
        for name in section.figures:
            if figure_files and name in figure_files:
                parts += [f"![{name}]({figure_files[name]})", ""]
    return "\n".join(parts).rstrip() + "\n"
