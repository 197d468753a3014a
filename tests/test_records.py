"""The results folder's records (found by mutation testing): which runs --resume counts as done, lines
written whole and read back after a crash, where each file goes, and records that refuse what they
cannot hold."""

import json
import threading

import pytest
from pydantic import ValidationError

from orchestrator.results.records import (JsonlWriter, ResultsDir, RunRecord, TurnRecord, is_infra_error,
                                          read_jsonl, run_key)


def run_row(**fields):
    row = dict(model="m", config_hash="h1", backend="llamacpp", task="tdd", tier="intermediate", run=0,
               mode="raw", passed=False, reason="wrong_fix", turns=3, tool_calls=2, malformed_calls=0, wall_s=1.0)
    row.update(fields)
    return row


def test_resume_counts_every_recorded_run_but_those_the_server_lost(tmp_path):
    results = ResultsDir(tmp_path / "res")
    for row in (run_row(run=0), run_row(run=1, reason="infra_error"), run_row(run=2, ended="infra_error", reason=None),
                run_row(run=0, mode="harness"), run_row(run=0, config_hash="h2", passed=True, reason=None)):
        results.runs.write(row)
    assert results.finished_keys() == {("h1", "tdd", 0, "raw"), ("h1", "tdd", 0, "harness"), ("h2", "tdd", 0, "raw")}
    results.close()


def test_a_run_key_names_config_task_run_and_mode():
    assert run_key(run_row(run=2, mode="harness")) == ("h1", "tdd", 2, "harness")
    assert run_key({"config_hash": "h", "task": "t", "run": 1}) == ("h", "t", 1, "raw"), "old rows had no mode"
    assert RunRecord.model_validate(run_row(run=4)).key() == ("h1", "tdd", 4, "raw")


@pytest.mark.parametrize("row, lost", [
    ({"reason": "infra_error"}, True), ({"ended": "infra_error"}, True),
    ({"reason": "wrong_fix", "ended": "answer"}, False), ({}, False),
])
def test_a_run_is_lost_to_the_server_by_its_reason_or_its_end(row, lost):
    assert is_infra_error(row) is lost


def test_lines_are_whole_and_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "deep" / "runs.jsonl"
    writer = JsonlWriter(path)
    threads = [threading.Thread(target=lambda i=i: [writer.write({"n": i, "pad": "x" * 5000}) for _ in range(20)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.write(TurnRecord(model="m", config_hash="h", task="tdd", run=0, turn=1))
    writer.close()
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"n": 99, "pad": "cut mid-wri')  # a crash mid-write
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n\n")
    rows = read_jsonl(path)
    assert len(rows) == 81 and sorted({r["n"] for r in rows[:80]}) == [0, 1, 2, 3]
    assert rows[-1]["turn"] == 1 and rows[-1]["thinking_tokens"] is None, "unknown is null, never 0"
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_where_each_file_of_a_results_folder_goes(tmp_path):
    results = ResultsDir(tmp_path / "res")
    ResultsDir(tmp_path / "deeper" / "still" / "res").close()  # --out may name a folder not made yet
    assert results.model_dir("m-1") == tmp_path / "res" / "models" / "m-1" and results.model_dir("m-1").is_dir()
    path = results.transcript_path("m-1", "tdd", "raw", 2)
    assert path == tmp_path / "res" / "transcripts" / "m-1" / "tdd-raw-r2.json" and path.parent.is_dir()
    results.write_json(path, {"a": 1, "where": tmp_path, "name": "café"})
    text = path.read_bytes().decode("utf-8")
    assert json.loads(text) == {"a": 1, "where": str(tmp_path), "name": "café"}, "paths and such as strings"
    assert text.startswith('{\n  "a": 1'), "indented for a human reading meta.json"
    assert not path.with_suffix(".json.tmp").exists(), "written through a temporary file, then renamed"
    results.close()


@pytest.mark.parametrize("change", [{"reason": "not_a_reason"}, {"mode": "Raw Mode"}, {"unknown_field": 1},
                                    {"turns": "three"}])
def test_a_run_record_refuses_what_it_cannot_hold(change):
    with pytest.raises(ValidationError):
        RunRecord.model_validate(run_row(**change))


def test_a_turn_record_refuses_an_unknown_token_source():
    with pytest.raises(ValidationError):
        TurnRecord(model="m", config_hash="h", task="t", run=0, turn=1, thinking_tokens_source="guess")
