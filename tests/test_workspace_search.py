"""search_code: what it searches (where, what it skips, how many hits), the limits of a pattern, and the
exact result of every way a search can fail. The decisions around the worker are checked with a
recording stand-in for `run_contained` (nothing runs); the worker's own behaviour is checked by running
it in the real sandbox."""

import sys

import pytest

from orchestrator.taskdef import load_task
from orchestrator.workspace import search as search_module
from orchestrator.workspace.sandbox import Limits, SandboxResult
from orchestrator.workspace.search import WORKER
from orchestrator.workspace.workspace import Workspace
from tests.helpers.sandbox_fixtures import SandboxRecorder

TASK = load_task("read_fix_write")
SKIPPED = ".git,.pytest_cache,__pycache__"


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        yield workspace


@pytest.fixture
def sandbox(monkeypatch):
    recorder = SandboxRecorder(SandboxResult(0, "a.py:1: hit"))
    monkeypatch.setattr(search_module, "run_contained", recorder)
    return recorder


# ---- what the worker is asked (stand-in sandbox) ----

@pytest.mark.parametrize("path, start", [
    (None, "."), ("", "."), (".", "."), ("./", "."), ("utils", "utils"), ("./utils/", "utils"),
    ("utils/pagination.py", "utils/pagination.py"), (" tests ", "tests"),
])
def test_the_worker_gets_the_pattern_the_start_the_skipped_folders_and_200_hits(sandbox, ws, path, start):
    arguments = {"pattern": "def (\\w+)"} if path is None else {"pattern": "def (\\w+)", "path": path}
    event = ws.call("search_code", arguments)
    assert (event.result, event.error) == ("a.py:1: hit", None)
    assert len(sandbox.calls) == 1
    argv, cwd, home, limits = sandbox.calls[0]
    assert argv == [sys.executable, "-I", "-S", "-c", WORKER, "def (\\w+)", start, SKIPPED, "200"]
    assert (cwd, home) == (ws.root, ws.home)
    assert limits == Limits(timeout_s=10, cpu_s=10, output_bytes=64 * 1024, max_procs=4)
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [("search", None, True)]


def test_a_pattern_is_never_taken_for_a_path(sandbox, ws):
    for pattern in ("../../etc/passwd", "/etc/passwd", "~root", "--rootdir=/"):
        assert ws.call("search_code", {"pattern": pattern}).result == "a.py:1: hit"
    assert [call[0][5:7] for call in sandbox.calls] == [
        ["../../etc/passwd", "."], ["/etc/passwd", "."], ["~root", "."], ["--rootdir=/", "."]]


@pytest.mark.parametrize("arguments, refusal", [
    ({"pattern": ""}, "pattern must be a non-empty string"),
    ({"pattern": "p" * 2001}, "pattern too long (2001 characters; at most 2000)"),
    ({"pattern": "a\x00b"}, "pattern holds a NUL byte"),
    ({"pattern": "\udc80x"}, "pattern is not valid text (surrogates not allowed at position 0)"),
    ({"pattern": "x", "path": "missing"}, "file not found: missing"),
    ({"pattern": "x", "path": "../.."}, "paths outside the repository are not allowed: ../.."),
    ({"pattern": "x", "path": "/etc"}, "absolute paths are not allowed: /etc (use a path relative to the repository)"),
])
def test_a_search_that_cannot_start_is_refused_without_running(sandbox, ws, arguments, refusal):
    event = ws.call("search_code", arguments)
    assert (event.result, event.error, event.malformed) == (f"error: {refusal}", refusal, False)
    assert sandbox.calls == []
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [("search_code", arguments.get("path"), False)]


def test_a_pattern_of_2000_characters_is_searched(sandbox, ws):
    assert ws.call("search_code", {"pattern": "p" * 2000}).result == "a.py:1: hit"
    assert len(sandbox.calls) == 1


@pytest.mark.parametrize("answer, refusal", [
    (SandboxResult(None, "error: no sandbox on this machine (x)", refused=True), "no sandbox on this machine (x)"),
    (SandboxResult(None, "", timed_out=True), "search stopped after 10 s; use a simpler pattern"),
    (SandboxResult(1, "Traceback\n  line\nMemoryError\n"), "search failed (MemoryError)"),
    (SandboxResult(None, "partial", stopped="memory"), "search failed (partial)"),
    (SandboxResult(0, "a.py:1: x\n", stopped="files"), "search failed (a.py:1: x)"),
    (SandboxResult(-9, "  \n"), "search failed (no output)"),
    (SandboxResult(2, "e" * 300), "search failed (" + "e" * 200 + ")"),
])
def test_a_search_that_fails_in_the_sandbox_returns_why(sandbox, ws, answer, refusal):
    sandbox.answer = answer
    event = ws.call("search_code", {"pattern": "x"})
    assert (event.result, event.error) == (f"error: {refusal}", refusal)
    assert [(op.kind, op.ok) for op in ws.log.ops] == [("search_code", False)]


def test_a_timed_out_search_names_the_limit_it_had(sandbox, ws):
    sandbox.answer = SandboxResult(None, "", timed_out=True)
    ws.search_limits = Limits(timeout_s=2.5)
    assert ws.call("search_code", {"pattern": "x"}).result == "error: search stopped after 2.5 s; use a simpler pattern"
    assert sandbox.calls[0][3] is ws.search_limits


def test_search_results_are_cut_at_16_kb(sandbox, ws):
    sandbox.answer = SandboxResult(0, "m" * 20_000)
    assert ws.call("search_code", {"pattern": "m"}).result == "m" * (16 * 1024) + "\n[output cut at 16 KB]"


# ---- the worker, in the real sandbox ----

def test_search_finds_lines_as_file_line_text_in_order_and_skips_what_it_must(ws):
    root = ws.root
    (root / "pkg").mkdir()
    (root / "pkg/b.py").write_text("  needle one  \nnothing\nneedle two\n")
    (root / "pkg/a.py").write_text("x = 'needle'\n")
    for skipped in (".git", "__pycache__", ".pytest_cache", "pkg/__pycache__"):
        (root / skipped).mkdir(exist_ok=True)
        (root / skipped / "hidden.txt").write_text("needle hidden\n")
    (root / "pkg/latin.txt").write_bytes(b"needle caf\xe9\n")
    (root / "pkg/link.py").symlink_to(root / "pkg/a.py")
    result = ws.call("search_code", {"pattern": "needle"}).result
    assert result == "pkg/a.py:1: x = 'needle'\npkg/b.py:1: needle one\npkg/b.py:3: needle two"
    assert ws.call("search_code", {"pattern": "needle", "path": "pkg/b.py"}).result == (
        "pkg/b.py:1: needle one\npkg/b.py:3: needle two")
    assert ws.call("search_code", {"pattern": r"needle\s+t\w+"}).result == "pkg/b.py:3: needle two"
    assert ws.call("search_code", {"pattern": "needle (", "path": "pkg"}).result == "no matches"
    assert ws.call("search_code", {"pattern": "= 'needle'", "path": "pkg"}).result == "pkg/a.py:1: x = 'needle'"


def test_search_shows_200_hits_and_counts_the_rest(ws):
    (ws.root / "many.txt").write_text("".join(f"hit {n}\n" for n in range(1, 251)))
    result = ws.call("search_code", {"pattern": "^hit", "path": "many.txt"}).result
    lines = result.splitlines()
    assert lines[:2] == ["many.txt:1: hit 1", "many.txt:2: hit 2"] and lines[199] == "many.txt:200: hit 200"
    assert lines[200:] == ["[50 more matches not shown]"]
    (ws.root / "edge.txt").write_text("hit\n" * 201)
    assert ws.call("search_code", {"pattern": "hit", "path": "edge.txt"}).result.splitlines()[200:] == [
        "[1 more matches not shown]"]
    (ws.root / "exact.txt").write_text("hit\n" * 200)
    result = ws.call("search_code", {"pattern": "hit", "path": "exact.txt"}).result
    assert result == "\n".join(f"exact.txt:{n}: hit" for n in range(1, 201))


def test_a_pattern_that_backtracks_for_ever_costs_only_the_call(ws):
    (ws.root / "a.txt").write_text("a" * 40 + "!\n")
    ws.search_limits = Limits(timeout_s=1, cpu_s=30, output_bytes=64 * 1024, max_procs=4)
    event = ws.call("search_code", {"pattern": "(a+)+$"})
    assert event.result == "error: search stopped after 1 s; use a simpler pattern"
