"""`siliconbench report RESULTS_DIR... [--format md|html|json|table] [--output FILE] [--compare-seed]`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from orchestrator.errors import UserError


class ReportFormat(str, Enum):
    table = "table"
    md = "md"
    html = "html"
    json = "json"


SUFFIX_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json",
                  ".txt": "table"}


def pick_format(fmt: ReportFormat | None, output: Path | None) -> str:
    """--format if given; else what --output's suffix says; else tables on the terminal."""
    if fmt is not None:
        return fmt.value
    if output is None:
        return "table"
    if output.suffix.lower() not in SUFFIX_FORMATS:
        raise UserError(f"--output {output}: cannot tell the format from '{output.suffix}'; "
                        "add --format md, html, json or table")
    return SUFFIX_FORMATS[output.suffix.lower()]


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        results: list[Path] = typer.Argument(..., metavar="RESULTS_DIR...", help="Results folders to report on."),
        fmt: ReportFormat | None = typer.Option(None, "--format", help="table (default), md, html or json."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
        compare_seed: bool = typer.Option(False, "--compare-seed", help="Put the article's published results beside."),
    ) -> None:
        """Score, reliability, failures, speed, memory and thinking tax from results folders."""
        from rich.console import Console

        from orchestrator.report.render import render
        from orchestrator.report.build import build_report

        chosen = pick_format(fmt, output)
        report = build_report(results, compare_seed=compare_seed)
        if output is None and chosen == "table":
            from orchestrator.report.terminal import print_tables

            print_tables(report, Console())
            return
        text = render(report, chosen)
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise UserError(f"--output {output}: cannot write ({err.strerror})") from None
        typer.echo(f"wrote {output}")
