"""Collateral damage to the tests (grading/changes.py), each verdict pinned whole: the problems found
and what the change is called, for deleted, edited, unparsable and new test files, test data, and
each way of weakening the suite a conftest or test module can carry."""

from pathlib import Path

import pytest

from orchestrator.grading.changes import ChangeVerdict, is_test_path, judge_changes, judge_test_file

OLD = "import pytest\n\n\ndef test_one():\n    assert 1\n"


def judged(tmp_path: Path, rel: str, old: str | bytes | None, new: str | bytes | None):
    before, after = tmp_path / "before", tmp_path / "after"
    for root, text in ((before, old), (after, new)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (root / rel).write_bytes(text)
        elif text is not None:
            (root / rel).write_text(text)
    return judge_test_file(rel, before / rel, after / rel)


@pytest.mark.parametrize("rel, old, new, verdict", [
    ("tests/test_a.py", OLD, None, (["tests/test_a.py: deleted"], "")),
    ("tests/data.json", "{}", None, (["tests/data.json: deleted"], "")),
    ("tests/data.json", "{}", '{"a": 1}', (["tests/data.json: test data edited"], "")),
    ("tests/data.json", None, "{}", ([], "tests/data.json (new test data)")),
    ("tests/test_a.py", OLD, "def broken(:\n", (["tests/test_a.py: no longer parses"], "")),
    ("tests/test_a.py", OLD, b"\x00\x01", (["tests/test_a.py: no longer parses"], "")),
    ("tests/test_a.py", "def broken(:\n", "def test_x():\n    pass\n", (["tests/test_a.py: edited"], "")),
    ("tests/test_a.py", OLD, OLD, ([], "tests/test_a.py (0 new tests)")),
    ("tests/test_a.py", None, "def test_x():\n    pass\n", ([], "tests/test_a.py (new test file)")),
    ("tests/test_a.py", None, "def pytest_configure(config):\n    pass\n", ([], "tests/test_a.py (new test file)")),
    ("tests/conftest.py", None, "import pytest\n\n\n@pytest.fixture\ndef db():\n    return 1\n",
     ([], "tests/conftest.py (new test file)")),
    ("tests/conftest.py", None, "def pytest_configure(config):\n    pass\n\n\nasync def pytest_x():\n    pass\n",
     (["tests/conftest.py: adds the hook pytest_configure", "tests/conftest.py: adds the hook pytest_x"],
      "tests/conftest.py (new test file)")),
    ("tests/conftest.py", None, "collect_ignore = ['test_a.py']\n",
     (["tests/conftest.py: sets collect_ignore"], "tests/conftest.py (new test file)")),
    ("conftest.py", None, "import pytest\n\n\n@pytest.fixture(autouse=True)\ndef everything():\n    yield\n",
     (["conftest.py: adds the autouse fixture everything"], "conftest.py (new test file)")),
])
def test_each_kind_of_test_file_change_gets_its_verdict(tmp_path, rel, old, new, verdict):
    assert judged(tmp_path, rel, old, new) == verdict


@pytest.mark.parametrize("added, problem", [
    ("pytestmark = pytest.mark.skip\n", "sets pytestmark"),
    ("pytestmark: object = pytest.mark.skip\n", "sets pytestmark"),
    ("collect_ignore = ['x']\n", "sets collect_ignore"),
    ("collect_ignore += ['x']\n", "sets collect_ignore"),
    ("collect_ignore_glob = ['*']\n", "sets collect_ignore_glob"),
    ("pytest_plugins = ['evil']\n", "sets pytest_plugins"),
    ("pytestmark, other = pytest.mark.skip, 1\n", "sets pytestmark"),
    ("def pytest_runtest_call(item):\n    pass\n", "adds the hook pytest_runtest_call"),
    ("async def pytest_runtest_call(item):\n    pass\n", "adds the hook pytest_runtest_call"),
])
def test_each_weakening_added_to_an_existing_test_module_is_named(tmp_path, added, problem):
    assert judged(tmp_path, "tests/test_a.py", OLD, OLD + "\n" + added) == (
        [f"tests/test_a.py: {problem}"], "tests/test_a.py (0 new tests)")


@pytest.mark.parametrize("added, count", [
    ("def test_two():\n    pass\n", "1 new test"),
    ("async def test_two():\n    pass\n", "1 new test"),
    ("def test_two():\n    pass\n\n\ndef test_three():\n    pass\n", "2 new tests"),
    ("def helper():\n    pass\n", "0 new tests"),
    ("def tester():\n    pass\n", "1 new test"),
    ("X = 1\n", "0 new tests"),
    ("import os\n", "0 new tests"),
    ("@pytest.fixture(autouse=True)\ndef setup():\n    yield\n", "0 new tests"),
])
def test_new_module_level_tests_are_counted(tmp_path, added, count):
    assert judged(tmp_path, "tests/test_a.py", OLD, OLD + "\n" + added) == ([], f"tests/test_a.py ({count})")


@pytest.mark.parametrize("old, new, problems", [
    (OLD + "X: int = 1\n", OLD + "X: int = 2\n", ["tests/test_a.py::X: edited or deleted"]),
    (OLD + "X = 1\n", OLD + "X = 1\nX = 2\n", ["tests/test_a.py::X: shadowed by a later definition of the same name"]),
    (OLD + "X = 1\n", OLD + "X = 1\nX += 1\n",
     ["tests/test_a.py::X: shadowed by a later definition of the same name"]),
    (OLD + "X = 1\n", OLD + "X = 1\n", []),
    (OLD + "\nclass TestA:\n    x = 1\n", OLD + "\nclass TestA:\n    x = 2\n", ["tests/test_a.py::TestA::x: edited or deleted"]),
    (OLD + "\nclass TestA:\n    pass\n", OLD + "\nclass TestA:\n    pass\n\n    def test_new(self):\n        pass\n", []),
])
def test_edits_to_existing_statements_are_named_by_where(tmp_path, old, new, problems):
    assert judged(tmp_path, "tests/test_a.py", old, new)[0] == problems


def test_a_class_keeps_its_count_of_new_tests(tmp_path):
    old = OLD + "\nclass TestA:\n    pass\n"
    new = old + "\n    def test_b(self):\n        pass\n\n    def test_c(self):\n        pass\n"
    assert judged(tmp_path, "tests/test_a.py", old, new) == ([], "tests/test_a.py (2 new tests)")


def test_the_verdict_of_a_whole_change_sorts_each_file(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    files = {"tests/test_a.py": OLD, "tests/test_b.py": OLD, "src/m.py": "x = 1\n", "README.md": "r\n"}
    for root in (before, after):
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    (after / "tests/test_a.py").write_text(OLD + "\n\ndef test_new():\n    pass\n")
    (after / "tests/test_b.py").unlink()
    (after / "src/m.py").write_text("x = 2\n")
    (after / "README.md").write_text("changed\n")
    (after / "src/n.py").write_text("y = 1\n")
    (after / "tests/test_c.py").write_text("def test_c():\n    pass\n")
    (after / "tests/test_d.py").write_text("def test_d(:\n")
    verdict = judge_changes(["README.md", "src/m.py", "src/n.py", "tests/test_a.py", "tests/test_b.py",
                             "tests/test_c.py", "tests/test_d.py", "tests/test_e.py"], before, after, ["src/m.py"])
    assert verdict == ChangeVerdict(allowed=["src/m.py", "tests/test_a.py (1 new test)", "tests/test_c.py (new test file)"],
                                    stray=["README.md", "src/n.py"],
                                    damaged_tests=["tests/test_b.py: deleted", "tests/test_d.py: no longer parses",
                                                   "tests/test_e.py: deleted"])


def test_nothing_changed_is_an_empty_verdict(tmp_path):
    assert judge_changes([], tmp_path, tmp_path, ["*"]) == ChangeVerdict([], [], [])


@pytest.mark.parametrize("rel, is_test", [
    ("tests/test_a.py", True), ("test_a.py", True), ("a_test.py", True), ("pkg/conftest.py", True),
    ("tests/data/x.json", True), ("a/tests/b.txt", True), ("tests", False), ("tests.py", False),
    ("test_a.txt", False), ("pkg/mod.py", False), ("testing/x.py", False), ("atest_b.py", False),
    ("pkg/test.py", False), ("x_test.txt", False),
])
def test_what_counts_as_a_test_path(rel, is_test):
    assert is_test_path(rel) is is_test


def test_an_edited_test_is_damage_and_not_counted_as_new(tmp_path):
    new = OLD.replace("assert 1", "assert True")
    assert judged(tmp_path, "tests/test_a.py", OLD, new) == (["tests/test_a.py::test_one: edited or deleted"],
                                                             "tests/test_a.py (0 new tests)")


def test_new_tests_in_two_classes_are_all_counted(tmp_path):
    old = OLD + "\nclass TestA:\n    pass\n\n\nclass TestB:\n    pass\n"
    new = old.replace("class TestA:\n    pass\n", "class TestA:\n    pass\n\n    def test_a(self):\n        pass\n")
    new = new.replace("class TestB:\n    pass\n", "class TestB:\n    pass\n\n    def test_b(self):\n        pass\n")
    assert judged(tmp_path, "tests/test_a.py", old, new + "\n\ndef test_c():\n    pass\n") == (
        [], "tests/test_a.py (3 new tests)")


def test_an_autouse_fixture_added_to_a_class_of_a_conftest_is_damage(tmp_path):
    old = "import pytest\n\n\nclass Helpers:\n    pass\n"
    new = old + "\n    @pytest.fixture(autouse=True)\n    def skip_all(self):\n        pytest.skip()\n"
    assert judged(tmp_path, "tests/conftest.py", old, new) == (
        ["tests/conftest.py::Helpers: adds the autouse fixture skip_all"], "tests/conftest.py (0 new tests)")


def test_an_unchanged_statement_is_never_a_weakening_whatever_its_name(tmp_path):
    old = OLD + "\n\nclass pytestmark:\n    pass\n"
    assert judged(tmp_path, "tests/test_a.py", old, old + "\n\ndef test_new():\n    pass\n") == (
        [], "tests/test_a.py (1 new test)")


def test_a_test_file_with_bytes_that_are_not_utf8_is_still_compared(tmp_path):
    old = b"# caf\xe9\n" + OLD.encode()
    new = old + b"\n\ndef test_new():\n    pass\n"
    assert judged(tmp_path, "tests/test_a.py", old, new) == ([], "tests/test_a.py (1 new test)")
