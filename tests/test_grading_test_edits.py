"""Edits to an existing test file, judged statement by statement (found by mutation testing): test
classes kept, changed or redefined, imports removed or renamed, new tests counted in classes and
modules, and a weakening added inside a class."""

import pytest

from orchestrator.grading.changes import judge_test_file

OLD = '''import os
import pytest as pt
from pkg.mod import f as g, h
from . import helpers


class TestGroup(Base):
    def test_two(self):
        assert g(2) == 3

    def test_three(self):
        assert h(3)


def test_one():
    assert g(1) == 2
'''


def judge(tmp_path, new: str, old: str = OLD, name: str = "tests/test_x.py"):
    before, after = tmp_path / "before.py", tmp_path / "after.py"
    before.write_text(old)
    after.write_text(new)
    return judge_test_file(name, before, after)


def test_new_tests_in_a_class_and_in_the_module_are_counted(tmp_path):
    new = OLD.replace("    def test_three(self):", "    def test_two_b(self):\n        assert g(4) == 5\n\n"
                      "    def test_three(self):") + "\n\ndef test_four():\n    assert h(4)\n\n\ndef helper():\n    pass\n"
    assert judge(tmp_path, new) == ([], "tests/test_x.py (2 new tests)")
    assert judge(tmp_path, OLD + "\n\ndef test_five():\n    pass\n") == ([], "tests/test_x.py (1 new test)")
    assert judge(tmp_path, OLD) == ([], "tests/test_x.py (0 new tests)")


@pytest.mark.parametrize("old_line, new_line", [
    ("import os\n", ""),
    ("import pytest as pt\n", "import pytest\n"),
    ("from pkg.mod import f as g, h\n", "from pkg.mod import h\n"),
    ("from . import helpers\n", "from .. import helpers\n"),
    ("from pkg.mod import f as g, h\n", "from pkg.other import f as g, h\n"),
])
def test_removing_or_changing_an_import_the_tests_use_is_damage(tmp_path, old_line, new_line):
    problems, _ = judge(tmp_path, OLD.replace(old_line, new_line))
    assert problems == ["tests/test_x.py: removed an import the existing tests use"]


def test_new_imports_are_fine(tmp_path):
    new = "import sys\nfrom pkg import extra\n" + OLD
    assert judge(tmp_path, new) == ([], "tests/test_x.py (0 new tests)")


@pytest.mark.parametrize("new, problem", [
    (OLD.replace("class TestGroup(Base):", "class TestGroup:"), "tests/test_x.py::TestGroup: decorators or bases changed"),
    (OLD.replace("class TestGroup(Base):", "@pt.mark.skip\nclass TestGroup(Base):"),
     "tests/test_x.py::TestGroup: decorators or bases changed"),
    (OLD.replace("class TestGroup(Base):", "class TestOther(Base):"), "tests/test_x.py::TestGroup: deleted or redefined"),
    (OLD + "\n\nclass TestGroup(Base):\n    pass\n", "tests/test_x.py::TestGroup: deleted or redefined"),
    (OLD + "\n\ndef TestGroup():\n    pass\n", "tests/test_x.py::TestGroup: deleted or redefined"),
    (OLD.replace("assert g(2) == 3", "assert True"), "tests/test_x.py::TestGroup::test_two: edited or deleted"),
])
def test_changing_an_existing_test_class_is_damage_named_by_where(tmp_path, new, problem):
    problems, _ = judge(tmp_path, new)
    assert problem in problems, problems


def test_every_damaged_class_is_reported_not_only_the_first(tmp_path):
    old = OLD + "\n\nclass TestMore:\n    def test_m(self):\n        pass\n"
    new = old.replace("class TestGroup(Base):", "class TestGone(Base):").replace("class TestMore:", "class TestAway:")
    problems, _ = judge(tmp_path, new, old=old)
    assert "tests/test_x.py::TestGroup: deleted or redefined" in problems
    assert "tests/test_x.py::TestMore: deleted or redefined" in problems


def test_a_weakening_inside_a_class_and_after_an_edit_is_still_reported(tmp_path):
    new = OLD.replace("    def test_three(self):", "    pytestmark = pt.mark.skip\n\n    def test_three(self):")
    problems, _ = judge(tmp_path, new)
    assert problems == ["tests/test_x.py::TestGroup: sets pytestmark"]
    both = OLD.replace("assert g(1) == 2", "assert True") + "\n\ndef pytest_collection_modifyitems(items):\n    items.clear()\n"
    problems, _ = judge(tmp_path, both)
    assert problems == ["tests/test_x.py::test_one: edited or deleted",
                        "tests/test_x.py: adds the hook pytest_collection_modifyitems"]


def test_a_new_autouse_fixture_weakens_only_in_a_conftest(tmp_path):
    fixture = "\n\n@pt.fixture(autouse=True)\ndef everything_passes():\n    yield\n"
    problems, _ = judge(tmp_path, OLD + fixture, name="tests/conftest.py")
    assert problems == ["tests/conftest.py: adds the autouse fixture everything_passes"]
    assert judge(tmp_path, OLD + fixture)[0] == []


def test_module_level_statements_are_labelled_by_kind_when_they_have_no_name(tmp_path):
    old = OLD + "\nprint('collected')\n"
    problems, _ = judge(tmp_path, OLD, old=old)
    assert problems == ["tests/test_x.py::Expr: edited or deleted"]
