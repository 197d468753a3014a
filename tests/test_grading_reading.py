"""Reading detected by content (grading/reading.py), and canned responses judged by parsed TOML."""

from pathlib import Path

import pytest

from orchestrator.grading.reading import file_was_seen, normalise_path
from orchestrator.taskdef import FileCondition, load_task
from orchestrator.workspace.workspace import Workspace

TASK = load_task("config_read")
TARGET = "config/production.toml"


def seen_after(*calls):
    with Workspace.create(TASK) as ws:
        events = [ws.call(name, args) for name, args in calls]
        read = {op.path for op in ws.log.ops if op.kind == "read" and op.path}
        return file_was_seen(TASK.repo, TARGET, events, read)


@pytest.mark.parametrize("calls", [
    [("read_file", {"path": "config/production.toml"})],
    [("read_file", {"path": "./config//production.toml"})],
    [("run_command", {"command": "cat ./config/production.toml"})],
    [("run_command", {"command": "grep -rn max_retries config"})],
    [("run_command", {"command": "grep backoff config/production.toml"})],
    [("search_code", {"pattern": "initial_backoff", "path": "config"})],
])
def test_any_output_carrying_the_file_counts(calls):
    assert seen_after(*calls).seen


@pytest.mark.parametrize("calls", [
    [("read_file", {"path": "config/staging.toml"}), ("read_file", {"path": "config/defaults.toml"})],
    [("run_command", {"command": "ls config"})],
    [("read_file", {"path": "config/nope.toml"})],
    [("write_file", {"path": "notes.txt", "content": "max_retries = 7\ninitial_backoff_s = 45\n"})],
])
def test_outputs_without_its_content_do_not(calls):
    assert not seen_after(*calls).seen


def test_paths_are_normalised():
    assert normalise_path("./config//production.toml") == "config/production.toml"


@pytest.mark.parametrize("text, holds", [
    ('[database]\nhost = "db.internal"\nport = 6432\n', True),
    ('[database]\nhost = "db.internal"\nport = 6432  # pgbouncer\n', True),
    ('[database]\nhost = "db.internal"\nport = "6432"\n', True),
    ('database = { host = "db.internal", port = 6432 }\n', True),
    ('[database]\nhost = "db.internal"\nport = 5432\n# port = 6432\n', False),
    ('[database]\nhost = "localhost"\nport = 6432\n', False),
    ('[database]\nhost = "db.internal"\nport = 6432,\n', False),
    ('[pgbouncer]\nport = 6432\n', False),
])
def test_canned_conditions_parse_toml_like_the_code(tmp_path: Path, text, holds):
    (tmp_path / "db.toml").write_text(text)
    cond = FileCondition(path="db.toml", toml={"database.host": "db.internal", "database.port": 6432})
    assert cond.holds(tmp_path) is holds
