"""What makes a file count as read (grading/reading.py), pinned on a small repo: the lines only that
file has, the calls whose output counts, and the logged path as the fallback for a file with no line
of its own."""

from pathlib import Path

import pytest

from orchestrator.grading import reading
from orchestrator.grading.reading import Sighting, distinctive_lines, file_was_seen, normalise_path
from orchestrator.trajectory import ToolEvent

TARGET = """[notifier]
max_retries = 7
  initial_backoff_s = 45
x = 1
abcdef
------------
# shared comment
"""


@pytest.fixture
def repo(tmp_path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "prod.toml").write_text(TARGET)
    (tmp_path / "config" / "staging.toml").write_text("[notifier]\nmax_retries = 2\n")
    (tmp_path / "README.md").write_text("# shared comment\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "copy.txt").write_text("abcdef\n")
    (tmp_path / "binary.dat").write_bytes(b"\xff\xfe abcdef\ninitial_backoff_s = 45\n")
    (tmp_path / "empty.py").write_text("")
    return tmp_path


def test_distinctive_lines_are_long_enough_with_a_letter_and_in_no_other_file(repo):
    assert distinctive_lines(repo, "config/prod.toml") == {"max_retries = 7", "initial_backoff_s = 45", "abcdef"}


def test_a_file_that_is_not_there_has_no_lines(repo):
    assert distinctive_lines(repo, "config/nope.toml") == set()
    assert distinctive_lines(repo, "config") == set()


def test_only_the_first_files_of_the_repo_are_compared(repo, monkeypatch):
    assert reading.MIN_LINE_CHARS == 6 and reading.MAX_FILES_SCANNED == 500
    monkeypatch.setattr(reading, "MAX_FILES_SCANNED", 1)  # README.md only
    assert distinctive_lines(repo, "config/prod.toml") == {"[notifier]", "max_retries = 7",
                                                           "initial_backoff_s = 45", "abcdef"}


def event(result, name="run_command", malformed=False, error=None):
    return ToolEvent(turn=1, name=name, arguments={}, raw_arguments="{}", result=result, malformed=malformed,
                     error=error)


def test_the_first_call_whose_output_carried_a_line_of_the_file_is_named(repo):
    events = [event("[notifier]\nmax_retries = 2"), event("nothing"),
              event("... initial_backoff_s = 45 ... max_retries = 7 ...", name="search_code"),
              event("abcdef", name="read_file")]
    assert file_was_seen(repo, "./config//prod.toml", events, set()) == Sighting(
        True, "call 3 (search_code) showed config/prod.toml: 'initial_backoff_s = 45'")


@pytest.mark.parametrize("ignored", [
    event("max_retries = 7", malformed=True),
    event("error: max_retries = 7", error="refused"),
    event("wrote max_retries = 7", name="write_file"),
])
def test_malformed_refused_and_write_calls_show_nothing(repo, ignored):
    assert file_was_seen(repo, "config/prod.toml", [ignored], {"config/prod.toml"}) == Sighting(
        False, "no tool output carried the content of config/prod.toml")
    later = file_was_seen(repo, "config/prod.toml", [ignored, event("max_retries = 7")], set())
    assert later == Sighting(True, "call 2 (run_command) showed config/prod.toml: 'max_retries = 7'")


def test_a_logged_read_counts_only_for_a_file_with_no_line_of_its_own(repo):
    assert file_was_seen(repo, "empty.py", [], {"./empty.py"}) == Sighting(True, "read empty.py through a tool")
    assert file_was_seen(repo, "empty.py", [], {"other.py", ""}) == Sighting(
        False, "no tool output carried the content of empty.py")
    assert file_was_seen(repo, "config/prod.toml", [], {"config/prod.toml"}).seen is False


@pytest.mark.parametrize("typed, normal", [
    ("./config//x.toml", "config/x.toml"),
    ("  config/x.toml \n", "config/x.toml"),
    ("/config/x.toml", "config/x.toml"),
    ("config\\x.toml", "config/x.toml"),
    ("config/sub/../x.toml", "config/x.toml"),
    ("", ""),
    ("XY/z.toml", "XY/z.toml"),
])
def test_typed_paths_are_normalised(typed, normal):
    assert normalise_path(typed) == normal


def test_a_target_with_bytes_that_are_not_utf8_still_has_its_lines(repo):
    (repo / "config" / "latin.toml").write_bytes(b"name = 'caf\xe9'\nlatin_only_setting = 3\n")
    assert distinctive_lines(repo, "config/latin.toml") == {"name = 'caf\ufffd'", "latin_only_setting = 3"}
