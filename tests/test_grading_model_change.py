"""The model's change as the grader takes it (grading/model_change.py): the source and test files it
changed, and nothing else the workspace holds: no links, special or hard-linked files, bytecode,
configuration, grader folder, file outside the allowed globs, or new module shadowing an installed one."""

import os
import shutil
from pathlib import Path

import pytest

from orchestrator.grading import model_change
from orchestrator.grading.model_change import (
    Change, ChangeTooLarge, apply_change, collect_change, is_config, is_test_file, why_left_out)
from tests.helpers.sandbox_fixtures import Listing

FIXTURE = {
    "pkg/__init__.py": "",
    "pkg/mod.py": "def f(x):\n    return x + 1\n",
    "pkg/other.py": "VALUE = 1\n",
    "tests/test_mod.py": "from pkg.mod import f\n\n\ndef test_f():\n    assert f(1) == 2\n",
    "conftest.py": "",
    "pytest.ini": "[pytest]\n",
    "README.md": "# fixture\n",
}
ALLOWED = ["pkg/mod.py", "pkg/new_*.py"]


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            (root / rel).write_bytes(data)
        else:
            (root / rel).write_text(data)


@pytest.fixture
def trees(tmp_path):
    fixture, workspace = tmp_path / "fixture", tmp_path / "workspace"
    write(fixture, FIXTURE)
    shutil.copytree(fixture, workspace)
    return fixture, workspace


def test_an_untouched_workspace_is_an_empty_change(trees):
    fixture, workspace = trees
    change = collect_change(fixture, workspace, ALLOWED)
    assert (change.files, change.deleted, change.ignored) == ({}, [], [])


def test_changed_allowed_source_and_new_tests_are_carried(trees):
    fixture, workspace = trees
    write(workspace, {"pkg/mod.py": "def f(x):\n    return x + 2\n", "pkg/new_util.py": "A = 1\n",
                      "tests/test_new.py": "def test_n():\n    pass\n", "pkg/sub/deep_test.py": "X = 1\n"})
    change = collect_change(fixture, workspace, ALLOWED)
    assert change.files == {"pkg/mod.py": b"def f(x):\n    return x + 2\n", "pkg/new_util.py": b"A = 1\n",
                            "pkg/sub/deep_test.py": b"X = 1\n", "tests/test_new.py": b"def test_n():\n    pass\n"}
    assert (change.deleted, change.ignored) == ([], [])


def test_an_edited_existing_test_is_carried(trees):
    fixture, workspace = trees
    write(workspace, {"tests/test_mod.py": "def test_f():\n    pass\n"})
    assert collect_change(fixture, workspace, ALLOWED).files == {"tests/test_mod.py": b"def test_f():\n    pass\n"}


def test_what_the_task_does_not_allow_is_left_out_with_why(trees):
    fixture, workspace = trees
    write(workspace, {"pkg/other.py": "VALUE = 2\n", "README.md": "changed\n", "notes.txt": "new\n",
                      "conftest.py": "import pytest\n", "tests/conftest.py": "x = 1\n", "setup.cfg": "[x]\n",
                      "pkg/site.pth": "/tmp\n", "pkg/mod.pyc": b"\x00", "_hidden_tests/test_h.py": "def test_h(): pass\n",
                      "json.py": "x = 1\n"})
    change = collect_change(fixture, workspace, ALLOWED)
    assert change.files == {}
    assert change.ignored == [
        "README.md (a file the task does not let the model change)",
        "_hidden_tests/test_h.py (the grader's own folder)",
        "conftest.py (configuration the task does not let the model change)",
        "json.py (a new top-level module that would shadow an installed one)",
        "notes.txt (a file the task does not let the model change)",
        "pkg/mod.pyc (bytecode)",
        "pkg/other.py (a file the task does not let the model change)",
        "pkg/site.pth (configuration the task does not let the model change)",
        "setup.cfg (configuration the task does not let the model change)",
        "tests/conftest.py (configuration the task does not let the model change)",
    ]


def test_configuration_named_by_the_allowed_globs_is_carried(trees):
    fixture, workspace = trees
    write(workspace, {"pytest.ini": "[pytest]\naddopts = -q\n"})
    change = collect_change(fixture, workspace, ALLOWED + ["pytest.ini"])
    assert (change.files, change.ignored) == ({"pytest.ini": b"[pytest]\naddopts = -q\n"}, [])


def test_without_allowed_globs_any_source_file_is_carried_but_never_configuration(trees):
    fixture, workspace = trees
    write(workspace, {"README.md": "changed\n", "pkg/other.py": "VALUE = 2\n", "pytest.ini": "[pytest]\nx = 1\n"})
    change = collect_change(fixture, workspace, None)
    assert change.files == {"README.md": b"changed\n", "pkg/other.py": b"VALUE = 2\n"}
    assert change.ignored == ["pytest.ini (configuration the task does not let the model change)"]


def test_caches_are_never_walked(trees):
    fixture, workspace = trees
    write(workspace, {"pkg/__pycache__/mod.cpython-311.py": "x = 1\n", ".pytest_cache/v/x.py": "x\n",
                      ".git/config.py": "x\n", "venv/lib/a.py": "x\n", ".venv/a.py": "x\n", ".tox/a.py": "x\n",
                      ".mypy_cache/a.py": "x\n", ".ruff_cache/a.py": "x\n"})
    change = collect_change(fixture, workspace, None)
    assert (change.files, change.ignored) == ({}, [])


def test_links_special_and_hard_linked_files_are_left_out(trees):
    fixture, workspace = trees
    (workspace / "pkg" / "new_link.py").symlink_to(workspace / "pkg" / "mod.py")
    (workspace / "pkg" / "new_dirlink").symlink_to(workspace / "tests")
    os.mkfifo(workspace / "pkg" / "new_fifo.py")
    write(workspace, {"pkg/new_a.py": "A = 1\n"})
    os.link(workspace / "pkg" / "new_a.py", workspace / "pkg" / "new_b.py")
    change = collect_change(fixture, workspace, ALLOWED)
    assert change.files == {}
    assert change.ignored == ["pkg/new_a.py (not a plain file)", "pkg/new_b.py (not a plain file)",
                              "pkg/new_dirlink (not a plain file)", "pkg/new_fifo.py (not a plain file)",
                              "pkg/new_link.py (not a plain file)"]


def test_a_file_over_one_megabyte_is_left_out_one_at_the_bound_is_carried(trees):
    fixture, workspace = trees
    write(workspace, {"pkg/new_big.py": b"#" * (2**20 + 1), "pkg/new_edge.py": b"#" * 2**20})
    change = collect_change(fixture, workspace, ALLOWED)
    assert list(change.files) == ["pkg/new_edge.py"] and len(change.files["pkg/new_edge.py"]) == 2**20
    assert change.ignored == ["pkg/new_big.py (unreadable, special or over 1 MB)"]


def test_deleted_files_are_carried_only_where_a_change_would_be(trees):
    fixture, workspace = trees
    for rel in ("pkg/mod.py", "pkg/other.py", "tests/test_mod.py", "pytest.ini", "README.md"):
        (workspace / rel).unlink()
    change = collect_change(fixture, workspace, ALLOWED)
    assert change.deleted == ["pkg/mod.py", "tests/test_mod.py"]
    assert collect_change(fixture, workspace, None).deleted == ["README.md", "pkg/mod.py", "pkg/other.py",
                                                                "tests/test_mod.py"]


def test_too_many_changed_files_stop_the_grading(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {f"pkg/new_{i}.py": "x\n" for i in range(3)})
    monkeypatch.setattr(model_change, "MAX_CHANGED_FILES", 3)
    assert len(collect_change(fixture, workspace, ALLOWED).files) == 3
    monkeypatch.setattr(model_change, "MAX_CHANGED_FILES", 2)
    with pytest.raises(ChangeTooLarge) as err:
        collect_change(fixture, workspace, ALLOWED)
    assert str(err.value) == "the change is over 2 files or 8 MB"


def test_too_many_changed_bytes_stop_the_grading(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {"pkg/new_a.py": "x" * 10, "pkg/new_b.py": "y" * 10})
    monkeypatch.setattr(model_change, "MAX_TOTAL_BYTES", 20)
    assert collect_change(fixture, workspace, ALLOWED).files == {"pkg/new_a.py": b"x" * 10, "pkg/new_b.py": b"y" * 10}
    monkeypatch.setattr(model_change, "MAX_TOTAL_BYTES", 19)
    with pytest.raises(ChangeTooLarge):
        collect_change(fixture, workspace, ALLOWED)


def test_left_out_files_do_not_count_towards_the_bounds(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {"notes.txt": "x" * 100, "pkg/new_a.py": "y\n"})
    monkeypatch.setattr(model_change, "MAX_TOTAL_BYTES", 10)
    monkeypatch.setattr(model_change, "MAX_CHANGED_FILES", 1)
    assert collect_change(fixture, workspace, ALLOWED).files == {"pkg/new_a.py": b"y\n"}


def test_a_workspace_with_too_many_entries_stops_the_walk(trees, monkeypatch):
    fixture, workspace = trees
    entries = len([p for p in workspace.rglob("*")])
    monkeypatch.setattr(model_change, "MAX_WALK_ENTRIES", entries)
    assert collect_change(fixture, workspace, ALLOWED).files == {}
    write(workspace, {"pkg/new_x.py": "x\n"})
    with pytest.raises(ChangeTooLarge) as err:
        collect_change(fixture, workspace, ALLOWED)
    assert str(err.value) == f"the workspace holds over {entries} files and folders"


def test_the_bounds():
    assert (model_change.MAX_WALK_ENTRIES, model_change.MAX_CHANGED_FILES, model_change.MAX_FILE_BYTES,
            model_change.MAX_TOTAL_BYTES) == (20_000, 300, 2**20, 8 * 2**20)


def test_a_fixture_file_compared_unchanged_even_when_large(tmp_path):
    fixture, workspace = tmp_path / "f", tmp_path / "w"
    big = b"#" * (2**20)
    write(fixture, {"data.py": big})
    write(workspace, {"data.py": big})
    assert collect_change(fixture, workspace, None).files == {}


# ---- which paths the diff may carry ----

@pytest.mark.parametrize("rel, allowed, why", [
    ("_hidden_tests/test_x.py", None, "the grader's own folder"),
    ("_hidden_tests", None, "the grader's own folder"),
    ("pkg/_hidden_tests/test_x.py", ["pkg/*"], None),
    ("pkg/mod.pyc", None, "bytecode"),
    ("pkg/mod.pyo", ["pkg/*"], "bytecode"),
    ("conftest.py", None, "configuration the task does not let the model change"),
    ("tests/conftest.py", ["pkg/*"], "configuration the task does not let the model change"),
    ("pyproject.toml", ["pyproject.toml"], None),
    ("sitecustomize.py", None, "configuration the task does not let the model change"),
    ("usercustomize.py", None, "configuration the task does not let the model change"),
    ("setup.py", None, "configuration the task does not let the model change"),
    ("tox.ini", None, "configuration the task does not let the model change"),
    (".pytest.ini", None, "configuration the task does not let the model change"),
    ("pkg/local.cfg", None, "configuration the task does not let the model change"),
    ("pkg/a.pth", None, "configuration the task does not let the model change"),
    ("pkg/new.py", ["pkg/*.py"], None),
    ("pkg/new.py", ["other/*.py"], "a file the task does not let the model change"),
    ("pkg/new.py", [], "a file the task does not let the model change"),
    ("pkg/new.py", None, None),
    ("tests/test_new.py", [], None),
    ("tests/new_test.py", [], None),
    ("test_top.py", [], "a file the task does not let the model change"),
    ("tests/helper.py", [], "a file the task does not let the model change"),
    ("json.py", None, "a new top-level module that would shadow an installed one"),
    ("pytest/__init__.py", None, "a new top-level module that would shadow an installed one"),
    ("pkg/json.py", ["pkg/*"], None),
    ("no_such_module_xyz.py", None, None),
    ("my-script.py", None, None),
])
def test_why_a_path_is_left_out(rel, allowed, why):
    assert why_left_out(rel, allowed, {"pkg/mod.py", "tests/test_mod.py"}) == why


def test_a_module_the_fixture_already_has_never_counts_as_shadowing():
    assert why_left_out("json.py", None, {"json.py"}) is None
    assert why_left_out("json/util.py", None, {"json/__init__.py"}) is None
    assert why_left_out("json.py", None, {"jsonx.py"}) == "a new top-level module that would shadow an installed one"


def test_configuration_and_test_file_names():
    assert [is_config(p) for p in ("conftest.py", "a/b/pytest.ini", "x.cfg", "y.ini", "z.pth", "mod.py",
                                   "pyproject.toml", "README.md")] == [True, True, True, True, True, False, True, False]
    assert [is_test_file(p) for p in ("tests/test_a.py", "a/b_test.py", "test_a.py", "tests/test_a.txt",
                                      "tests/helper.py", "tests/mytest_a.py")] == [True, True, False, False, False,
                                                                                   False]


# ---- writing the change over a fresh copy ----

def test_the_change_is_written_over_the_copy(tmp_path):
    copy = tmp_path / "copy"
    write(copy, FIXTURE)
    apply_change(Change(files={"pkg/mod.py": b"NEW\n", "pkg/deep/er/x.py": b"X\n"},
                        deleted=["pkg/other.py", "gone.py"]), copy)
    assert (copy / "pkg/mod.py").read_bytes() == b"NEW\n"
    assert (copy / "pkg/deep/er/x.py").read_bytes() == b"X\n"
    assert not (copy / "pkg/other.py").exists()
    assert (copy / "README.md").read_text() == "# fixture\n"


def test_a_fixture_file_in_the_way_of_a_new_folder_is_replaced(tmp_path):
    copy = tmp_path / "copy"
    write(copy, FIXTURE)
    apply_change(Change(files={"README.md/inner.py": b"I\n"}), copy)
    assert (copy / "README.md").is_dir() and (copy / "README.md/inner.py").read_bytes() == b"I\n"


def test_a_link_in_the_way_of_a_folder_is_replaced_not_followed(tmp_path):
    copy, outside = tmp_path / "copy", tmp_path / "outside"
    write(copy, FIXTURE)
    outside.mkdir()
    (copy / "pkg" / "sub").symlink_to(outside)
    apply_change(Change(files={"pkg/sub/x.py": b"X\n"}), copy)
    assert not (copy / "pkg" / "sub").is_symlink() and (copy / "pkg/sub/x.py").read_bytes() == b"X\n"
    assert list(outside.iterdir()) == []


def test_a_fixture_folder_is_kept_when_the_change_has_a_file_of_its_name(tmp_path):
    copy = tmp_path / "copy"
    write(copy, FIXTURE)
    apply_change(Change(files={"tests": b"not a folder\n", "z.py": b"Z\n"}), copy)
    assert (copy / "tests").is_dir() and (copy / "tests/test_mod.py").exists()
    assert (copy / "z.py").read_bytes() == b"Z\n"


def test_a_deletion_never_removes_a_link_or_a_folder(tmp_path):
    copy = tmp_path / "copy"
    write(copy, FIXTURE)
    (copy / "link.py").symlink_to(copy / "pkg" / "mod.py")
    apply_change(Change(deleted=["link.py", "tests"]), copy)
    assert (copy / "link.py").is_symlink() and (copy / "pkg/mod.py").exists() and (copy / "tests").is_dir()


# ---- reading a file: never through a link, never blocking ----

def test_a_plain_file_is_read_up_to_its_limit(tmp_path):
    (tmp_path / "f").write_bytes(b"12345")
    assert model_change._read_regular(tmp_path / "f", 5) == b"12345"
    assert model_change._read_regular(tmp_path / "f", 4) is None


def test_links_fifos_folders_and_hard_links_are_not_read(tmp_path):
    (tmp_path / "f").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    os.mkfifo(tmp_path / "fifo")  # opened without O_NONBLOCK this would wait for a writer forever
    (tmp_path / "dir").mkdir()
    (tmp_path / "g").write_bytes(b"data")
    os.link(tmp_path / "g", tmp_path / "g2")
    assert [model_change._read_regular(tmp_path / n, 100) for n in ("link", "fifo", "dir", "g", "missing")] == [
        None, None, None, None, None]
    assert model_change._read_regular(tmp_path / "f", 100) == b"data"


def test_a_name_the_import_system_cannot_look_up_shadows_nothing(monkeypatch):
    import importlib.util

    def refuse(name, package=None):
        raise ImportError(name)
    monkeypatch.setattr(importlib.util, "find_spec", refuse)
    assert why_left_out("json.py", None, set()) is None


class _Entry:
    """A directory entry whose stat can be made to fail (a file removed while the walk runs)."""

    def __init__(self, real, fail: bool):
        self.real, self.name, self.fail = real, real.name, fail

    def stat(self, follow_symlinks=True):
        if self.fail:
            raise FileNotFoundError(2, "No such file or directory")
        return self.real.stat(follow_symlinks=follow_symlinks)


def _awkward_scandir(monkeypatch, unlistable=(), unstattable=()):
    """os.scandir in a fixed, awkward order: caches first, then the rest, the folder that cannot be
    listed last (so it is walked first); some folders refuse to be listed, some entries to be stat'ed."""
    real = os.scandir

    def scandir(path):
        if Path(path).name in unlistable:
            raise PermissionError(13, "Permission denied")
        with real(path) as it:
            entries = sorted(it, key=lambda e: (e.name not in model_change.SKIP_PARTS, e.name in unlistable, e.name))
        return Listing([_Entry(e, e.name in unstattable) for e in entries])
    monkeypatch.setattr(model_change.os, "scandir", scandir)


def test_caches_are_passed_over_and_the_rest_of_their_folder_still_walked(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {"pkg/__pycache__/x.pyc": "x", "pkg/new_a.py": "A\n", "pkg/.git/x": "x"})
    _awkward_scandir(monkeypatch)
    assert collect_change(fixture, workspace, ALLOWED).files == {"pkg/new_a.py": b"A\n"}


def test_a_folder_that_cannot_be_listed_is_passed_over_and_the_walk_goes_on(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {"pkg/new_a.py": "A\n", "zlocked/new_b.py": "B\n"})
    _awkward_scandir(monkeypatch, unlistable={"zlocked"})
    assert collect_change(fixture, workspace, None).files == {"pkg/new_a.py": b"A\n"}


def test_an_entry_that_cannot_be_looked_at_is_passed_over_and_the_walk_goes_on(trees, monkeypatch):
    fixture, workspace = trees
    write(workspace, {"pkg/a_gone.py": "gone\n", "pkg/new_b.py": "B\n"})
    _awkward_scandir(monkeypatch, unstattable={"a_gone.py"})
    assert collect_change(fixture, workspace, None).files == {"pkg/new_b.py": b"B\n"}


@pytest.mark.platform_skip
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="no /proc (Linux only)")
def test_a_file_that_grew_past_its_stated_size_is_not_read(tmp_path):
    # /proc files say size 0 and read longer: the same as a file written to between the check and the read
    assert os.stat("/proc/self/status").st_size == 0
    assert model_change._read_regular(Path("/proc/self/status"), 10) is None
    assert model_change._read_regular(Path("/proc/self/status"), 1 << 20).startswith(b"Name:")
