"""The report as rich tables in a terminal, readable at 80 columns.

A table wider than the console is split by columns, never squeezed: the name columns repeat in each
part and the figure columns are shared out so each part fits. Folding figures inside a narrow column
("0.75 (6/8)" over two lines) is what made wide reports unreadable.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from orchestrator.report.outline import build_sections
from orchestrator.report.sections import Section, Table

SUMMARY_SECTIONS = ("Score", "Reliability", "Performance", "Raw vs harness")
"""What the end of `run`/`sweep` prints: the full report is a `siliconbench report` away."""
CELL_PADDING = 2
"""rich pads each cell by one space either side."""


def column_width(table: Table, i: int) -> int:
    """The width column i needs without folding: its longest cell or header line."""
    lines = [line for row in table.rows for line in row[i].split("\n")] + table.headers[i].split("\n")
    return max((len(x) for x in lines), default=0)


def table_width(widths: list[int]) -> int:
    """Width of a rich table with these column widths: padding, a rule between columns, two edges."""
    return sum(w + CELL_PADDING for w in widths) + len(widths) + 1


def split_columns(table: Table, width: int) -> list[Table]:
    """The table as parts no wider than `width`, each keeping the name columns; itself if it fits."""
    widths = [column_width(table, i) for i in range(len(table.headers))]
    if table_width(widths) <= width or len(table.headers) <= table.left_columns + 1:
        return [table]
    names = list(range(table.left_columns))
    parts: list[list[int]] = [[]]
    for i in range(table.left_columns, len(table.headers)):
        trial = names + parts[-1] + [i]
        if parts[-1] and table_width([widths[j] for j in trial]) > width:
            parts.append([])
        parts[-1].append(i)
    out = []
    for n, part in enumerate(parts):
        keep = names + part
        title = f"{table.title} (part {n + 1} of {len(parts)})".strip()
        out.append(Table([table.headers[i] for i in keep], [[row[i] for i in keep] for row in table.rows],
                         title=title, total_rows=table.total_rows, left_columns=table.left_columns,
                         reference_rows=table.reference_rows))
    return out


def rich_table(table: Table) -> RichTable:
    out = RichTable(show_lines=False)
    for i, header in enumerate(table.headers):
        names = i < table.left_columns  # names never break mid-word; figures may fold
        out.add_column(header, justify="left" if names else "right", no_wrap=names and i == 0, overflow="fold")
    first_total = len(table.rows) - table.total_rows
    for n, row in enumerate(table.rows):
        style = "bold" if n >= first_total else "italic" if n in table.reference_rows else None
        out.add_row(*row, end_section=n == first_total - 1 and table.total_rows > 0, style=style)
    return out


def print_sections(sections: list[Section], console: Console) -> None:
    for section in sections:
        console.rule(f"[bold]{section.title}")
        if section.intro:
            console.print(section.intro, style="dim", markup=False)
        for whole in section.tables:
            for table in split_columns(whole, console.width):
                if table.title:  # above the table, not squeezed to its width as rich's own title would be
                    console.print(table.title, style="bold", markup=False)
                console.print(rich_table(table))


def print_tables(report: dict[str, Any], console: Console, summary: bool = False) -> None:
    """Rich tables on the console; `summary` keeps the sections a run's end needs."""
    console.print("Results: " + ", ".join(report["sources"]), markup=False)
    sections = build_sections(report)
    if summary:
        # the thinking tax too, once some model thought: it is what a thinking-variant sweep is for
        thought = any(t.get("thinking_mean") for t in report.get("thinking_tax", {}).values())
        keep = SUMMARY_SECTIONS + (("Thinking tax",) if thought else ())
        sections = [s for s in sections if s.title.startswith(keep)]
        for s in sections:  # the per-task breakdowns stay in the full report
            s.tables = s.tables[:1] if s.title != "Reliability" else s.tables[::2]
    print_sections(sections, console)
