"""Crashes and hangs: every odd call becomes a tool result (malformed when the call itself was), the
grader finishes on whatever the workspace holds, and a catastrophic regex costs one call its time
limit, never siliconbench its process. Through the driver as root and as an unprivileged user, and
in-process for what only the host can set up (a FIFO, a hard link).
"""

from __future__ import annotations

import os
import time

import pytest

from orchestrator.grading.grade import grade
from orchestrator.taskdef import load_task
from orchestrator.trajectory import Trajectory
from orchestrator.workspace.sandbox import Limits
from orchestrator.workspace.workspace import Workspace
from tests.helpers.hostile_cases import WHO, run_cases

TASK = load_task("full_debug_cycle")
ODD_CALLS = [
    ["read_file", {"path": "shop/\u0000pricing.py"}],
    ["write_file", {"path": "x" * 300 + ".py", "content": "x = 1\n"}],
    ["write_file", {"path": "/".join(["d" * 250] * 5) + "/x.py", "content": "1"}],
    ["write_file", {"path": "shop/pricing.py/x", "content": "x = 1\n"}],
    ["write_file", {"path": "shop/new.py", "content": "bad = '\ud800'\n"}],
    ["write_file", {"path": "shop/\ud800.py", "content": "x = 1\n"}],
    ["write_file", {"path": ["shop/pricing.py"], "content": "x"}],
    ["write_file", {"path": "shop/a.py", "content": {"not": "text"}}],
    ["read_file", {"path": 42}],
    ["search_code", {"pattern": ["a"]}],
    ["search_code", {"pattern": "\u0000"}],
    ["search_code", {"pattern": "x", "path": "no/such/folder"}],
    ["run_command", {"command": "cat " + "a" * 200_000}],
    ["run_command", {"command": "cat README\u0000.md"}],
    ["run_command", {"command": "cat '\udcff'"}],
    ["run_command", {"command": ["pytest", "-q"]}],
    [["read_file"], {"path": "README.md"}],
    [None, {}],
    ["read_file", "[" * 100_000 + "]" * 100_000],
    ["read_file", {"path": "shop"}],
    ["read_file", {"path": "a/../../../etc/passwd"}],
]
HANG = "a" * 40 + "!\n"


def _case_specs() -> list[dict]:
    return [
        {"id": "odd_calls", "calls": ODD_CALLS},
        {"id": "special_files_at_grading", "grade": True, "files": {"mk.py": (
            "import os\nos.mkfifo('shop/pipe.py')\nos.mkfifo('fifo')\nos.symlink('/proc/self/mem', 'mem.py')\n"
            "os.symlink('/dev/zero', 'shop/zero.py')\nos.symlink('loop', 'loop')\nos.makedirs('_hidden_tests')\n"
            "open('_hidden_tests/test_pricing_hidden.py', 'w').write('def test_ok():\\n    pass\\n')\n"
            "import socket\ns = socket.socket(socket.AF_UNIX)\ns.bind('sock')\n")},
         "calls": [["run_command", {"command": "python mk.py"}], ["read_file", {"path": "fifo"}],
                   ["read_file", {"path": "mem.py"}], ["search_code", {"pattern": "x"}]]},
        {"id": "unremovable_folder", "files": {"lock.py": (
            "import os\nos.makedirs('locked/inner')\nopen('locked/inner/f', 'w').write('x')\nos.chmod('locked/inner', 0)\n"
            "os.chmod('locked', 0)\n")}, "calls": [["run_command", {"command": "python lock.py"}]]},
        {"id": "catastrophic_regex", "search_timeout_s": 2, "files": {"slow.txt": HANG * 20},
         "calls": [["search_code", {"pattern": "(a+)+$"}], ["search_code", {"pattern": "(a|aa)+$"}],
                   ["search_code", {"pattern": "def quote"}]]},
    ]


@pytest.fixture(scope="module", params=WHO)
def played(request):
    return run_cases(request.param, _case_specs())


def test_odd_calls_are_answered_never_raised(played):
    result = played["odd_calls"]
    assert not result["errors"], result["errors"]
    assert len(result["results"]) == len(ODD_CALLS)
    for call, text in zip(ODD_CALLS, result["results"]):
        assert text and text.startswith("error:"), (call[0], str(call[1])[:80], text)
        assert len(text) < 4000


def test_special_files_never_hang_or_crash_grading(played):
    result = played["special_files_at_grading"]
    assert not result["errors"], result["errors"]
    command, fifo, mem, search = result["results"][1:]
    assert "removed what the command left" in command and "fifo (FIFO)" in command and "mem.py (link" in command
    assert fifo.startswith("error:") and mem.startswith("error:")
    assert result["grade"] is not None and not result["grade"]["passed"]
    hidden = {c["name"]: c for c in result["grade"]["checks"]}["hidden_tests"]
    assert not hidden["passed"], "the model's own _hidden_tests/ must never stand in for the real ones"
    assert result["grade_s"] < 60


def test_a_catastrophic_regex_costs_one_call_its_time_limit(played):
    result = played["catastrophic_regex"]
    assert not result["errors"], result["errors"]
    first, second, third = result["results"][1:]
    assert first.startswith("error: search stopped") and second.startswith("error: search stopped")
    assert max(result["wall_s"][1:3]) < 8
    assert "shop/pricing.py" in third, "the next search works as before"


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        workspace.limits = Limits(timeout_s=10, cpu_s=10)
        yield workspace


def test_host_made_fifo_and_hard_link_are_refused_not_followed(ws):
    os.mkfifo(ws.root / "pipe.txt")
    os.link(ws.root / "README.md", ws.root / "twin.md")
    started = time.monotonic()
    read = ws.call("read_file", {"path": "pipe.txt"})
    write_fifo = ws.call("write_file", {"path": "pipe.txt", "content": "x"})
    write_link = ws.call("write_file", {"path": "twin.md", "content": "changed"})
    assert time.monotonic() - started < 5
    assert all(e.result.startswith("error:") and not e.malformed for e in (read, write_fifo, write_link))
    assert (ws.root / "README.md").read_text() != "changed"
    verdict = grade(TASK, ws, Trajectory(events=[read], turns=1, final_answer="done"))
    assert not verdict.passed


def test_malformed_shapes_count_as_malformed_and_file_faults_do_not(ws):
    malformed = [ws.call(["read_file"], {"path": "x"}), ws.call("write_file", {"path": 3, "content": "x"}),
                 ws.call("read_file", "[" * 50_000), ws.call("run_command", {"command": None})]
    assert all(e.malformed for e in malformed), [e.result for e in malformed]
    faults = [ws.call("write_file", {"path": "shop/pricing.py/x", "content": "1"}),
              ws.call("write_file", {"path": "y" * 300, "content": "1"}),
              ws.call("write_file", {"path": "z.py", "content": "\ud800"})]
    assert all(e.error and not e.malformed for e in faults), [e.result for e in faults]


def test_a_folder_made_unremovable_is_still_cleaned_up(played):
    result = played["unremovable_folder"]
    assert not result["errors"] and "[exit code: 0]" in result["results"][-1], result["results"]
    assert result["ws_left"] is False, "the workspace outlived its run"


def test_change_detection_never_follows_a_link_or_opens_a_special_file(tmp_path):
    """A link to /proc/self/mem or a FIFO left in the workspace is a change, read as what it is."""
    from orchestrator.grading.grade import _digest_tree

    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "mem").symlink_to("/proc/self/mem")
    os.mkfifo(tmp_path / "pipe")
    digests = _digest_tree(tmp_path)
    assert digests["mem"] == "link:/proc/self/mem"
    assert digests["pipe"].startswith("special:")
    assert len(digests["a.py"]) == 64
