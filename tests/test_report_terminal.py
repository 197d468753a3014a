"""The report in a terminal of 80 columns: wide tables split by columns, never squeezed or cut."""

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from orchestrator.report.build import build_report
from orchestrator.report.sections import Table
from orchestrator.report.terminal import print_tables, split_columns, table_width
from tests.helpers.report_results import write_thinking_variants, write_two_models

WIDTH = 80


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("term")
    return [write_two_models(root / "two"), write_thinking_variants(root / "variants", model="qwen3.5-27b")]


def _printed(report, width=WIDTH, summary=False) -> str:
    buf = io.StringIO()
    print_tables(report, Console(file=buf, width=width, no_color=True, highlight=False), summary=summary)
    return buf.getvalue()


@pytest.mark.parametrize("summary", [False, True])
def test_every_line_fits_80_columns_and_no_figure_is_folded(folders, summary):
    report = build_report(folders, compare_seed=True)
    text = _printed(report, summary=summary)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    # figures whole on one line, not broken over two by a squeezed column
    for figure in ("6/8 (+1 infra)", "0.41–0.93", "22/30"):
        assert figure in text
    if not summary:
        for figure in ("tokenizer 2, estimate 1", "35 (8%)", "3,986", "600 (15%)", "qwen3.5-27b/budget-128"):
            assert figure in text


def test_split_tables_keep_their_names_and_every_column_once():
    headers = ["Model", "Task"] + [f"figure number {i}" for i in range(12)]
    rows = [["qwen3.5-27b/budget-1024", "Multi-file investigation"] + [f"{i * 1000:,}" for i in range(12)]]
    table = Table(headers, rows, title="Wide", left_columns=2)
    parts = split_columns(table, WIDTH)
    assert len(parts) > 1
    seen = []
    for part in parts:
        assert part.headers[:2] == ["Model", "Task"] and part.rows[0][:2] == rows[0][:2]
        widths = [max(len(h), len(c)) for h, c in zip(part.headers, part.rows[0])]
        assert table_width(widths) <= WIDTH
        seen += part.headers[2:]
    assert seen == headers[2:]
    assert [p.title for p in parts][:2] == [f"Wide (part 1 of {len(parts)})", f"Wide (part 2 of {len(parts)})"]
    assert split_columns(Table(["A", "B"], [["1", "2"]]), WIDTH)[0].title == ""  # fits: untouched


def test_the_cli_reads_at_80_columns(folders):
    env = {**os.environ, "COLUMNS": str(WIDTH), "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "report", *map(str, folders),
                           "--compare-seed"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Thinking tax" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= WIDTH
