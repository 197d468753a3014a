"""The report's library entry points: build from results folders, render in a format, write the files.

`run` and `sweep` call `print_report` and `write_reports` at their end; `siliconbench report` calls
`render`. Everything here reads only the results folders.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from orchestrator.report.build import build_report

FORMATS = ("table", "md", "html", "json")


def render(report: dict[str, Any], fmt: str, width: int = 80) -> str:
    """The report as text in one of FORMATS (`table`: the rich tables, without colour codes)."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "md":
        from orchestrator.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from orchestrator.report.html import render_html
        from orchestrator.report.plots import render_figures
        from orchestrator.report.run_view import load_run_views

        return render_html(report, render_figures(report), load_run_views(report))
    if fmt == "table":
        from orchestrator.report.terminal import print_tables

        buf = io.StringIO()
        print_tables(report, Console(file=buf, width=width, no_color=True, highlight=False))
        return buf.getvalue()
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def print_report(results_dirs: list[Path], console: Console) -> None:
    """The terminal summary for the end of a run or sweep: score, reliability, speed, harness gap."""
    from orchestrator.report.terminal import print_tables

    print_tables(build_report(list(results_dirs)), console, summary=True)


def write_reports(results_dir: Path, compare_seed: bool = False) -> dict[str, Path]:
    """Write report.md, report.html and report.json into the results folder; returns their paths."""
    results_dir = Path(results_dir)
    report = build_report([results_dir], compare_seed=compare_seed)
    paths = {}
    for fmt, name in (("md", "report.md"), ("html", "report.html"), ("json", "report.json")):
        path = results_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(render(report, fmt), encoding="utf-8")
        tmp.replace(path)  # never a half-written report beside the results
        paths[fmt] = path
    return paths
