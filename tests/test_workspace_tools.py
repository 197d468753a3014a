"""The four tools on a real workspace: what each returns, what the graders' log records, and the
confinement of every path a command names (a file outside the workspace must never run)."""

import json
import uuid

import pytest

from orchestrator.taskdef import load_task
from orchestrator.workspace.sandbox import Limits
from orchestrator.workspace.workspace import OUTPUT_CAP, Workspace

TASK = load_task("read_fix_write")


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        workspace.limits = Limits(timeout_s=20, cpu_s=20, output_bytes=16 * 1024)
        yield workspace


def marker_script(ws, path) -> tuple[str, object]:
    """A script at `path` (relative to the workspace's parent folder) that leaves a marker if it runs."""
    marker = ws.base / f"ran-{uuid.uuid4().hex}"
    target = ws.base / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                      "def test_outside():\n    pass\n")
    return str(target), marker


@pytest.mark.parametrize("command", [
    "python ../outside.py", "python3 ../outside.py", "python /ABS", "pytest ../outside.py", "pytest /ABS",
    "python -m pytest ../outside.py", "python -m pytest -q /ABS", "pytest ../outside.py::test_outside",
    "pytest tests/../../outside.py", "python ~/outside.py",
])
def test_python_and_pytest_never_run_a_file_outside_the_workspace(ws, command):
    absolute, marker = marker_script(ws, "outside.py")
    event = ws.call("run_command", {"command": command.replace("/ABS", absolute)})
    assert event.result.startswith("error:"), event.result
    assert "not allowed" in event.result or "outside" in event.result
    assert not marker.exists(), "the outside file ran"
    assert ws.log.ops[-1].kind == "refused" and not ws.log.ops[-1].ok


def test_a_symlink_to_an_outside_script_is_refused(ws):
    absolute, marker = marker_script(ws, "elsewhere/evil.py")
    (ws.root / "innocent.py").symlink_to(absolute)
    for command in ("python innocent.py", "pytest innocent.py"):
        event = ws.call("run_command", {"command": command})
        assert event.result.startswith("error:") and "outside" in event.result, event.result
    assert not marker.exists()


def test_commands_inside_the_workspace_run_and_are_logged(ws):
    event = ws.call("run_command", {"command": "pytest -q tests/test_page_links.py"})
    assert "passed" in event.result and event.result.rstrip().endswith("[exit code: 0]"), event.result
    assert (ws.log.ops[-1].kind, ws.log.ops[-1].exit_code) == ("test", 0)
    ws.call("write_file", {"path": "hello.py", "content": "print('hi from the workspace')\n"})
    event = ws.call("run_command", {"command": "python hello.py"})
    assert event.result.startswith("hi from the workspace") and ws.log.ops[-1].kind == "python"
    event = ws.call("run_command", {"command": "pytest -q tests/test_page_links.py::test_does_not_exist"})
    assert not event.result.startswith("error:") and "[exit code: 4]" in event.result


def test_reads_writes_and_searches_are_logged_for_the_graders(ws):
    ws.call("read_file", {"path": "utils/pagination.py"})
    ws.call("write_file", {"path": "utils/pagination.py", "content": "x = 1\n"})
    ws.call("search_code", {"pattern": "def paginate"})
    ws.call("read_file", {"path": "missing.py"})
    kinds = [(op.kind, op.path, op.ok) for op in ws.log.ops]
    assert kinds == [("read", "utils/pagination.py", True), ("write", "utils/pagination.py", True),
                     ("search", None, True), ("read", "missing.py", False)]
    assert [op.index for op in ws.log.ops] == [0, 1, 2, 3]
    assert (ws.root / "utils/pagination.py").read_text() == "x = 1\n"


def test_tool_results_say_what_happened(ws):
    read = ws.call("read_file", {"path": "utils/pagination.py"})
    assert read.result == (ws.root / "utils/pagination.py").read_text() and read.error is None
    wrote = ws.call("write_file", {"path": "new/dir/f.py", "content": "é\n"})
    assert wrote.result == "wrote 3 bytes to new/dir/f.py"
    found = ws.call("search_code", {"pattern": "def paginate", "path": "utils"})
    assert found.result.startswith("utils/pagination.py:") and ": def paginate(" in found.result
    assert ws.call("search_code", {"pattern": "no_such_text_anywhere"}).result == "no matches"
    literal = ws.call("search_code", {"pattern": "paginate(", "path": "search/api.py"})
    assert literal.result.startswith("search/api.py:"), "an invalid regex is searched as literal text"
    missing = ws.call("read_file", {"path": "nope.py"})
    assert missing.result == "error: file not found: nope.py" and missing.error and not missing.malformed
    folder = ws.call("read_file", {"path": "utils"})
    assert "is a directory" in folder.result and folder.error


def test_a_big_file_is_cut_at_the_output_cap(ws):
    ws.call("write_file", {"path": "big.txt", "content": "y" * (OUTPUT_CAP * 2)})
    result = ws.call("read_file", {"path": "big.txt"}).result
    assert result.startswith("y" * 100) and result.endswith(f"[output cut at {OUTPUT_CAP // 1024} KB]")
    assert len(result.encode()) <= OUTPUT_CAP + 40


@pytest.mark.parametrize("name, arguments, problem", [
    ("read_file", "{not json", "arguments are not valid JSON"),
    ("read_file", "[1]", "arguments must be a JSON object"),
    ("read_file", {}, "read_file needs the argument(s) path"),
    ("write_file", {"path": "a.py"}, "write_file needs the argument(s) content"),
    ("delete_file", {"path": "a.py"}, "unknown tool 'delete_file'"),
])
def test_malformed_calls_are_counted_and_answered(ws, name, arguments, problem):
    event = ws.call(name, arguments)
    assert event.malformed and event.result.startswith(f"error: {problem}"), event.result
    assert event.raw_arguments == (arguments if isinstance(arguments, str) else json.dumps(arguments))
    assert ws.log.ops == [], "a malformed call does nothing to the workspace"


@pytest.mark.parametrize("command", [
    "grep -e import /etc/passwd", "grep --regexp=import /etc/passwd", "grep --file=/etc/passwd utils/pagination.py",
    "grep -f/etc/passwd utils/pagination.py", "wc --files0-from=/etc/passwd", "grep -rn import ../",
])
def test_paths_hidden_in_options_or_after_an_explicit_pattern_are_confined(ws, command):
    event = ws.call("run_command", {"command": command})
    assert event.result.startswith("error:") and "root:" not in event.result, event.result


@pytest.mark.parametrize("command", ["grep -n /not/a/path utils/pagination.py", "grep -n ../pattern utils/pagination.py",
                                     "head -n5 utils/pagination.py"])
def test_a_pattern_or_an_option_value_is_not_taken_for_a_path(ws, command):
    event = ws.call("run_command", {"command": command})
    assert not event.result.startswith("error:"), event.result


def test_refusals_say_which_rule_was_broken(ws):
    assert "absolute paths are not allowed" in ws.call("run_command", {"command": "cat /etc/hostname"}).result
    assert "outside the repository are not allowed" in ws.call("run_command", {"command": "cat ../missing.txt"}).result
    (ws.root / "dangling").symlink_to("/nonexistent/outside/file")
    assert "leads outside" in ws.call("run_command", {"command": "cat dangling"}).result


def test_a_node_id_is_confined_by_its_file_part_only(ws):
    # The part after "::" names a test, not a path: ".." there is no escape.
    event = ws.call("run_command", {"command": "pytest -q tests/test_page_links.py::test_x/../y"})
    assert not event.result.startswith("error:") and "[exit code:" in event.result, event.result


def test_command_output_is_normalised_so_replays_are_byte_identical(ws):
    ws.call("write_file", {"path": "where.py", "content": (
        "import os\nprint('cwd', os.getcwd())\nprint('home', os.environ['HOME'])\n"
        "print('5 passed in 0.42s')\nprint('at 0x7f3a9c2b1d40 end')\n")})
    result = ws.call("run_command", {"command": "python where.py"}).result
    assert result.splitlines()[:4] == ["cwd .", "home .", "5 passed", "at 0x… end"], result


def test_a_file_that_is_not_utf8_is_read_with_replacement_characters(ws):
    (ws.root / "latin.txt").write_bytes(b"caf\xe9 ok\n")
    assert ws.call("read_file", {"path": "latin.txt"}).result == "caf\ufffd ok\n"


def test_a_fifo_is_refused_instead_of_blocking(ws):
    import os

    os.mkfifo(ws.root / "pipe")
    event = ws.call("read_file", {"path": "pipe"})
    assert event.result == "error: pipe is not a regular file" and event.error


def test_failed_calls_are_logged_by_kind_with_their_path(ws):
    ws.call("write_file", {"path": "../escape.py", "content": "x"})
    ws.call("read_file", {"path": "nope.py"})
    ws.call("search_code", {"pattern": "x", "path": "../.."})
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [
        ("write", "../escape.py", False), ("read", "nope.py", False), ("search_code", "../..", False)]
