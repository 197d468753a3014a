"""A finished run's progress line fits the terminal: the verdict and reason always whole, long model and
task names shortened (model first), figures compact only when the names would otherwise vanish."""

import pytest

from orchestrator.cli.progress import run_line
from orchestrator.results.records import RunRecord


def record(**extra):
    base = dict(model="smollm2-135m", config_hash="h", backend="llamacpp", task="config_read", tier="basic",
                run=0, passed=True, reason=None, turns=3, tool_calls=3, malformed_calls=0, wall_s=5.6)
    return RunRecord(**{**base, **extra})


def test_a_short_run_line_is_left_whole():
    assert run_line(record(), 80).plain == "  smollm2-135m config_read r0: pass  3 turns, 3 calls, 5.6 s"


@pytest.mark.parametrize("width", [80, 100, 120])
def test_long_names_are_shortened_and_the_verdict_kept(width):
    long = record(model="qwen3-coder-next+budget-1024", task="multi_file_investigation", run=2,
                  mode="claude-code", passed=False, reason="parser_dropped_call", turns=10, tool_calls=23,
                  wall_s=123.4)
    line = run_line(long, width).plain
    assert len(line) <= width
    assert "fail parser_dropped_call" in line and "r2 (claude-code)" in line and "…" in line
    assert line.rstrip().endswith("s"), "the figures were cut"
    model_part = line.split()[0]
    assert model_part.startswith("qwen3-c")


def test_the_model_label_gives_way_before_the_task():
    line = run_line(record(model="a-very-long-model-label-from-a-sweep+budget-4096", task="tdd"), 80).plain
    assert " tdd r0: pass" in line and len(line) <= 80
