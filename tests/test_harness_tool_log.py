"""A harness's tool calls as the graders' workspace operations: file tools by the adapter's map, shell
commands read the way a person would (a here-document's body is data, not redirections)."""

from pathlib import Path

import pytest

from orchestrator.agent.stream import ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.harness import claude_code, mini_swe_agent
from orchestrator.harness.tool_log import bash_ops, count_unseen_write, trajectory_of
from orchestrator.workspace.workspace import Operation

WS = Path("/tmp/sb-x/repo")


@pytest.mark.parametrize("command, expected", [
    ("pytest -q", [("test", None)]),
    ("cd /tmp/sb-x/repo && python -m pytest tests -x 2>&1 | tail -5", [("test", None)]),
    ("cat utils/a.py", [("read", "utils/a.py")]),
    ("cat /tmp/sb-x/repo/./utils/a.py 2>/dev/null", [("read", "utils/a.py")]),
    ("cat /etc/passwd", []),
    ("head -n 5 ../outside.py", [("read", "5")]),
    ("nl -ba f.py | sed -n '10,20p'", [("read", "f.py")]),
    ("sed -i 's/a/b/' x.py", [("write", "x.py")]),
    ("grep -rn TODO .", [("search", None)]),
    ("git grep -n execute", [("search", None)]),
    ("echo hi > out.txt && cat a.py", [("write", "out.txt"), ("read", "a.py")]),
    ("echo x >out.txt; cat <in.txt", [("write", "out.txt")]),
    ("cat > utils/p.py <<'EOF'\ndef f() -> int:\n    return 1 if a > b else 2\nEOF", [("write", "utils/p.py")]),
    ("cat <<EOF > b.py\nx = 1 >> 2\nEOF\npytest -q", [("write", "b.py"), ("test", None)]),
    ("ls -la > /dev/null", []),
    ("python x.py 2>&1", []),
    ("A=1 B=2 python x.py >> log.txt", [("write", "log.txt")]),
    ("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", []),
    ("unbalanced 'quote", []),
])
def test_shell_commands_as_operations(command, expected):
    assert bash_ops(command, WS) == expected


def turn(*calls, content=""):
    return TurnResult(content, content, "", [ToolCallDraft(f"id{n}", name, args) for n, (name, args) in enumerate(calls)],
                      "tool_calls" if calls else "stop", TurnMetrics())


def test_claude_code_calls_map_to_reads_writes_and_tests_with_their_outputs():
    results = [turn(("Read", '{"file_path": "/tmp/sb-x/repo/utils/a.py"}')),
               turn(("Edit", '{"file_path": "/tmp/sb-x/repo/utils/a.py", "old_string": "a", "new_string": "b"}')),
               turn(("Bash", '{"command": "pytest -q"}')),
               turn(("Bash", "{broken")),
               turn(content="All fixed.")]
    outputs = {"id0": "1\tdef a(): pass"}
    traj, ops = trajectory_of(results, claude_code, WS, None, outputs)
    assert [(op.index, op.kind, op.path) for op in ops] == [(0, "read", "utils/a.py"), (1, "write", "utils/a.py"),
                                                           (2, "test", None)]
    _, in_one_call = trajectory_of([turn(("Bash", '{"command": "cat > a.py <<EOF\\nx\\nEOF\\npytest -q"}'))],
                                   claude_code, WS, None)
    assert [(op.index, op.kind) for op in in_one_call] == [(0, "write"), (1, "test")]
    assert traj.events[0].result == "1\tdef a(): pass"
    assert traj.malformed_calls == 1 and traj.turns == 5
    assert traj.final_answer == "All fixed."


def test_the_harness_summary_answer_wins_over_the_last_text():
    traj, _ = trajectory_of([turn(content="thinking aloud")], mini_swe_agent, WS, "7 retries, 45 s")
    assert traj.final_answer == "7 retries, 45 s"


def test_a_change_made_by_an_unrecognised_command_still_counts_as_a_write():
    ops = [Operation(0, "read", "a.py"), Operation(1, "test")]
    counted = count_unseen_write(ops, ["a.py"])
    assert [(op.index, op.kind) for op in counted] == [(0, "read"), (1, "write"), (2, "test")]
    assert count_unseen_write(ops, []) == ops
    with_write = ops + [Operation(2, "write", "a.py")]
    assert count_unseen_write(with_write, ["a.py"]) == with_write
