"""Every verb's terminal output reads at 80 columns: no line wider, no usage mistake as a traceback.

Run as a user runs it (a subprocess with COLUMNS=80, output piped); `run` and `sweep` print their
end-of-run report through the same tables as `report`, tested in test_report_terminal.py.
"""

import os
import subprocess
import sys

import pytest

from tests.helpers.report_results import write_thinking_variants, write_two_models

WIDTH = 80
VERBS = [
    ["--help"], ["run", "--help"], ["sweep", "--help"], ["serve", "--help"], ["report", "--help"],
    ["size", "--help"], ["models", "--help"], ["tasks", "--help"], ["doctor", "--help"],
    ["models", "list"], ["tasks", "list"], ["tasks", "show", "config_read"], ["tasks", "show", "feature_addition"],
    ["size"], ["size", "--mac", "Mac Studio (2025) M3 Ultra"], ["doctor"],
]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(WIDTH), "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) > WIDTH]


@pytest.mark.parametrize("args", VERBS, ids=lambda a: " ".join(a))
def test_every_verb_fits_80_columns(args):
    done = cli(*args)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stdout.strip(), done.stderr[-2000:]
    assert not too_wide(done.stdout), too_wide(done.stdout)


def test_models_list_keeps_every_name_whole():
    out = cli("models", "list").stdout
    for name in ("qwen3-coder-next", "devstral-2-123b", "smollm2-135m *"):
        assert name in out  # one line each, not folded letter by letter into a narrow column


def test_the_report_on_thinking_variants_fits(tmp_path):
    folders = [write_two_models(tmp_path / "a"), write_thinking_variants(tmp_path / "b", model="qwen3.5-27b")]
    done = cli("report", *map(str, folders), "--compare-seed")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not too_wide(done.stdout)


@pytest.mark.parametrize("args", [["tasks", "check", "config_read"], ["report", "--format", "xml", "."],
                                  ["sweep"], ["run", "--runs", "zero"]], ids=lambda a: " ".join(a))
def test_a_usage_mistake_is_a_usage_message_not_a_traceback(args):
    done = cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Error" in done.stderr
