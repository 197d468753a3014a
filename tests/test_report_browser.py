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
