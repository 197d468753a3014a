"""run_command's decisions: which command lines run (and as what argv), which are answered from the
task's canned responses, which are refused and with what result, and how a finished command's output is
put together (cut, time limit, watchdog stop, exit code) for the model and the graders' log.

The decisions are checked with a recording stand-in for `run_contained` (the sandbox itself is
tests/test_sandbox_*.py's subject): it records the argv and limits it was given and answers with a
chosen SandboxResult, so nothing runs and every expected text is exact. The last tests run real commands
in the real sandbox, where running is the behaviour.
"""

import sys

import pytest

from orchestrator.taskdef import CannedResponse, FileCondition, load_task
from orchestrator.workspace import commands
from orchestrator.workspace.commands import classify, normalise, run_command
from orchestrator.workspace.sandbox import Limits, SandboxResult
from orchestrator.workspace.workspace import Workspace
from tests.helpers.sandbox_fixtures import SandboxRecorder

TASK = load_task("read_fix_write")
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


@pytest.fixture
def sandbox(monkeypatch):
    recorder = SandboxRecorder()
    monkeypatch.setattr(commands, "run_contained", recorder)
    return recorder


@pytest.fixture
def ws():
    with Workspace.create(TASK) as workspace:
        yield workspace


@pytest.fixture
def folders(tmp_path):
    root, home = tmp_path / "repo", tmp_path / "home"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (root / "a.py").write_text("print('a')\n")
    home.mkdir()
    return root, home


def run(command, folders, canned=(), limits=None):
    return run_command(command, folders[0], folders[1], list(canned), limits)


# ---- what runs, and as what ----

@pytest.mark.parametrize("command, kind, argv", [
    ("pytest", "test", PYTEST),
    ("pytest -q tests/test_a.py", "test", [*PYTEST, "-q", "tests/test_a.py"]),
    ("py.test -x", "test", [*PYTEST, "-x"]),
    ("/usr/local/bin/pytest -q", "test", [*PYTEST, "-q"]),
    ("python -m pytest", "test", PYTEST),
    ("python3 -m pytest -k 'a or b' tests", "test", [*PYTEST, "-k", "a or b", "tests"]),
    ("python a.py --flag x", "python", [sys.executable, "a.py", "--flag", "x"]),
    ("python3 a.py", "python", [sys.executable, "a.py"]),
    ("ls -la tests", "readonly", ["ls", "-la", "tests"]),
    ("cat a.py", "readonly", ["cat", "a.py"]),
    ("head -n 3 a.py", "readonly", ["head", "-n", "3", "a.py"]),
    ("tail a.py", "readonly", ["tail", "a.py"]),
    ("grep -rn print .", "readonly", ["grep", "-rn", "print", "."]),
    ("find . -name '*.py'", "readonly", ["find", ".", "-name", "*.py"]),
    ("wc -l a.py", "readonly", ["wc", "-l", "a.py"]),
])
def test_an_allowed_command_runs_as_this_argv_and_is_logged_by_kind(sandbox, folders, command, kind, argv):
    outcome = run(command, folders)
    assert (outcome.kind, outcome.exit_code, outcome.output) == (kind, 0, "fine\n[exit code: 0]")
    assert [call[0] for call in sandbox.calls] == [argv]
    assert sandbox.calls[0][1:3] == folders


@pytest.mark.parametrize("command", [
    "rm -rf tests", "bash -c 'cat /etc/passwd'", "sh", "python", "python -c 'print(1)'", "python -m",
    "python -m http.server", "python a.txt", "/bin/cat a.py", "./cat a.py", "echo hi", "pip install requests",
    "env python a.py", "sed -n 1p a.py", "python3 -m pip install x",
])
def test_a_command_off_the_allowlist_never_runs_and_gets_the_fixed_answer(sandbox, folders, command):
    outcome = run(command, folders)
    assert (outcome.output, outcome.kind, outcome.exit_code) == ("command not available in this environment",
                                                                 "unavailable", None)
    assert sandbox.calls == []


def test_classify_tells_kinds_apart_on_the_program_name():
    assert classify(["python3", "-m", "pytest", "-q"]) == ("test", [*PYTEST, "-q"])
    assert classify(["python", "-m", "pytest_other"]) == ("other", ["python", "-m", "pytest_other"])
    assert classify(["python", "tool.py"]) == ("python", [sys.executable, "tool.py"])
    assert classify(["python", "-B", "tool.py"]) == ("other", ["python", "-B", "tool.py"])
    assert classify(["grep", "x"]) == ("readonly", ["grep", "x"])
    assert classify(["/usr/bin/grep", "x"]) == ("other", ["/usr/bin/grep", "x"])
    assert classify(["mv", "a", "b"]) == ("other", ["mv", "a", "b"])


# ---- refusals: nothing runs, the result says why ----

@pytest.mark.parametrize("command, refusal", [
    ("cat /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("cat ~/.ssh/id_rsa", "absolute paths are not allowed: ~/.ssh/id_rsa"),
    ("cat ../secret", "paths outside the repository are not allowed: ../secret"),
    ("ls tests/../..", "paths outside the repository are not allowed: tests/../.."),
    ("head -n 2 /etc/shadow", "absolute paths are not allowed: /etc/shadow"),
    ("grep -r root /etc", "absolute paths are not allowed: /etc"),
    ("grep -e root /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("grep --regexp=root /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("grep --file=/etc/passwd a.py", "absolute paths are not allowed: /etc/passwd"),
    ("grep -f/etc/passwd a.py", "absolute paths are not allowed: /etc/passwd"),
    ("grep x --exclude-from=../list a.py", "paths outside the repository are not allowed: ../list"),
    ("wc --files0-from=/etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("wc a.py - --files0-from=/etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("grep -f~ a.py", "absolute paths are not allowed: ~"),
    ("grep -eroot /etc/passwd", "absolute paths are not allowed: /etc/passwd"),      # -e with its pattern attached
    ("grep -rnex /etc", "absolute paths are not allowed: /etc"),                     # ... at the end of a cluster
    ("grep -f /etc/passwd a.py", "absolute paths are not allowed: /etc/passwd"),     # patterns read from a file
    ("grep --file /etc/passwd a.py", "absolute paths are not allowed: /etc/passwd"),
    ("grep -rnf ../list a.py", "paths outside the repository are not allowed: ../list"),
    ("grep -rf/etc/passwd a.py", "absolute paths are not allowed: /etc/passwd"),     # a value after a flag cluster
    ("grep -- -x /etc/passwd", "absolute paths are not allowed: /etc/passwd"),       # -x is the pattern here
    ("cat -- a.py /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("cat /etc/passwd -- a.py", "absolute paths are not allowed: /etc/passwd"),
    ("grep --regexp=a=b /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("find / -name passwd", "absolute paths are not allowed: /"),
    ("find . -newer /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("find . ( -name x ) ../up", "paths outside the repository are not allowed: ../up"),
    ("python ../evil.py", "paths outside the repository are not allowed: ../evil.py"),
    ("python a.py /etc/passwd", "absolute paths are not allowed: /etc/passwd"),
    ("python a.py --out=../x", "paths outside the repository are not allowed: ../x"),
    ("pytest /tmp/test_x.py", "absolute paths are not allowed: /tmp/test_x.py"),
    ("pytest tests ../other", "paths outside the repository are not allowed: ../other"),
    ("pytest --rootdir=/", "absolute paths are not allowed: /"),
    ("pytest -c/etc/pytest.ini", "absolute paths are not allowed: /etc/pytest.ini"),
    ("pytest -c /etc/pytest.ini", "absolute paths are not allowed: /etc/pytest.ini"),
    ("pytest --confcutdir=../..", "paths outside the repository are not allowed: ../.."),
    ("python -m pytest ../t.py::test_x", "paths outside the repository are not allowed: ../t.py::test_x"),
    ("python -m pytest -q --basetemp=/tmp/x", "absolute paths are not allowed: /tmp/x"),
    ("find . -exec cat {} ;", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -name x -delete", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -fprint out.txt", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -execdir ls ;", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -ok rm {} ;", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -okdir rm {} ;", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -fprint0 o", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -fprintf o %p", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find . -fls o", "find may only list files here (-exec, -delete and friends are refused)"),
    ("find -L . -name x", "find may not follow symbolic links here (-L, -H, -follow)"),
    ("find -H .", "find may not follow symbolic links here (-L, -H, -follow)"),
    ("find . -follow", "find may not follow symbolic links here (-L, -H, -follow)"),
])
def test_a_command_naming_a_path_outside_or_a_forbidden_option_is_refused_without_running(sandbox, folders,
                                                                                          command, refusal):
    outcome = run(command, folders)
    assert (outcome.output, outcome.kind, outcome.exit_code) == (f"error: {refusal}", "refused", None)
    assert sandbox.calls == []


def test_a_symlink_leading_out_is_refused_even_when_dangling(sandbox, folders, tmp_path):
    root = folders[0]
    (tmp_path / "outside.py").write_text("print('out')\n")
    (root / "out.py").symlink_to(tmp_path / "outside.py")
    (root / "gone").symlink_to(tmp_path / "no_such_file")
    (root / "inner.py").symlink_to(root / "a.py")
    for command, arg in [("python out.py", "out.py"), ("cat gone", "gone"), ("pytest out.py::t", "out.py::t"),
                         ("grep -f gone a.py", "gone")]:
        outcome = run(command, folders)
        assert (outcome.output, outcome.kind) == (f"error: path leads outside the repository: {arg}", "refused")
    assert sandbox.calls == []
    assert run("python inner.py", folders).kind == "python", "a link that stays inside is fine"


@pytest.mark.parametrize("command", [
    "grep -n /etc/passwd a.py",          # the first positional argument of grep is its pattern
    "grep ../up a.py",
    "grep -e/abs a.py",
    "grep --regexp=/abs a.py",
    "grep -rn x",                        # a flag cluster is no path
    "head -n5 a.py",
    "pytest -q tests/test_a.py::test_a[../x]",
    "pytest 'tests/test_a.py::test_a/../../y'",
    "ls no_such_folder",                 # a missing path inside is the command's business
    "find . -name '*.py' -type f",
    "find . ! -name x",
    "find . -path -/../y",               # a find pattern, however it looks
    "cat - a.py",
    "cat -- a.py",
    "grep --color x a.py",
    "grep -n /abs -- a.py",              # the pattern before `--`, a file after it
    "grep /abs -- -e",                   # a file named -e after `--` gives no pattern
    "grep --line-number --recursive /usr/x .",
    "grep --regexp=a=/x a.py",           # a pattern holding `=` is still a pattern
    "grep --label=a=b x a.py",
    "pytest 'tests/test_a.py::test_p[../../x]::sub'",  # only the part before the first :: is a path
    "grep -rn --include=*.py x .",
])
def test_a_pattern_an_option_or_a_test_id_is_not_taken_for_a_path(sandbox, folders, command):
    outcome = run(command, folders)
    assert outcome.kind in ("readonly", "test") and outcome.output == "fine\n[exit code: 0]", outcome.output
    assert len(sandbox.calls) == 1


@pytest.mark.parametrize("command, refusal", [
    ("", "error: empty command"),
    ("   ", "error: empty command"),
    ("cat 'a.py", "error: could not parse the command line (No closing quotation)"),
    ("cat a\x00.py", "error: the command holds a NUL byte"),
    ("cat a\udc80.py", "error: the command is not valid text (surrogates not allowed at position 5)"),
    ("ls" + " a" * 8191 + "x", "error: command too long (16385 characters; at most 16384)"),
])
def test_a_command_line_that_cannot_be_parsed_is_refused(sandbox, folders, command, refusal):
    outcome = run(command, folders)
    assert (outcome.output, outcome.kind, outcome.exit_code) == (refusal, "refused", None)
    assert sandbox.calls == []


def test_a_command_of_16384_characters_is_still_considered(sandbox, folders):
    outcome = run("ls" + " a" * 8191, folders)
    assert (outcome.kind, len(sandbox.calls)) == ("readonly", 1)


# ---- canned answers ----

CANNED = [
    CannedResponse(match=r"^curl\b.*/api/orders", output="HTTP/1.1 200 OK\n\n{}\n\n",
                   when=[FileCondition(path="conf.toml", contains="port = 6432")],
                   otherwise="HTTP/1.1 500 Internal Server Error\n", otherwise_exit_code=22),
    CannedResponse(match=r"^curl\b.*/api/health", output="ok\n", exit_code=3, otherwise="down\n",
                   when=[FileCondition(path="conf.toml", contains="port"),
                         FileCondition(path="conf.toml", lacks="bad")]),
    CannedResponse(match=r"^deploy", output="deployed\n", when=[FileCondition(path="conf.toml", contains="never")],
                   otherwise_exit_code=1),
    CannedResponse(match=r"restart", output="restarted\n"),
    CannedResponse(match=r"^(systemctl|service)\b", output="second\n"),
]


def test_a_canned_command_answers_by_the_state_of_the_workspace(sandbox, folders):
    root = folders[0]
    orders = "curl -s http://localhost:8080/api/orders"
    assert run(orders, folders, CANNED) == commands.CommandOutcome("HTTP/1.1 500 Internal Server Error", "canned", 22)
    (root / "conf.toml").write_text("port = 6432\n")
    assert run(orders, folders, CANNED) == commands.CommandOutcome("HTTP/1.1 200 OK\n\n{}", "canned", 0)
    assert sandbox.calls == []


def test_every_condition_of_a_canned_answer_must_hold(sandbox, folders):
    root = folders[0]
    health = "curl localhost/api/health"
    (root / "conf.toml").write_text("port = 1\nbad\n")
    assert run(health, folders, CANNED) == commands.CommandOutcome("down", "canned", 3), "one of two conditions fails"
    (root / "conf.toml").write_text("port = 1\n")
    assert run(health, folders, CANNED) == commands.CommandOutcome("ok", "canned", 3)
    assert run("deploy now", folders, CANNED) == commands.CommandOutcome("deployed", "canned", 1), (
        "no `otherwise` text: the output, with the otherwise exit code")


def test_the_first_matching_canned_answer_wins_and_matches_anywhere_in_the_line(sandbox, folders):
    assert run("systemctl restart api", folders, CANNED) == commands.CommandOutcome("restarted", "canned", 0)
    assert run("service api status", folders, CANNED) == commands.CommandOutcome("second", "canned", 0)
    assert run("docker ps", folders, CANNED) == commands.CommandOutcome(
        "command not available in this environment", "unavailable")


def test_a_canned_answer_is_returned_as_written_less_its_final_newlines(sandbox, folders):
    never = [FileCondition(path="none", contains="y")]
    canned = [CannedResponse(match="^make", output="built with LaTeX\n\n"),
              CannedResponse(match="^ninja", output="padded  \t\n"),
              CannedResponse(match="^cmake", output="x", when=never, otherwise="table  \t\nXX\n"),
              CannedResponse(match="^scons", output="x", when=never, otherwise="padded \t\n\n")]
    assert run("make doc", folders, canned).output == "built with LaTeX"
    assert run("ninja", folders, canned).output == "padded  \t"
    assert run("cmake .", folders, canned).output == "table  \t\nXX"
    assert run("scons", folders, canned).output == "padded \t"


def test_find_syntax_is_not_a_path_even_where_a_link_bears_its_name(sandbox, folders, tmp_path):
    for name in ("(", ")", "!"):
        (folders[0] / name).symlink_to(tmp_path)
    assert run("find . ( -name a.py ) ! -type d", folders).kind == "readonly"


def test_an_allowlisted_command_is_never_answered_from_the_canned_list(sandbox, folders):
    canned = [CannedResponse(match="pytest", output="canned pytest")]
    assert run("pytest -q", folders, canned).kind == "test"
    assert len(sandbox.calls) == 1


# ---- how a finished command's output is put together ----

@pytest.mark.parametrize("answer, expected, exit_code", [
    (SandboxResult(0, "all good\n\n"), "all good\n[exit code: 0]", 0),
    (SandboxResult(1, "F\n1 failed in 0.31s\n"), "F\n1 failed\n[exit code: 1]", 1),
    (SandboxResult(2, ""), "\n[exit code: 2]", 2),
    (SandboxResult(0, "col  \t\n"), "col  \t\n[exit code: 0]", 0),
    (SandboxResult(0, "MAX\n"), "MAX\n[exit code: 0]", 0),
    (SandboxResult(None, "partial", timed_out=True),
     "partial\n[command stopped: time limit reached]\n[exit code: killed]", None),
    (SandboxResult(0, "y" * 10, cut=True), "yyyyyyyyyy\n[output cut at 8 KB]\n[exit code: 0]", 0),
    (SandboxResult(None, "grew", stopped="memory"),
     "grew\n[command stopped: its memory went over the sandbox's limit]\n[exit code: killed]", None),
    (SandboxResult(None, "", stopped="disk"),
     "\n[command stopped: its disk space went over the sandbox's limit]\n[exit code: killed]", None),
    (SandboxResult(None, "", stopped="files"),
     "\n[command stopped: its number of files went over the sandbox's limit]\n[exit code: killed]", None),
    (SandboxResult(None, "", stopped="error"),
     "\n[command stopped: its error went over the sandbox's limit]\n[exit code: killed]", None),
    (SandboxResult(None, "x", timed_out=True, cut=True),
     "x\n[output cut at 8 KB]\n[command stopped: time limit reached]\n[exit code: killed]", None),
])
def test_the_result_says_how_the_command_ended(sandbox, folders, answer, expected, exit_code):
    sandbox.answer = answer
    outcome = run("python a.py", folders, limits=Limits(output_bytes=8 * 1024))
    assert (outcome.output, outcome.kind, outcome.exit_code) == (expected, "python", exit_code)


def test_without_limits_a_cut_names_the_default_16_kb(sandbox, folders):
    sandbox.answer = SandboxResult(0, "z", cut=True)
    assert run("cat a.py", folders).output == "z\n[output cut at 16 KB]\n[exit code: 0]"
    assert sandbox.calls[0][3] is None


def test_the_limits_given_reach_the_sandbox(sandbox, folders):
    limits = Limits(timeout_s=3, cpu_s=2, output_bytes=1024)
    run("pytest -q", folders, limits=limits)
    assert sandbox.calls[0][3] is limits


def test_a_sandbox_that_refuses_returns_its_refusal_as_the_result(sandbox, folders):
    sandbox.answer = SandboxResult(None, "error: no sandbox on this machine", refused=True)
    assert run("pytest", folders) == commands.CommandOutcome("error: no sandbox on this machine", "refused")


def test_cat_head_and_tail_log_the_files_they_read_and_grep_logs_a_search(sandbox, folders):
    assert run("cat a.py tests/test_a.py", folders).read_paths == ("a.py", "tests/test_a.py")
    assert run("head -n 3 a.py", folders).read_paths == ("3", "a.py")
    assert run("tail -5 a.py", folders).read_paths == ("a.py",)
    assert (run("grep -n print a.py", folders).read_paths, run("grep -n print a.py", folders).searched) == ((), True)
    assert (run("ls -l a.py", folders).read_paths, run("ls -l a.py", folders).searched) == ((), False)
    assert run("python a.py", folders).searched is False


def test_the_workspace_logs_a_command_its_reads_and_its_search(sandbox, ws):
    ws.call("run_command", {"command": "cat utils/pagination.py README.md"})
    ws.call("run_command", {"command": "grep -rn paginate utils"})
    ws.call("run_command", {"command": "cat /etc/passwd"})
    ws.call("run_command", {"command": "npm install"})
    sandbox.answer = SandboxResult(3, "")
    ws.call("run_command", {"command": "pytest -q"})
    assert [(op.index, op.kind, op.path, op.ok, op.exit_code) for op in ws.log.ops] == [
        (0, "readonly", None, True, 0), (0, "read", "utils/pagination.py", True, None),
        (0, "read", "README.md", True, None),
        (1, "readonly", None, True, 0), (1, "search", None, True, None),
        (2, "refused", None, False, None),
        (3, "unavailable", None, True, None),
        (4, "test", None, True, 3),
    ]
    assert ws.log.last_index("test") == 4 and ws.log.last_index("refused") is None


def test_the_workspace_passes_its_own_folders_and_limits(sandbox, ws):
    event = ws.call("run_command", {"command": "ls"})
    assert event.result == "fine\n[exit code: 0]" and event.error is None
    argv, cwd, home, limits = sandbox.calls[0]
    assert (argv, cwd, home) == (["ls"], ws.root, ws.home)
    assert limits.output_bytes == 16 * 1024 and limits is ws.limits


def test_the_workspace_caps_what_a_command_returns_at_16_kb(sandbox, ws):
    sandbox.answer = SandboxResult(0, "o" * 20_000)
    result = ws.call("run_command", {"command": "python x.py"}).result
    assert result == "o" * (16 * 1024) + "\n[output cut at 16 KB]"


def test_the_visible_check_runs_the_tasks_check_and_cuts_its_output_at_4_kb(sandbox, ws):
    sandbox.answer = SandboxResult(1, "E" * 5000)
    ok, output = ws.run_visible_check()
    assert (ok, output) == (False, "E" * 4096 + "\n[output cut at 4 KB]")
    assert sandbox.calls[0][0] == [*PYTEST, "-q"] and sandbox.calls[0][3] is ws.limits
    sandbox.answer = SandboxResult(0, "3 passed in 0.01s\n")
    assert ws.run_visible_check() == (True, "3 passed\n[exit code: 0]")
    sandbox.answer = SandboxResult(None, "", timed_out=True)
    assert ws.run_visible_check() == (False, "\n[command stopped: time limit reached]\n[exit code: killed]"), (
        "a check that never finished did not pass")


def test_a_canned_visible_check_judges_the_workspace():
    task = load_task("dependency_chain")
    with Workspace.create(task) as ws:
        ok, output = ws.run_visible_check()
        assert (ok, output.splitlines()[0]) == (False, "HTTP/1.1 500 Internal Server Error")
        config = ws.root / "config/database.toml"
        config.write_text(config.read_text().replace("5432", "6432"))
        ok, output = ws.run_visible_check()
        assert (ok, output.splitlines()[0]) == (True, "HTTP/1.1 200 OK")


# ---- normalisation ----

def test_normalise_removes_temp_paths_timings_and_addresses(tmp_path):
    real, h_real = tmp_path / "real", tmp_path / "h_real"
    real.mkdir()
    h_real.mkdir()
    root, home = tmp_path / "link", tmp_path / "home"
    root.symlink_to(real)
    home.symlink_to(h_real)
    text = (f"{real}/a.py {root}/b.py {home}/.cache {h_real}/.config\n"
            "== 3 passed in 0.42s ==\n== 1 failed in 75.10s (0:01:15) ==\n== done in 12s ==\n"
            "<object at 0x7f3a9c2b1d40> 0xabcdef 0x12345 in 3 s\n")
    assert normalise(text, root, home) == (
        "./a.py ./b.py ./.cache ./.config\n== 3 passed ==\n== 1 failed ==\n== done ==\n"
        "<object at 0x…> 0x… 0x12345 in 3 s\n")


def test_a_workspace_under_a_symlinked_folder_may_name_its_own_files(sandbox, tmp_path):
    real = tmp_path / "real"
    (real / "repo").mkdir(parents=True)
    (real / "home").mkdir()
    (real / "repo" / "a.py").write_text("print('a')\n")
    (tmp_path / "via").symlink_to(real)  # as macOS's /var/folders is a link to /private/var/folders
    root, home = tmp_path / "via" / "repo", tmp_path / "via" / "home"
    assert run_command("python a.py", root, home, []).kind == "python"
    assert run_command("cat ../../real/repo/a.py", root, home, []).kind == "refused"


# ---- real commands in the real sandbox ----

def test_a_python_script_and_pytest_really_run_in_the_workspace(ws):
    ws.call("write_file", {"path": "show.py", "content": "import sys\nprint('args', sys.argv[1:])\nsys.exit(5)\n"})
    event = ws.call("run_command", {"command": "python show.py one 'two words'"})
    assert event.result == "args ['one', 'two words']\n[exit code: 5]"
    event = ws.call("run_command", {"command": "cat README.md"})
    assert event.result == (ws.root / "README.md").read_text().rstrip("\n") + "\n[exit code: 0]"
    event = ws.call("run_command", {"command": "grep -c page_links tests/test_page_links.py"})
    assert event.result == "3\n[exit code: 0]"


def test_a_fifo_left_by_a_script_is_removed_and_the_result_says_so(ws):
    ws.call("write_file", {"path": "mk.py", "content": "import os\nfor n in range(12):\n    os.mkfifo(f'p{n:02d}')\n"})
    event = ws.call("run_command", {"command": "python mk.py"})
    head, _, removed = event.result.partition("\n[removed what the command left that is not a file: ")
    assert head == "\n[exit code: 0]" and removed.endswith("]")
    names = removed[:-1].split(", ")
    assert len(names) == 10 and all(n.endswith(" (FIFO)") for n in names)
    assert not any(p.name.startswith("p") and len(p.name) == 3 for p in ws.root.iterdir())
