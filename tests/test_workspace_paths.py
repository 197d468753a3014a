"""The file tools (read_file, write_file) and the path rules every tool shares: what a path may name, what
each refusal returns to the model, the output cap, and what a write leaves on disk. No command runs here,
so nothing needs the sandbox; the limits are written out as numbers, so a changed limit fails a test."""

import json
import os
import stat

import pytest

from orchestrator.taskdef import load_task
from orchestrator.workspace.workspace import Workspace, cap

TASK = load_task("read_fix_write")
CAP = 16 * 1024
CUT = "\n[output cut at 16 KB]"


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        yield workspace


def result(ws, name, **arguments) -> str:
    return ws.call(name, arguments).result


# ---- what a path may name ----

@pytest.mark.parametrize("path, refusal", [
    ("/etc/passwd", "absolute paths are not allowed: /etc/passwd (use a path relative to the repository)"),
    ("~/notes.txt", "absolute paths are not allowed: ~/notes.txt (use a path relative to the repository)"),
    ("~root", "absolute paths are not allowed: ~root (use a path relative to the repository)"),
    ("../outside.txt", "paths outside the repository are not allowed: ../outside.txt"),
    ("utils/../../outside.txt", "paths outside the repository are not allowed: utils/../../outside.txt"),
    ("utils/../README.md", "paths outside the repository are not allowed: utils/../README.md"),
    ("a\x00b", "path holds a NUL byte"),
    ("", "path must be a non-empty string"),
    ("   ", "path must be a non-empty string"),
    ("x\udc80y", "path is not valid text (surrogates not allowed at position 1)"),
])
def test_read_file_refuses_a_path_that_leaves_the_repository_or_is_not_text(ws, path, refusal):
    event = ws.call("read_file", {"path": path})
    assert (event.result, event.error, event.malformed) == (f"error: {refusal}", refusal, False)


def test_a_path_through_a_symlink_that_leads_out_is_refused_for_every_tool(ws):
    (ws.base / "secret.txt").write_text("the secret\n")
    (ws.root / "out").symlink_to(ws.base / "secret.txt")
    (ws.root / "outdir").symlink_to(ws.base)
    assert result(ws, "read_file", path="out") == "error: path leads outside the repository: out"
    assert result(ws, "read_file", path="outdir/secret.txt") == (
        "error: path leads outside the repository: outdir/secret.txt")
    assert result(ws, "write_file", path="outdir/new.txt", content="x") == (
        "error: path leads outside the repository: outdir/new.txt")
    assert result(ws, "search_code", pattern="secret", path="outdir") == (
        "error: path leads outside the repository: outdir")
    assert not (ws.base / "new.txt").exists()


def test_a_symlink_that_stays_inside_is_followed_for_reading(ws):
    (ws.root / "alias.py").symlink_to(ws.root / "utils" / "pagination.py")
    assert result(ws, "read_file", path="alias.py") == (ws.root / "utils/pagination.py").read_text()


def test_a_symlink_loop_is_a_tool_error_not_a_crash(ws):
    (ws.root / "a").symlink_to(ws.root / "b")
    (ws.root / "b").symlink_to(ws.root / "a")
    event = ws.call("read_file", {"path": "a"})
    why = (f"Symlink loop from '{ws.root / 'a'}'",  # Python before 3.13
           "Too many levels of symbolic links")   # 3.13 on: an OSError with its strerror
    assert event.result in [f"error: cannot use the path a: {w}" for w in why] and not event.malformed
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [("read", "a", False)]


def test_a_workspace_under_a_symlinked_folder_still_serves_its_own_files(tmp_path):
    real = tmp_path / "real"
    (real / "repo" / "pkg").mkdir(parents=True)
    (real / "home").mkdir()
    (real / "repo" / "pkg" / "m.py").write_text("M = 1\n")
    (tmp_path / "via").symlink_to(real)  # as macOS's /var/folders is a link to /private/var/folders
    ws = Workspace(TASK, tmp_path / "via")
    assert ws.call("read_file", {"path": "pkg/m.py"}).result == "M = 1\n"
    assert ws.call("write_file", {"path": "pkg/n.py", "content": "N = 2\n"}).result == "wrote 6 bytes to pkg/n.py"
    assert (real / "repo" / "pkg" / "n.py").read_text() == "N = 2\n"


def test_spaces_around_a_path_are_ignored(ws):
    event = ws.call("read_file", {"path": "  utils/pagination.py \n"})
    assert event.result == (ws.root / "utils/pagination.py").read_text()
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [("read", "utils/pagination.py", True)]


def test_a_name_may_have_255_bytes_and_a_path_1024_characters(ws):
    longest_name = "n" * 255
    assert result(ws, "read_file", path=longest_name) == f"error: file not found: {longest_name}"
    wide_name = "é" * 127 + "n"  # 255 bytes in 128 characters
    assert result(ws, "read_file", path=wide_name) == f"error: file not found: {wide_name}"
    longest_path = "/".join(["d" * 200] * 5) + "/" + "f" * 19  # 1024 characters, each name under 255 bytes
    assert len(longest_path) == 1024
    assert result(ws, "read_file", path=longest_path) == f"error: file not found: {longest_path}"
    two_long_names = "d" * 200 + "/" + "f" * 200  # each fine, together over 255
    assert result(ws, "read_file", path=two_long_names) == f"error: file not found: {two_long_names}"


@pytest.mark.parametrize("path", ["n" * 256, "é" * 128, "d/" + "é" * 127 + "nn",
                                  "/".join(["d" * 200] * 5) + "/" + "f" * 20])
def test_a_longer_name_or_path_is_refused(ws, path):
    message = "path too long (a name may have 255 bytes, a path 1024 characters)"
    assert result(ws, "read_file", path=path) == f"error: {message}"
    assert result(ws, "write_file", path=path, content="x") == f"error: {message}"
    assert sorted(p.name for p in ws.root.iterdir()) == sorted(p.name for p in TASK.repo.iterdir())


# ---- read_file ----

def test_reading_a_missing_file_a_folder_or_through_a_file_says_so(ws):
    assert result(ws, "read_file", path="nope.py") == "error: file not found: nope.py"
    assert result(ws, "read_file", path="utils") == "error: utils is a directory; use run_command with ls to list it"
    assert result(ws, "read_file", path="README.md/inner") == "error: read_file failed: Not a directory"


def test_a_file_of_exactly_the_cap_is_returned_whole(ws):
    (ws.root / "exact.txt").write_text("z" * CAP)
    assert result(ws, "read_file", path="exact.txt") == "z" * CAP


def test_a_file_one_byte_over_the_cap_is_cut_to_the_cap_and_says_so(ws):
    (ws.root / "over.txt").write_text("z" * (CAP + 1))
    assert result(ws, "read_file", path="over.txt") == "z" * CAP + CUT


def test_a_cut_through_a_multibyte_character_drops_the_partial_character(ws):
    (ws.root / "wide.txt").write_text("a" + "é" * (CAP // 2))  # 16385 bytes: the cap falls inside the last é
    assert result(ws, "read_file", path="wide.txt") == "a" + "é" * (CAP // 2 - 1) + CUT


def test_bytes_that_are_not_utf8_become_replacement_characters(ws):
    (ws.root / "mixed.bin").write_bytes(b"ok \xff\xfe end\n")
    event = ws.call("read_file", {"path": "mixed.bin"})
    assert (event.result, event.error) == ("ok \ufffd\ufffd end\n", None)


def test_cap_keeps_short_text_and_cuts_long_text_at_the_given_limit():
    assert cap("x" * 100, 100) == "x" * 100
    assert cap("x" * 101, 100) == "x" * 100 + "\n[output cut at 0 KB]"
    assert cap("y" * 5000, 2048) == "y" * 2048 + "\n[output cut at 2 KB]"
    assert cap("y" * CAP) == "y" * CAP
    assert cap("y" * (CAP + 1)) == "y" * CAP + CUT
    assert cap("half \udc80 surrogate", 100) == "half \udc80 surrogate", "a lone surrogate counts as one byte"


# ---- write_file ----

def test_write_creates_missing_folders_and_hands_them_to_the_workspace_owner(ws):
    umask = os.umask(0)  # so the mode asked for is the mode given
    try:
        assert result(ws, "write_file", path="a/b/c/new.py", content="print(1)\n") == "wrote 9 bytes to a/b/c/new.py"
    finally:
        os.umask(umask)
    assert (ws.root / "a/b/c/new.py").read_bytes() == b"print(1)\n"
    owner = os.stat(ws.root).st_uid
    for made in ("a", "a/b", "a/b/c", "a/b/c/new.py"):
        assert os.stat(ws.root / made).st_uid == owner, made
    assert stat.S_IMODE(os.stat(ws.root / "a/b/c/new.py").st_mode) == 0o644, "readable by all, writable by its owner"


def test_write_replaces_the_whole_content_of_an_existing_file(ws):
    assert result(ws, "write_file", path="./utils/pagination.py", content="x = 1\n") == (
        "wrote 6 bytes to utils/pagination.py")
    assert (ws.root / "utils/pagination.py").read_bytes() == b"x = 1\n"
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [("write", "utils/pagination.py", True)]


def test_write_counts_bytes_not_characters(ws):
    assert result(ws, "write_file", path="u.txt", content="é€\n") == "wrote 6 bytes to u.txt"
    assert result(ws, "write_file", path="empty.txt", content="") == "wrote 0 bytes to empty.txt"
    assert (ws.root / "empty.txt").read_bytes() == b""


def test_write_takes_one_mebibyte_and_refuses_one_byte_more(ws):
    assert result(ws, "write_file", path="big.txt", content="b" * 2**20) == "wrote 1048576 bytes to big.txt"
    assert result(ws, "write_file", path="bigger.txt", content="b" * (2**20 + 1)) == (
        "error: content too large (over 1024 KB)")
    assert result(ws, "write_file", path="wide.txt", content="é" * (2**19) + "b") == (
        "error: content too large (over 1024 KB)")
    assert not (ws.root / "bigger.txt").exists() and not (ws.root / "wide.txt").exists()


def test_write_refuses_content_that_is_not_utf8_text(ws):
    assert result(ws, "write_file", path="s.txt", content="abc\udc80") == (
        "error: content is not valid text (surrogates not allowed at position 3); write it as UTF-8")
    assert not (ws.root / "s.txt").exists()


def test_write_refuses_a_symlink_a_folder_a_hard_link_and_a_fifo(ws):
    target = ws.root / "utils/pagination.py"
    before = target.read_text()
    (ws.root / "link.py").symlink_to(target)
    os.link(target, ws.root / "hard.py")
    os.mkfifo(ws.root / "pipe")
    assert result(ws, "write_file", path="link.py", content="x") == "error: cannot write to link.py: not a regular file"
    assert result(ws, "write_file", path="utils", content="x") == "error: cannot write to utils: not a regular file"
    plain = "not a plain file (a special file or a hard link)"
    assert result(ws, "write_file", path="hard.py", content="x") == f"error: cannot write to hard.py: {plain}"
    assert result(ws, "write_file", path="pipe", content="x") == f"error: cannot write to pipe: {plain}"
    assert target.read_text() == before
    assert stat.S_ISFIFO(os.lstat(ws.root / "pipe").st_mode)
    assert [(op.kind, op.path, op.ok) for op in ws.log.ops] == [
        ("write", p, False) for p in ("link.py", "utils", "hard.py", "pipe")]


def test_write_refuses_a_file_or_a_dangling_link_where_a_folder_is_needed(ws):
    assert result(ws, "write_file", path="README.md/x.py", content="x") == (
        "error: cannot write to README.md/x.py: README.md is a file, not a folder")
    (ws.root / "later").symlink_to(ws.root / "not_yet")  # dangling, but inside
    assert result(ws, "write_file", path="later/x.py", content="x") == (
        "error: cannot write to later/x.py: later is a file, not a folder")
    assert result(ws, "write_file", path="new/README.md/deeper/x.py", content="x") == (
        "wrote 1 bytes to new/README.md/deeper/x.py")
    assert not (ws.root / "not_yet").exists()


def test_write_into_an_existing_folder_makes_nothing_else(ws):
    before = sorted(p.name for p in ws.root.rglob("*"))
    assert result(ws, "write_file", path="utils/extra.py", content="E = 1\n") == "wrote 6 bytes to utils/extra.py"
    assert sorted(p.name for p in ws.root.rglob("*")) == sorted([*before, "extra.py"])
    assert os.stat(ws.root / "utils/extra.py").st_uid == os.stat(ws.root).st_uid, "the sandbox can rewrite it"


def test_write_file_called_directly_refuses_content_that_is_not_a_string(ws):
    from orchestrator.workspace.workspace import ToolError

    with pytest.raises(ToolError, match="^content must be a string$"):
        ws.write_file("x.py", b"bytes")
    with pytest.raises(ToolError, match="^command must be a string$"):
        ws.run_command(["ls"])
    with pytest.raises(ToolError, match="^pattern must be a non-empty string$"):
        ws.search_code(None)
    assert not (ws.root / "x.py").exists()


# ---- the call: parsing, results, log ----

@pytest.mark.parametrize("name, arguments, problem", [
    ("write_file", {}, "write_file needs the argument(s) path, content"),
    ("read_file", "", "read_file needs the argument(s) path"),
    ("read_file", "  \n", "read_file needs the argument(s) path"),
    ("read_file", '{"path": 5}', "read_file: argument(s) path must be strings"),
    ("write_file", {"path": "a", "content": None}, "write_file: argument(s) content must be strings"),
    ("run_command", {"command": None}, "run_command: argument(s) command must be strings"),
    ("run_command", {"command": ["ls"]}, "run_command: argument(s) command must be strings"),
    ("search_code", {"pattern": "x", "path": 3}, "search_code: argument(s) path must be strings"),
    ("search_code", {"pattern": 1, "path": 3}, "search_code: argument(s) path, pattern must be strings"),
    ("read_file", "{bad",
     "arguments are not valid JSON (Expecting property name enclosed in double quotes at position 1)"),
    ("read_file", "[" * 100_000, "arguments are not valid JSON"),
    ("read_file", "null", "arguments must be a JSON object"),
    ("read_file", 7, "arguments must be a JSON object"),
    ("Read_File", {"path": "a"},
     "unknown tool 'Read_File'; the tools are read_file, write_file, run_command, search_code"),
    (None, {}, "unknown tool 'NoneType'; the tools are read_file, write_file, run_command, search_code"),
    (5, {}, "unknown tool 'int'; the tools are read_file, write_file, run_command, search_code"),
    ("t" * 150, {}, f"unknown tool '{'t' * 100}'; the tools are read_file, write_file, run_command, search_code"),
])
def test_a_malformed_call_is_answered_exactly_and_changes_nothing(ws, name, arguments, problem):
    event = ws.call(name, arguments, turn=3, call_id="c1")
    assert (event.result, event.malformed, event.arguments, event.error) == (f"error: {problem}", True, None, None)
    assert (event.turn, event.call_id) == (3, "c1")
    assert ws.log.ops == []


def test_an_event_records_the_name_and_the_raw_arguments_as_sent(ws):
    assert ws.call(12345, {}).name == "12345"
    assert ws.call("x" * 300, {}).name == "x" * 300
    assert ws.call(["r" * 200], {}).name == repr(["r" * 200])[:100]
    sent = '{"path":  "README.md"}'
    event = ws.call("read_file", sent)
    assert (event.raw_arguments, event.arguments, event.malformed) == (sent, {"path": "README.md"}, False)
    assert ws.call("read_file", {"path": "README.md"}).raw_arguments == json.dumps({"path": "README.md"})
    odd = {"path": {1, 2}}
    assert ws.call("read_file", odd).raw_arguments == repr(odd)
    huge = {"path": set(range(5000))}  # not JSON: its repr, cut at 10,000 characters
    assert ws.call("read_file", huge).raw_arguments == repr(huge)[:10_000]


def test_a_null_optional_argument_and_extra_arguments_are_accepted(ws):
    parsed, problem = ws._parse("search_code", {"pattern": "p", "path": None, "extra": [1]})
    assert (parsed, problem) == ({"pattern": "p", "path": None, "extra": [1]}, None)
    parsed, problem = ws._parse("read_file", '{"path": "a.py", "why": 3}')
    assert (parsed, problem) == ({"path": "a.py", "why": 3}, None)


def test_calls_are_numbered_in_order_across_failures_and_malformed_calls(ws):
    ws.call("read_file", {"path": "README.md"})
    ws.call("bogus", {})
    ws.call("write_file", {"path": "w.txt", "content": "w"})
    ws.call("read_file", {"path": "missing.txt"})
    ws.call("write_file", {"path": "w.txt", "content": "ww"})
    assert [(op.index, op.kind, op.path, op.ok) for op in ws.log.ops] == [
        (0, "read", "README.md", True), (2, "write", "w.txt", True), (3, "read", "missing.txt", False),
        (4, "write", "w.txt", True)]
    assert ws.log.last_index("read") == 0, "the last read that worked"
    assert ws.log.last_index("write") == 4 and ws.log.last_index("search") is None


def test_a_tool_error_is_cut_to_2000_characters(ws, monkeypatch):
    from orchestrator.workspace.workspace import ToolError

    def long_refusal(path):
        raise ToolError("w" * 2500)

    monkeypatch.setattr(ws, "read_file", long_refusal)
    event = ws.call("read_file", {"path": "README.md"})
    assert (event.error, event.result) == ("w" * 2000, "error: " + "w" * 2000)


@pytest.mark.parametrize("error, shown", [
    (OSError(28, "No space left on device"), "No space left on device"),
    (ValueError("bad value"), "bad value"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
     "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (TypeError(), "TypeError"),
    (RuntimeError("loop"), "loop"),
    (RecursionError("deep"), "deep"),
])
def test_a_failure_of_the_file_system_is_returned_as_the_result(ws, monkeypatch, error, shown):
    def fails(path, content):
        raise error

    monkeypatch.setattr(ws, "write_file", fails)
    event = ws.call("write_file", {"path": "f.txt", "content": "x"})
    assert (event.result, event.error, event.malformed) == (
        f"error: write_file failed: {shown}", f"write_file failed: {shown}", False)
    ws.call("read_file", {"path": "README.md"})
    assert [(op.index, op.kind, op.path, op.ok) for op in ws.log.ops] == [(0, "write", "f.txt", False),
                                                                          (1, "read", "README.md", True)]


# ---- the workspace itself ----

def test_a_workspace_is_a_fresh_copy_owned_by_the_sandbox_and_removed_on_exit():
    from orchestrator.workspace.bwrap import SANDBOX_UID_BASE, SANDBOX_UID_RANGE

    with Workspace.create(TASK) as ws:
        base = ws.base
        assert (ws.root, ws.home) == (base / "repo", base / "home")
        copied = sorted(p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*"))
        assert copied == sorted(p.relative_to(TASK.repo).as_posix() for p in TASK.repo.rglob("*"))
        assert list(ws.home.iterdir()) == []
        owners = {os.lstat(p).st_uid for p in [ws.root, ws.home, *ws.root.rglob("*")]}
        assert len(owners) == 1, owners
        owner = owners.pop()
        # A root caller hands the workspace to a fresh uid from the sandbox range; anyone else keeps it.
        assert (SANDBOX_UID_BASE <= owner < SANDBOX_UID_BASE + SANDBOX_UID_RANGE) if os.geteuid() == 0 else (
            owner == os.geteuid())
        ws.call("write_file", {"path": "made/x.py", "content": "x"})
    assert not base.exists()


def test_a_symlink_in_a_task_fixture_is_copied_as_the_file_it_names(tmp_path, monkeypatch):
    from orchestrator.taskdef import Task

    (tmp_path / "outside.txt").write_text("outside\n")
    repo = tmp_path / "fixture"
    repo.mkdir()
    (repo / "link.txt").symlink_to(tmp_path / "outside.txt")
    monkeypatch.setattr(Task, "repo", property(lambda self: repo))
    with Workspace.create(TASK) as ws:
        assert not (ws.root / "link.txt").is_symlink()
        assert ws.call("read_file", {"path": "link.txt"}).result == "outside\n"


def test_a_fifo_left_by_a_test_or_script_is_removed_and_the_result_says_so(ws, monkeypatch):
    from orchestrator.workspace import commands
    from orchestrator.workspace.sandbox import SandboxResult

    def leaves_fifos(argv, cwd, home, limits=None):
        for n in range(12):
            os.mkfifo(cwd / f"p{n:02d}")
        return SandboxResult(0, "done\n")

    monkeypatch.setattr(commands, "run_contained", leaves_fifos)
    for command in ("pytest -q", "python script.py"):
        result = ws.call("run_command", {"command": command}).result
        head, _, removed = result.partition("\n[removed what the command left that is not a file: ")
        assert head == "done\n[exit code: 0]" and removed.endswith("]"), result
        names = removed[:-1].split(", ")
        assert len(names) == 10 and all(n.endswith(" (FIFO)") for n in names), names
        assert sorted(p.name for p in ws.root.iterdir()) == sorted(p.name for p in TASK.repo.iterdir())
