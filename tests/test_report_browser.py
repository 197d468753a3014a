"""The HTML report in a real browser: headless Chromium screenshots it, and the picture is not blank.

Needs Chromium (Debian: `apt-get install -y chromium`); skipped, with the reason, where it is absent.
"""

import shutil
import subprocess

import pytest

from orchestrator.report.render import render
from orchestrator.report.build import build_report
from tests.helpers.report_results import write_two_models

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
TABLE_HEADER_RGB = (0x2F, 0x3B, 0x52)
"""The table header background in report_html's CSS: seeing it proves the inline style applied."""


def screenshot(html_path, png_path, profile_dir, size=(1280, 2000)) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile_dir}", f"--screenshot={png_path}", f"--window-size={size[0]},{size[1]}",
         html_path.as_uri()],
        capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_html_report_renders_in_headless_chromium(tmp_path):
    from PIL import Image

    report = build_report([write_two_models(tmp_path / "results")], compare_seed=True)
    html = tmp_path / "report.html"
    html.write_text(render(report, "html"), encoding="utf-8")
    png = tmp_path / "shot.png"
    done = screenshot(html, png, tmp_path / "profile", size=(1280, 6000))
    assert png.exists(), done.stderr[-2000:]
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 6000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 200  # text, tables and plots, not a blank or error page
    background = max(colours)[1]
    painted = sum(n for n, rgb in colours if rgb != background)
    assert painted > 0.05 * image.size[0] * image.size[1]
    assert any(rgb == TABLE_HEADER_RGB for _, rgb in colours)
    # the plots are drawn: pixels near matplotlib's default blue (the first model's markers and line;
    # the images are scaled, so colours blend at the edges)
    near_blue = sum(n for n, (r, g, b) in colours if abs(r - 0x1F) + abs(g - 0x77) + abs(b - 0xB4) < 40)
    assert near_blue > 300


def dump_dom(url: str, profile_dir) -> str:
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile_dir}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return done.stdout


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_a_link_to_a_run_opens_it_in_chromium(tmp_path):
    """Following a table's link to a run opens that run's folded <details>, and no other, with no script."""
    import re

    from tests.helpers.report_results import write_thinking_variants

    report = build_report([write_thinking_variants(tmp_path / "results")])
    html = tmp_path / "report.html"
    html.write_text(render(report, "html"), encoding="utf-8")
    closed = dump_dom(html.as_uri(), tmp_path / "p1")
    assert closed.count('<details class="run">') == 6 and '<details class="run" open' not in closed
    target = "run-thinker_on-config_read-raw-r1"
    opened = dump_dom(f"{html.as_uri()}#{target}", tmp_path / "p2")
    runs = re.findall(r'<details class="run"( open="")?>\s*<summary>(.*?)</summary>\s*<div class="run-body" id="([^"]+)"',
                      opened, re.S)
    assert [run_id for flag, _, run_id in runs if flag] == [target]
    assert len(runs) == 6


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_an_open_run_is_drawn_turn_by_turn(tmp_path):
    """The run viewer drawn by Chromium: the capped turn's red marker and the assistant text's blue."""
    from PIL import Image

    from orchestrator.report.html import CSS
    from orchestrator.report.html_runs import RUNS_CSS, render_runs
    from orchestrator.report.run_view import load_run_views
    from tests.helpers.report_results import write_thinking_variants

    report = build_report([write_thinking_variants(tmp_path / "results")])
    views = [v for v in load_run_views(report) if v["label"] == "thinker/on"]
    body = render_runs(views).replace('<details class="run">', '<details class="run" open>')
    page = tmp_path / "run.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{CSS}{RUNS_CSS}</style></head>"
                    f"<body><main>{body}</main></body></html>", encoding="utf-8")
    png = tmp_path / "run.png"
    done = screenshot(page, png, tmp_path / "profile", size=(1280, 1600))
    assert png.exists(), done.stderr[-2000:]
    colours = dict((rgb, n) for n, rgb in Image.open(png).convert("RGB").getcolors(maxcolors=1 << 20))
    assert colours.get((0xEE, 0xF5, 0xFF), 0) > 5000  # assistant text blocks (pre.assistant)
    assert colours.get((0xA8, 0x26, 0x1D), 0) > 500  # the cap: the red turn border and failure line
