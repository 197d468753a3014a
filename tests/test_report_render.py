"""The report's formats and verb: markdown, rich tables, JSON, the self-contained HTML, the CLI."""

import base64
import io
import json
import re
import subprocess
import sys

import pytest
from rich.console import Console

from orchestrator.report.plots import render_figures
from orchestrator.report.render import print_report, render, write_reports
from orchestrator.report.build import build_report
from tests.helpers.report_results import write_two_models

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_two_models(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def report(folder):
    return build_report([folder], compare_seed=True)


def _md_row(md: str, first_cell: str, after: str = "") -> list[str]:
    """The cells of the first table row starting with `first_cell` after the text `after`."""
    line = next(x for x in md[md.index(after):].splitlines() if x.startswith(f"| {first_cell} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_markdown_has_the_articles_table_shape_with_its_numbers_beside(report):
    md = render(report, "md")
    assert "| Task | Tier | alpha | beta | Gemma 4 (article) |" in md
    assert _md_row(md, "Read-fix-write")[:5] == ["Read-fix-write", "Basic", "2/3", "0/3", "3/3"]
    assert _md_row(md, "**Total**")[2:4] == ["**6/8 (+1 infra)**", "**5/9**"]
    assert "**20/30**" in md and "**13/30**" in md


def test_markdown_shows_every_section(report):
    md = render(report, "md")
    for heading in ("## Score (raw)", "## Score (harness)", "## Reliability", "## Failures", "## Performance",
                    "## Thinking tax", "## Raw vs harness", "Runs lost to infra_error"):
        assert heading in md
    assert _md_row(md, "alpha")[1:3] == ["0.75 (6/8)", "0.41–0.93"]
    assert "beta (×2 concurrent)" in md  # speed figures measured under concurrency say so
    beta = _md_row(md, "beta (×2 concurrent)", after="## Thinking tax")
    assert beta[1:3] == ["5/9", "300"] and beta[3:5] == ["—", "—"]  # thinking unknown, not 0
    assert "2/3 → 3/3 (+33)" in md


def test_json_carries_the_numbers_the_tables_show(report):
    data = json.loads(render(report, "json"))
    assert data == report
    table = render(report, "table")
    # spot-check numbers from each section of the terminal view against the JSON
    assert f"{data['performance']['alpha']['ttft_p90_s']:.2f}" in table
    assert f"({data['thinking_tax']['alpha']['useful_share'] * 100:.0f}%)" in table
    assert f"{data['harness_gap']['alpha']['extra_tokens_per_run']:+,.0f}" in table
    assert f"{data['reliability']['raw']['beta']['ci95'][1]:.2f}" in table


def test_terminal_summary_keeps_the_headline_sections(folder):
    buf = io.StringIO()
    print_report([folder], Console(file=buf, width=200, no_color=True))
    out = buf.getvalue()
    assert "Score (raw)" in out and "Reliability" in out and "Raw vs harness" in out
    assert "Failure reasons per task" not in out
    # alpha thought: the per-model thinking tax closes the summary, the per-task table stays behind
    assert "Thinking tax per run" in out and "Thinking tax per task" not in out


def test_terminal_summary_leaves_out_the_thinking_tax_when_nothing_thought(tmp_path):
    from orchestrator.results.records import ResultsDir, RunRecord

    results = ResultsDir(tmp_path)
    results.runs.write(RunRecord(model="plain", config_hash="h", backend="llamacpp", task="config_read",
                                 tier="basic", run=0, passed=True, reason=None, turns=1, tool_calls=1,
                                 malformed_calls=0, wall_s=1.0, thinking_tokens=0, completion_tokens=20))
    results.close()
    buf = io.StringIO()
    print_report([tmp_path], Console(file=buf, width=80, no_color=True))
    assert "Score (raw)" in buf.getvalue() and "Thinking tax" not in buf.getvalue()


def test_figures_are_pngs_and_an_empty_one_is_left_out(report):
    figures = render_figures(report)
    assert set(figures) == {"score_vs_decode", "score_vs_memory", "thinking_per_task", "thinking_tax",
                            "memory_over_turns", "raw_vs_harness"}
    assert all(png.startswith(PNG_MAGIC) and len(png) > 5000 for png in figures.values())
    no_thinking = {**report, "thinking_tax": {lab: {**t, "tasks": {k: {**v, "thinking_mean": None}
                                                                    for k, v in t["tasks"].items()}}
                                              for lab, t in report["thinking_tax"].items()}}
    assert "thinking_per_task" not in render_figures(no_thinking)
    no_split = {**report, "thinking_tax": {lab: {**t, "useful_share": None} for lab, t in report["thinking_tax"].items()}}
    assert "thinking_tax" not in render_figures(no_split)


def test_html_is_one_self_contained_file_with_its_plots(report):
    html = render(report, "html")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing to fetch
    assert "<script" not in html
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 6
    assert all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    assert '<td class="ref pass-none">0/3</td>' in html  # the article's columns set apart


def test_write_reports_writes_the_three_files(tmp_path):
    folder = write_two_models(tmp_path / "results")
    paths = write_reports(folder)
    assert set(paths) == {"md", "html", "json"}
    assert json.loads(paths["json"].read_text())["score"]["raw"]["total"]["alpha"]["passes"] == 6
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert not list(folder.glob("*.tmp"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "report", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_formats_and_output_file(folder, tmp_path):
    done = _cli(folder, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"]["raw"]["total"]["beta"]["passes"] == 5
    out = tmp_path / "r.html"
    done = _cli(folder, "--compare-seed", "--output", out)
    assert done.returncode == 0, done.stderr
    assert "(article)" in out.read_text()
    assert _cli(folder).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["/no/such/results"], "no such folder"),
    (["{folder}", "--output", "{tmp}/report.xyz"], "cannot tell the format"),
])
def test_cli_user_errors_are_one_line(folder, tmp_path, args, message):
    done = _cli(*[a.format(folder=folder, tmp=tmp_path) for a in args])
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
