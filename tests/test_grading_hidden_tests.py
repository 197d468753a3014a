"""Hidden and visible tests run on the model's change (grading/hidden_tests.py): the change written over
a fresh fixture copy with the trusted hidden tests beside it, pytest pinned, each test judged from the
JUnit XML with the grader's own failing control test.

A tiny made-up task (a fixture whose `f` is off by one) keeps each run short. The fast tests stand in
for the sandboxed pytest with a function that records what the grader asked for and writes the report
pytest would; the tests marked "real" run pytest in the real sandbox."""

from __future__ import annotations

import configparser
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.grading import hidden_tests, model_change
from orchestrator.grading.hidden_tests import TestCheck as Result
from orchestrator.grading.hidden_tests import (
    GRADER_LIMITS, GradingFault, _expected, _ignore_caches, _plant_canary, _task_pytest_options,
    _test_files, _write_config, hidden_tests_check, run_pytest_on_change, visible_tests_check)
from orchestrator.workspace.isolation import current_isolation
from orchestrator.workspace.sandbox import Limits, SandboxResult

BUGGY = "def f(x):\n    return x\n"
FIXED = "def f(x):\n    return x + 1\n"
VISIBLE = "from pkg.mod import f\n\n\ndef test_type():\n    assert isinstance(f(0), int)\n"
HIDDEN = ("import pytest\n\nfrom pkg.mod import f\n\n\n@pytest.mark.parametrize('x', [1, 2])\n"
          "def test_f(x):\n    assert f(x) == x + 1\n\n\ndef test_zero():\n    assert f(0) == 1\n")


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def task(tmp_path):
    repo, hidden = tmp_path / "task" / "repo", tmp_path / "task" / "hidden_tests"
    write(repo, {"pkg/__init__.py": "", "pkg/mod.py": BUGGY, "tests/test_mod.py": VISIBLE, "README.md": "x\n",
                 "pkg/__pycache__/mod.cpython-311.pyc": "stale"})
    write(hidden, {"test_h.py": HIDDEN, "__pycache__/test_h.cpython-311.pyc": "stale"})
    return SimpleNamespace(id="tiny", repo=repo, hidden_tests=hidden,
                           checks=SimpleNamespace(allowed_changes=["pkg/mod.py"]))


@pytest.fixture
def workspace(task, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(task.repo, root)
    return root


# ---- a stand-in for the sandboxed pytest ----

class FakePytest:
    """Records the call and writes the JUnit XML pytest would for the given outcomes."""

    def __init__(self, outcomes: dict[str, str] | None = None, canary: str = "failure", **result):
        self.outcomes, self.canary, self.result = outcomes or {}, canary, result
        self.calls: list[dict] = []

    def __call__(self, argv, cwd, home, limits):
        copy = Path(cwd)
        files = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
        config = Path(argv[argv.index("-c") + 1])
        links = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_symlink())
        self.calls.append({"argv": argv, "cwd": copy, "home": Path(home), "limits": limits, "files": files,
                           "config": config.read_text(), "links": links})
        report = Path(next(a for a in argv if a.startswith("--junitxml="))[len("--junitxml="):])
        canary_path = argv[-1]
        module = canary_path[:-3].replace("/", ".")
        name = canary_path.rsplit("/", 1)[1][:-3]
        cases = [f'<testcase classname="{module}" name="{name}">'
                 + (f"<{self.canary}/>" if self.canary else "") + "</testcase>"]
        for key, outcome in self.outcomes.items():
            classname, test = key.split("::")
            child = {"passed": "", "failed": "<failure/>", "error": "<error/>"}[outcome]
            cases.append(f'<testcase classname="{classname}" name="{test}">{child}</testcase>')
        report.write_text(f'<?xml version="1.0"?><testsuites><testsuite>{"".join(cases)}</testsuite></testsuites>')
        return SandboxResult(**{"exit_code": 1, "output": "", **self.result})


ALL_PASS = {"_hidden_tests.test_h::test_f[1]": "passed", "_hidden_tests.test_h::test_f[2]": "passed",
            "_hidden_tests.test_h::test_zero": "passed"}


def test_the_change_runs_on_a_fresh_copy_with_the_trusted_hidden_tests(task, workspace, monkeypatch):
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    write(workspace, {"pkg/mod.py": FIXED, "README.md": "changed\n", "_hidden_tests/test_h.py": "def test_f():\n    pass\n",
                      "_hidden_tests/test_mine.py": "def test_x():\n    pass\n", "conftest.py": "x = 1\n"})
    assert hidden_tests_check(task, workspace) == Result(True, "3 of 3 hidden tests passed")
    [call] = fake.calls
    copy, files = call["cwd"], call["files"]
    canary = [f for f in files if f.startswith("_grader_")]
    assert len(canary) == 1 and re.fullmatch(r"_grader_[0-9a-f]{12}/test_[0-9a-f]{12}\.py", canary[0])
    assert sorted(set(files) - set(canary)) == ["README.md", "_hidden_tests/test_h.py", "pkg/__init__.py",
                                                "pkg/mod.py", "tests/test_mod.py"]
    assert (files["pkg/mod.py"], files["README.md"], files["_hidden_tests/test_h.py"]) == (
        FIXED.encode(), b"x\n", HIDDEN.encode())
    argv = call["argv"]
    report = next(a for a in argv if a.startswith("--junitxml="))
    assert argv == [sys.executable, "-I", "-B", "-m", "pytest", "-c", str(call["home"] / "pytest-grader.ini"),
                    "--rootdir", str(copy), "-p", "no:cacheprovider", report, "-o", "junit_family=xunit1",
                    "-o", "junit_logging=no", "-q", "--no-header", "-p", "no:stepwise", "_hidden_tests", canary[0]]
    assert re.fullmatch(rf"--junitxml={re.escape(str(call['home']))}/report-[0-9a-f]{{16}}\.xml", report)
    assert call["home"].parent == copy.parent and call["home"] != copy
    assert call["limits"] is GRADER_LIMITS
    assert call["config"] == f"[pytest]\npythonpath = {copy}\n"
    assert not copy.parent.exists(), "the grader's copy is removed afterwards"


def test_the_control_test_fails_by_its_own_arithmetic(task, workspace, monkeypatch):
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    hidden_tests_check(task, workspace)
    [(path, source)] = [(p, s) for p, s in fake.calls[0]["files"].items() if p.startswith("_grader_")]
    name = path.rsplit("/", 1)[1][:-3]
    namespace: dict = {}
    exec(source.decode(), namespace)
    with pytest.raises(AssertionError):
        namespace[name]()


def test_a_control_test_that_passed_fails_the_check(task, workspace, monkeypatch):
    monkeypatch.setattr(hidden_tests, "run_contained", FakePytest(ALL_PASS, canary=""))
    assert hidden_tests_check(task, workspace) == Result(
        False, "the test report was tampered with (the grader's failing control test did not fail)")


def test_a_hidden_case_that_never_ran_fails_the_check(task, workspace, monkeypatch):
    ran = {k: v for k, v in ALL_PASS.items() if not k.endswith("[2]")}
    monkeypatch.setattr(hidden_tests, "run_contained", FakePytest(ran))
    assert hidden_tests_check(task, workspace) == Result(False, "missing: test_f (1 of 2 cases ran)")


@pytest.mark.parametrize("result, detail", [
    ({"timed_out": True}, "stopped after 120 s; 3 of 3 hidden tests passed"),
    ({"stopped": "memory"}, "stopped: over the sandbox's memory limit; 3 of 3 hidden tests passed"),
])
def test_a_run_the_sandbox_stopped_fails_whatever_its_report_says(task, workspace, monkeypatch, result, detail):
    monkeypatch.setattr(hidden_tests, "run_contained", FakePytest(ALL_PASS, exit_code=None, **result))
    assert hidden_tests_check(task, workspace) == Result(False, detail)


def test_no_sandbox_is_a_grading_fault_not_a_failed_run(task, workspace, monkeypatch):
    monkeypatch.setattr(hidden_tests, "run_contained",
                        lambda argv, cwd, home, limits: SandboxResult(None, "error: no bubblewrap", refused=True))
    with pytest.raises(GradingFault, match="^error: no bubblewrap$"):
        hidden_tests_check(task, workspace)


def test_a_change_too_large_fails_without_running_anything(task, workspace, monkeypatch):
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    monkeypatch.setattr(model_change, "MAX_CHANGED_FILES", 0)
    write(workspace, {"pkg/mod.py": FIXED})
    assert hidden_tests_check(task, workspace) == Result(False, "the change is over 0 files or 8 MB")
    assert fake.calls == []


def test_the_grader_limits():
    assert GRADER_LIMITS == Limits(timeout_s=120, cpu_s=120, output_bytes=64 * 1024, max_procs=64)


@pytest.mark.parametrize("command, targets", [
    ("pytest -q tests/test_mod.py", ["tests/test_mod.py"]),
    ("python -m pytest -q tests/test_mod.py::test_type", ["tests/test_mod.py::test_type"]),
    ("python -m pytest tests/test_mod.py", ["tests/test_mod.py"]),
    ("pytest", []),
    ("pytest -x ../outside /etc tests sub/../../x", ["tests"]),
    ("py.test 'tests/test_mod.py'", ["tests/test_mod.py"]),
])
def test_the_visible_command_keeps_its_paths_and_drops_its_options(task, workspace, monkeypatch, command, targets):
    seen = []
    monkeypatch.setattr(hidden_tests, "run_pytest_on_change",
                        lambda t, ws, tg, with_hidden, what: seen.append((t, ws, tg, with_hidden, what)) or Result(True, ""))
    visible_tests_check(task, workspace, command)
    assert seen == [(task, workspace, targets, False, "existing tests")]


def test_visible_tests_run_the_fixtures_own_tests_without_the_hidden_ones(task, workspace, monkeypatch):
    fake = FakePytest({"tests.test_mod::test_type": "passed"})
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    assert visible_tests_check(task, workspace, "pytest -q tests/test_mod.py") == Result(
        True, "1 of 1 existing tests passed")
    files, argv = fake.calls[0]["files"], fake.calls[0]["argv"]
    assert not any(f.startswith("_hidden_tests") for f in files)
    assert argv[-2] == "tests/test_mod.py"


def test_a_visible_test_that_never_ran_fails_the_check(task, workspace, monkeypatch):
    monkeypatch.setattr(hidden_tests, "run_contained", FakePytest({}))
    assert visible_tests_check(task, workspace, "pytest -q tests/test_mod.py") == Result(
        False, "missing: test_type (0 of 1 cases ran)")


def test_without_targets_the_fixtures_testpaths_are_run(task, workspace, monkeypatch):
    write(task.repo, {"pytest.ini": "[pytest]\ntestpaths = tests more\n"})
    fake = FakePytest({"tests.test_mod::test_type": "passed"})
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    visible_tests_check(task, workspace, "pytest")
    assert fake.calls[0]["argv"][-4:-1] == ["no:stepwise", "tests", "more"]
    write(task.repo, {"pytest.ini": "[pytest]\n"})
    visible_tests_check(task, workspace, "pytest")
    assert fake.calls[1]["argv"][-3:-1] == ["no:stepwise", "."]


# ---- the pieces ----

def test_caches_and_bytecode_are_never_copied():
    names = ["__pycache__", ".pytest_cache", ".git", "venv", "a.pyc", "b.pyo", "c.py", "d.pyc.txt", "tests"]
    assert _ignore_caches("/x", names) == {"__pycache__", ".pytest_cache", ".git", "venv", "a.pyc", "b.pyo"}


def test_the_fixtures_pytest_settings_are_read_from_each_config_file(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests", "more"]\naddopts = "-q"\n'
                                       "xfail_strict = true\nminversion = 7\n",
                     "pytest.ini": "[pytest]\naddopts = -x\nmarkers = slow\n",
                     "tox.ini": "[pytest]\nmarkers = fast\n[tox]\nenv = py\n",
                     "setup.cfg": "[tool:pytest]\nfilterwarnings = error\n[pytest]\nignored = yes\n"})
    assert _task_pytest_options(tmp_path) == {"testpaths": "tests\n  more", "addopts": "-x", "xfail_strict": "True",
                                              "minversion": "7", "markers": "fast", "filterwarnings": "error"}


def test_a_broken_config_file_does_not_hide_the_next_one(tmp_path):
    (tmp_path / "pytest.ini").write_text("no section header\n")
    (tmp_path / "tox.ini").write_text("[pytest]\naddopts = -x\n")
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\nmarkers = slow\n")
    assert _task_pytest_options(tmp_path) == {"addopts": "-x", "markers": "slow"}


@pytest.mark.parametrize("files", [
    {"pyproject.toml": b"[tool.pytest.ini_options\n"},
    {"pyproject.toml": b"\xff\xfe[tool.pytest.ini_options]\n"},
    {"pyproject.toml": b"[project]\nname = 'x'\n"},
    {"pytest.ini": b"no section header\n"},
    {"setup.cfg": b"[pytest]\naddopts = -x\n"},
    {},
])
def test_broken_or_unrelated_config_gives_no_settings(tmp_path, files):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert _task_pytest_options(tmp_path) == {}


def test_the_graders_config_keeps_the_fixtures_settings_with_the_copy_on_the_path(tmp_path):
    fixture, copy = tmp_path / "fixture", tmp_path / "copy"
    write(fixture, {"pytest.ini": "[pytest]\npythonpath = src lib\ncache_dir = /tmp/evil\naddopts = -q\n"})
    _write_config(tmp_path / "grader.ini", fixture, copy)
    assert (tmp_path / "grader.ini").read_text() == f"[pytest]\naddopts = -q\npythonpath = {copy} {copy}/src {copy}/lib\n"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(tmp_path / "grader.ini")
    assert parser.get("pytest", "pythonpath").split() == [str(copy), f"{copy}/src", f"{copy}/lib"]


def test_test_files_are_found_by_target(tmp_path):
    write(tmp_path, {"tests/test_a.py": "", "tests/b_test.py": "", "tests/helper.py": "", "tests/sub/test_c.py": "",
                     "tests/__pycache__/test_d.py": "", "test_top.py": "", "pkg/mod.py": "", "tests/data.txt": "",
                     ".venv/test_e.py": "", "tests/mytest.py": ""})
    rel = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]  # noqa: E731
    assert rel(_test_files(tmp_path, ["tests"])) == ["tests/b_test.py", "tests/sub/test_c.py", "tests/test_a.py"]
    assert rel(_test_files(tmp_path, ["tests/test_a.py::test_x"])) == ["tests/test_a.py"]
    assert rel(_test_files(tmp_path, ["tests/test_a.py::TestX::test_y"])) == ["tests/test_a.py"]
    assert rel(_test_files(tmp_path, ["tests/helper.py"])) == []
    assert rel(_test_files(tmp_path, ["nope", "pkg"])) == []
    assert rel(_test_files(tmp_path, [])) == ["test_top.py", "tests/b_test.py", "tests/sub/test_c.py",
                                              "tests/test_a.py"]
    assert rel(_test_files(tmp_path, ["tests/sub", "test_top.py"])) == ["tests/sub/test_c.py", "test_top.py"]


def test_expected_tests_of_several_files_and_an_unreadable_one_skipped(tmp_path):
    write(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n", "tests/test_b.py": "def test_b(:\n",
                     "tests/test_c.py": "def test_c():\n    pass\n"})
    (tmp_path / "tests" / "test_d.py").write_bytes(b"def test_d():\n    '\xff'\n")
    files = [tmp_path / "tests" / n for n in ("test_a.py", "test_b.py", "test_d.py", "test_missing.py", "test_c.py")]
    assert _expected(files, tmp_path) == {"tests.test_a::test_a": 1, "tests.test_c::test_c": 1}


def test_the_control_test_has_a_random_name_and_key(tmp_path):
    key, target = _plant_canary(tmp_path)
    folder, name = target[:-3].split("/")
    assert key == f"{folder}.{name}::{name}"
    assert re.fullmatch(r"_grader_[0-9a-f]{12}", folder) and re.fullmatch(r"test_[0-9a-f]{12}", name)
    source = (tmp_path / target).read_text()
    a, b, total = map(int, re.fullmatch(rf"def {name}\(\):\n    assert (\d+) \+ (\d+) == (\d+)\n", source).groups())
    assert total == a + b + 1 and 1 <= a <= 10**6 and 1 <= b <= 10**6
    assert _plant_canary(tmp_path) != (key, target)


# ---- real pytest in the real sandbox ----

real = pytest.mark.skipif(not current_isolation().usable, reason="no sandbox here (bubblewrap)")


@real
def test_real_the_right_fix_passes_the_hidden_tests(task, workspace):
    write(workspace, {"pkg/mod.py": FIXED})
    assert hidden_tests_check(task, workspace) == Result(True, "3 of 3 hidden tests passed")


@real
def test_real_the_bug_left_in_place_fails_every_hidden_test(task, workspace):
    write(workspace, {"tests/test_new.py": "def test_new():\n    pass\n"})
    assert hidden_tests_check(task, workspace) == Result(
        False, "3 of 3 hidden tests did not pass: test_f[1] (failed), test_f[2] (failed), test_zero (failed)")


@real
def test_real_a_broken_visible_test_fails_the_existing_tests(task, workspace):
    write(workspace, {"pkg/mod.py": "def f(x):\n    return str(x)\n"})
    assert visible_tests_check(task, workspace, "pytest -q tests/test_mod.py") == Result(
        False, "1 of 1 existing tests did not pass: test_type (failed)")


@real
def test_real_the_fixtures_pythonpath_is_kept(tmp_path):
    repo, hidden = tmp_path / "repo", tmp_path / "hidden"
    write(repo, {"pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
                 "src/lib/__init__.py": "", "src/lib/core.py": "def g():\n    return 1\n"})
    write(hidden, {"test_g.py": "from lib.core import g\n\n\ndef test_g():\n    assert g() == 2\n"})
    task = SimpleNamespace(id="src", repo=repo, hidden_tests=hidden, checks=SimpleNamespace(allowed_changes=None))
    ws = tmp_path / "ws"
    shutil.copytree(repo, ws)
    (ws / "src/lib/core.py").write_text("def g():\n    return 2\n")
    assert run_pytest_on_change(task, ws, ["_hidden_tests"], with_hidden=True, what="hidden tests") == Result(
        True, "1 of 1 hidden tests passed")


def test_a_hidden_tests_folder_in_the_fixture_is_replaced_by_the_trusted_one(task, workspace, monkeypatch):
    write(task.repo, {"_hidden_tests/test_stale.py": "def test_stale():\n    pass\n"})
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    assert hidden_tests_check(task, workspace) == Result(True, "3 of 3 hidden tests passed")
    assert sorted(f for f in fake.calls[0]["files"] if f.startswith("_hidden_tests")) == ["_hidden_tests/test_h.py"]


@pytest.mark.parametrize("draw, addends", [(lambda n: 0, (1, 1)), (lambda n: n - 1, (10**6, 10**6))])
def test_the_control_tests_addends_are_drawn_from_one_to_a_million(tmp_path, monkeypatch, draw, addends):
    monkeypatch.setattr(hidden_tests.secrets, "randbelow", draw)
    key, target = _plant_canary(tmp_path)
    name = key.rsplit("::", 1)[1]
    a, b = addends
    assert (tmp_path / target).read_text() == f"def {name}():\n    assert {a} + {b} == {a + b + 1}\n"


def test_the_copy_holds_no_link_of_the_fixture(task, workspace, monkeypatch):
    (task.repo / "pkg" / "alias.py").symlink_to("mod.py")
    (workspace / "pkg" / "alias.py").symlink_to("mod.py")
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    hidden_tests_check(task, workspace)
    assert fake.calls[0]["links"] == []
    assert fake.calls[0]["files"]["pkg/alias.py"] == BUGGY.encode()


def test_visible_tests_expect_only_the_tests_their_command_names(task, workspace, monkeypatch):
    write(task.repo, {"tests/test_other.py": "def test_other():\n    pass\n"})
    write(workspace, {"tests/test_other.py": "def test_other():\n    pass\n"})
    monkeypatch.setattr(hidden_tests, "run_contained", FakePytest({"tests.test_mod::test_type": "passed"}))
    assert visible_tests_check(task, workspace, "pytest tests/test_mod.py") == Result(True, "1 of 1 existing tests passed")


def test_the_copy_and_home_are_handed_to_a_fresh_sandbox_user(task, workspace, monkeypatch):
    handed = []
    monkeypatch.setattr(hidden_tests, "sandbox_uid", lambda: 54321)
    monkeypatch.setattr(hidden_tests, "hand_over", lambda *paths, uid=None: handed.append((paths, uid)))
    fake = FakePytest(ALL_PASS)
    monkeypatch.setattr(hidden_tests, "run_contained", fake)
    hidden_tests_check(task, workspace)
    assert handed == [((fake.calls[0]["cwd"], fake.calls[0]["home"]), 54321)]
