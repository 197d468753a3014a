"""Allowed changes (grading/changes.py): new tests anywhere are fine; editing, deleting, shadowing or
weakening an existing test is damage; anything outside the allowed globs is stray."""

from pathlib import Path

import pytest

from orchestrator.grading.changes import is_test_path, judge_changes

OLD_TEST = '''import pytest

from pkg.mod import f


def helper():
    return 1


def test_one():
    assert f(1) == 2


class TestGroup:
    def test_two(self):
        assert f(2) == 3
'''


def trees(tmp_path: Path, files_after: dict[str, str | None], files_before: dict[str, str] | None = None):
    before, after = tmp_path / "before", tmp_path / "after"
    base = {"tests/test_mod.py": OLD_TEST, "pkg/mod.py": "def f(x):\n    return x + 1\n", "pytest.ini": "[pytest]\n"}
    base.update(files_before or {})
    for root in (before, after):
        for rel, text in base.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    for rel, text in files_after.items():
        if text is None:
            (after / rel).unlink()
        else:
            (after / rel).parent.mkdir(parents=True, exist_ok=True)
            (after / rel).write_text(text)
    return judge_changes(sorted(files_after), before, after, ["pkg/*.py"])


@pytest.mark.parametrize("files", [
    {"tests/test_new.py": "def test_x():\n    assert True\n"},
    {"tests/test_mod.py": OLD_TEST.replace("from pkg.mod import f", "from pkg.mod import f, g") + "\n\ndef test_three():\n    assert f(0) == 1\n"},
    {"tests/test_mod.py": OLD_TEST + "    def test_more(self):\n        assert f(3) == 4\n"},
    {"tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef conn():\n    return 1\n"},
    {"pkg/mod.py": "def f(x):\n    return 1 + x\n", "tests/data/sample.json": "{}"},
])
def test_new_tests_and_allowed_source_pass(tmp_path, files):
    verdict = trees(tmp_path, files)
    assert not verdict.damaged_tests and not verdict.stray, verdict


@pytest.mark.parametrize("files, needle", [
    ({"tests/test_mod.py": OLD_TEST.replace("f(1) == 2", "f(1)")}, "test_one: edited"),
    ({"tests/test_mod.py": OLD_TEST.replace("assert f(2) == 3", "pass")}, "test_two: edited"),
    ({"tests/test_mod.py": None}, "deleted"),
    ({"tests/test_mod.py": OLD_TEST + "\n\ndef test_one():\n    assert True\n"}, "shadowed"),
    ({"tests/test_mod.py": OLD_TEST.replace("def test_one", "@pytest.mark.skip\ndef test_one")}, "test_one: edited"),
    ({"tests/test_mod.py": OLD_TEST + "\npytestmark = pytest.mark.skip\n"}, "pytestmark"),
    ({"tests/conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n"}, "pytest_collection_modifyitems"),
    ({"tests/conftest.py": "import pytest\n\n@pytest.fixture(autouse=True)\ndef skip_all():\n    pytest.skip()\n"}, "autouse"),
    ({"tests/test_mod.py": "def broken(:\n"}, "no longer parses"),
    ({"tests/test_mod.py": OLD_TEST.replace("from pkg.mod import f\n", "")}, "removed an import"),
])
def test_edited_deleted_or_weakened_tests_are_damage(tmp_path, files, needle):
    verdict = trees(tmp_path, files)
    assert any(needle in p for p in verdict.damaged_tests), verdict


def test_files_outside_the_globs_are_stray_config_included(tmp_path):
    verdict = trees(tmp_path, {"pytest.ini": "[pytest]\naddopts = -k nothing\n", "other/x.py": "x = 1\n"})
    assert verdict.stray == ["other/x.py", "pytest.ini"]


def test_what_counts_as_a_test_path():
    assert is_test_path("tests/test_a.py") and is_test_path("pkg/test_b.py") and is_test_path("c_test.py")
    assert is_test_path("tests/fixtures/data.json") and is_test_path("conftest.py")
    assert not is_test_path("pkg/mod.py") and not is_test_path("testing.py")
