"""The report as markdown (report.md) and as rich tables in the terminal.

Both render report_sections' tables, so they show the same numbers as the HTML and the JSON.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from orchestrator.report.sections import Section, Table, build_sections

SUMMARY_SECTIONS = ("Score", "Reliability", "Performance", "Raw vs harness")
"""What the end of `run`/`sweep` prints: the full report is a `siliconbench report` away."""


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


def rich_table(table: Table) -> RichTable:
    out = RichTable(show_lines=False)
    for i, header in enumerate(table.headers):
        names = i < table.left_columns  # names never break mid-word; figures may fold
        out.add_column(header, justify="left" if names else "right", no_wrap=names and i == 0, overflow="fold")
    first_total = len(table.rows) - table.total_rows
    for n, row in enumerate(table.rows):
        out.add_row(*row, end_section=n == first_total - 1 and table.total_rows > 0,
                    style="bold" if n >= first_total else None)
    return out


def print_sections(sections: list[Section], console: Console) -> None:
    for section in sections:
        console.rule(f"[bold]{section.title}")
        if section.intro:
            console.print(section.intro, style="dim", markup=False)
        for table in section.tables:
            if table.title:  # above the table, not squeezed to its width as rich's own title would be
                console.print(table.title, style="bold", markup=False)
            console.print(rich_table(table))


def print_tables(report: dict[str, Any], console: Console, summary: bool = False) -> None:
    """Rich tables on the console; `summary` keeps the sections a run's end needs."""
    console.print(_sources_line(report), markup=False)
    sections = build_sections(report)
    if summary:
        sections = [s for s in sections if s.title.startswith(SUMMARY_SECTIONS)]
        for s in sections:  # the per-task breakdowns stay in the full report
            s.tables = s.tables[:1] if s.title != "Reliability" else s.tables[::2]
    print_sections(sections, console)
