"""`siliconbench tasks list | show | check` as users run them, and every failure reason reachable.

Each failure reason of the fixed list is produced by a trajectory replayed through `tasks check` (the
real tools and graders); `infra_error` cannot come from a trajectory (it is a server fault) and is
produced by a real run in test_cli_run_behaviours.py. The trajectories are built here from the task's
own files, so they test the grading rules, not the shipped trajectory files.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.taskdef import TASK_ORDER, load_task
from orchestrator.trajectory import FAILURE_REASONS

FIX = "read_fix_write"
FIX_FILE = "utils/pagination.py"


def cli(*args):
    return CliRunner().invoke(app, list(args))


def call(name, **arguments):
    return {"name": name, "arguments": arguments}


def reference_fix() -> str:
    turns = json.loads((load_task(FIX).trajectories / "reference.json").read_text())["turns"]
    writes = [c["arguments"]["content"] for t in turns for c in t.get("tool_calls", [])
              if c["name"] == "write_file" and c["arguments"]["path"] == FIX_FILE]
    return writes[-1]


def original(path: str) -> str:
    return (load_task(FIX).repo / path).read_text()


def without_tests_after_last_write(task_id: str) -> list[dict]:
    """The task's reference, minus every test run after its last write."""
    turns = json.loads((load_task(task_id).trajectories / "reference.json").read_text())["turns"]
    last_write = max(i for i, t in enumerate(turns) if any(c["name"] == "write_file" for c in t.get("tool_calls", [])))
    kept = []
    for i, turn in enumerate(turns):
        calls = [c for c in turn.get("tool_calls", []) if i <= last_write or c["name"] != "run_command"]
        if turn.get("tool_calls") and not calls:
            continue
        kept.append({**turn, "tool_calls": calls} if turn.get("tool_calls") else turn)
    return kept


MARKUP = '<tool_call>\n{"name": "read_file", "arguments": {"path": "utils/pagination.py"}}\n</tool_call>'
READ_README = {"tool_calls": [call("read_file", path="README.md")]}
DISTINCT_SEARCHES = [{"tool_calls": [call("search_code", pattern=f"page{n}")]} for n in range(12)]

# reason -> (task, turns). Several cases sit on a rule's boundary (two identical calls are not a loop).
CASES = {
    "no_tool_calls": (FIX, lambda: [{"content": "The bug is in paginate; it starts one page late."}]),
    "invalid_tool_calls": (FIX, lambda: [{"tool_calls": [{"name": "read_file", "arguments": '{"path": '}]},
                                         {"tool_calls": [{"name": "open_file", "arguments": {"path": "x"}}]},
                                         {"content": "I could not read it."}]),
    "parser_dropped_call": (FIX, lambda: [{"content": MARKUP}]),
    "parser_dropped_call-after_calls": (FIX, lambda: [READ_README, {"content": "Reading it now.\n" + MARKUP}]),
    "truncated": (FIX, lambda: [READ_README, {"content": "The fix is to change the start in pagin",
                                              "finish_reason": "length"}]),
    "never_wrote": (FIX, lambda: [READ_README, READ_README, {"content": "Fixed."}]),
    "looping": (FIX, lambda: [READ_README] * 3 + [{"content": "Fixed."}]),
    "out_of_turns": (FIX, lambda: DISTINCT_SEARCHES),
    "out_of_turns-answer_task": ("config_read", lambda: DISTINCT_SEARCHES),
    "looping-answer_task": ("config_read", lambda: [{"tool_calls": [call("read_file", path="README.md")]}] * 12),
    "wrong_fix": (FIX, lambda: [{"tool_calls": [call("write_file", path=FIX_FILE,
                                                     content=original(FIX_FILE) + "\n# fixed\n")]},
                                {"tool_calls": [call("run_command", command="pytest -q")]}, {"content": "Fixed."}]),
    "collateral_damage": (FIX, lambda: [{"tool_calls": [call("write_file", path=FIX_FILE, content=reference_fix()),
                                                        call("write_file", path="README.md", content="gone\n")]},
                                        {"content": "Fixed."}]),
    "collateral_damage-broken_tests": (FIX, lambda: [{"tool_calls": [
        call("write_file", path=FIX_FILE, content=reference_fix()),
        call("write_file", path="tests/test_page_links.py", content="def test_x():\n    assert False\n")]},
        {"content": "Fixed."}]),
    "wrong_answer": ("config_read", lambda: [{"tool_calls": [call("read_file", path="config/production.toml")]},
                                             {"content": "3 retries, and the first backoff is 5 seconds."}]),
    "no_verification": ("full_debug_cycle", lambda: without_tests_after_last_write("full_debug_cycle")),
}


def check(task_id: str, turns: list[dict], tmp_path: Path) -> dict:
    path = tmp_path / "trajectory.json"
    path.write_text(json.dumps({"turns": turns}))
    result = cli("tasks", "check", task_id, "--trajectory", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_failure_reason_is_produced_by_a_trajectory(case, tmp_path):
    task_id, turns = CASES[case]
    outcome = check(task_id, turns(), tmp_path)
    assert outcome["passed"] is False
    assert outcome["reason"] == case.split("-")[0], [c for c in outcome["checks"] if not c["passed"]]


def test_the_cases_cover_every_reason_but_the_server_fault():
    covered = {case.split("-")[0] for case in CASES}
    assert covered == set(FAILURE_REASONS) - {"infra_error"}


def test_the_reference_fix_passes_and_a_missing_verification_is_the_only_difference(tmp_path):
    outcome = check(FIX, [{"tool_calls": [call("write_file", path=FIX_FILE, content=reference_fix())]},
                          {"content": "Fixed."}], tmp_path)
    assert outcome["passed"] is True and outcome["reason"] is None
    full = check("full_debug_cycle", json.loads((load_task("full_debug_cycle").trajectories / "reference.json")
                                                .read_text())["turns"], tmp_path)
    assert full["passed"] is True


def test_tasks_list_shows_the_ten_tasks_in_order_with_tiers():
    data = json.loads(cli("tasks", "list", "--format", "json").output)["tasks"]
    assert [t["id"] for t in data] == list(TASK_ORDER)
    assert [t["tier"] for t in data] == ["basic"] * 3 + ["intermediate"] * 3 + ["advanced"] * 4
    assert all(t["title"] for t in data)
    table = cli("tasks", "list")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    rows = [next(i for i, line in enumerate(lines) if f" {task_id} " in line) for task_id in TASK_ORDER]
    assert rows == sorted(rows), "the table lists the tasks in the article's order"


def test_tasks_show_prints_prompt_files_and_what_passes():
    task = load_task(FIX)
    result = CliRunner().invoke(app, ["tasks", "show", FIX], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert " ".join(task.prompt.split()) in text and " ".join(task.passes_when.split()) in text
    for path in (FIX_FILE, "search/api.py", "tests/test_page_links.py", "README.md"):
        assert path in result.output
    assert "hidden" not in result.output.lower().split("passes when")[0], "the hidden tests are not listed"


def test_tasks_check_prints_the_verdict_and_each_check(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"turns": CASES["wrong_fix"][1]()}))
    result = CliRunner().invoke(app, ["tasks", "check", FIX, "--trajectory", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "FAIL (wrong_fix)" in result.output and "3 turns, 2 tool calls" in result.output
    assert "no hidden_tests" in result.output and "ok existing_tests_pass" in result.output


@pytest.mark.parametrize("args, words", [
    (["tasks", "show", "no_such_task"], ["no_such_task", "config_read"]),
    (["tasks", "check", FIX, "--trajectory", "/nonexistent/t.json"], ["/nonexistent/t.json", "no such"]),
])
def test_user_mistakes_are_one_line_without_traceback(args, words):
    done = entry_point(*args)
    assert done.returncode == 2 and done.stdout == ""
    text = done.stderr.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert all(w in text for w in words), text


@pytest.mark.parametrize("content", ['{"steps": []}', "not json", '{"turns": [1, 2]}'])
def test_a_trajectory_that_is_not_a_turn_list_is_one_line(tmp_path, content):
    path = tmp_path / "t.json"
    path.write_text(content)
    done = entry_point("tasks", "check", FIX, "--trajectory", str(path))
    text = done.stderr.strip()
    assert done.returncode == 2 and str(path) in text and len(text.splitlines()) == 1, text


def entry_point(*args) -> subprocess.CompletedProcess:
    """The installed command's own entry point (it turns a user's mistake into one line)."""
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", *args], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "COLUMNS": "80"})
