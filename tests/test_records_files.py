"""What a results folder's records hold and how they reach the disk: the fields a turn and a run carry
(and their defaults), every declared failure reason accepted, lines appended across reopenings (what
--resume relies on), each line on disk as soon as it is written, values JSON cannot hold written as
strings, and damaged lines anywhere skipped without losing the lines after them."""

import datetime
import json
from pathlib import Path

import pytest

from orchestrator.results.records import JsonlWriter, ResultsDir, RunRecord, TurnRecord, read_jsonl
from orchestrator.trajectory import FAILURE_REASONS

TURN_DEFAULTS = {
    "model": "m", "config_hash": "h", "task": "tdd", "run": 0, "mode": "raw", "turn": 1, "finish_reason": None,
    "wall_s": None, "ttft_s": None, "prefill_tps": None, "decode_tps": None, "prompt_tokens": None,
    "cached_tokens": None, "completion_tokens": None, "server_decode_tps": None, "server_prefill_tps": None,
    "thinking_tokens": None, "thinking_tokens_source": None, "thinking_s": None, "tool_calls": 0,
    "malformed_calls": 0, "server_peak_rss_bytes": None, "system_used_bytes": None, "system_available_bytes": None,
    "swap_used_bytes": None, "wired_bytes": None, "server_peak_footprint_bytes": None,
    "gpu_working_set_limit_bytes": None, "gpu_used_bytes": None, "kv_cache_usage_perc": None, "warm": True,
    "concurrency": 1, "lost_calls": [], "cached_share": None, "seed": None, "max_tokens": None, "api": None,
    "translated": None, "request_bytes": None, "tools_offered": None,
}

RUN_REQUIRED = dict(model="m", config_hash="h1", backend="llamacpp", task="tdd", tier="intermediate", run=0,
                    passed=False, reason="wrong_fix", turns=3, tool_calls=2, malformed_calls=0, wall_s=1.5)
RUN_DEFAULTS = dict(RUN_REQUIRED, mode="raw", checks=[], prompt_tokens=None, completion_tokens=None,
                    thinking_tokens=None, thinking_s=None, peak_rss_bytes=None, ended=None, error=None, attempts=1,
                    concurrency=1, harness_rounds=None, harness=None, transcript=None, context_truncations=0,
                    seed=None)


def test_a_turn_record_carries_every_figure_and_leaves_the_unknown_ones_null():
    record = TurnRecord(model="m", config_hash="h", task="tdd", run=0, turn=1)
    assert record.model_dump(mode="json") == TURN_DEFAULTS


def test_a_turn_record_keeps_its_finish_reason_and_timings_through_the_file(tmp_path):
    path = tmp_path / "turns.jsonl"
    writer = JsonlWriter(path)
    figures = dict(finish_reason="length", ttft_s=0.25, decode_tps=41.5, thinking_tokens=300,
                   thinking_tokens_source="server_usage", lost_calls=["dropped_call"], warm=False, concurrency=4)
    writer.write(TurnRecord(model="m", config_hash="h", task="tdd", run=0, turn=2, **figures))
    writer.close()
    assert read_jsonl(path) == [TURN_DEFAULTS | {"turn": 2} | figures]


def test_a_run_record_defaults_to_one_attempt_one_stream_raw_mode_and_no_truncation():
    assert RunRecord(**RUN_REQUIRED).model_dump(mode="json") == RUN_DEFAULTS


@pytest.mark.parametrize("reason", FAILURE_REASONS)
def test_every_declared_failure_reason_can_be_recorded(reason):
    assert RunRecord(**(RUN_REQUIRED | {"reason": reason})).reason == reason


def test_a_passed_run_records_no_reason():
    assert RunRecord(**(RUN_REQUIRED | {"passed": True, "reason": None})).reason is None


def test_records_are_written_in_their_declared_field_order(tmp_path):
    """A person reading runs.jsonl sees model, config and task first, not the fields sorted by name."""
    path = tmp_path / "runs.jsonl"
    writer = JsonlWriter(path)
    writer.write(RunRecord(**RUN_REQUIRED))
    writer.close()
    assert list(json.loads(path.read_text()))[:5] == ["model", "config_hash", "backend", "task", "tier"]


def test_a_line_is_on_disk_as_soon_as_it_is_written(tmp_path):
    path = tmp_path / "runs.jsonl"
    writer = JsonlWriter(path)
    writer.write({"n": 1})
    assert path.read_text(encoding="utf-8") == '{"n": 1}\n', "another process reading now sees the whole line"
    writer.close()


def test_reopening_a_file_appends_after_the_lines_already_there(tmp_path):
    path = tmp_path / "runs.jsonl"
    first = JsonlWriter(path)
    first.write({"n": 1})
    first.close()
    second = JsonlWriter(path)  # what --resume does with a results folder
    second.write({"n": 2})
    second.close()
    assert read_jsonl(path) == [{"n": 1}, {"n": 2}]


def test_reopening_a_results_folder_keeps_its_finished_runs(tmp_path):
    results = ResultsDir(tmp_path / "res")
    results.runs.write(RunRecord(**RUN_REQUIRED))
    results.turns.write(TurnRecord(model="m", config_hash="h1", task="tdd", run=0, turn=1))
    results.close()
    again = ResultsDir(tmp_path / "res")
    assert again.finished_keys() == {("h1", "tdd", 0, "raw")}
    again.model_dir("m")
    again.model_dir("m")  # a second model_dir of the same model is not an error
    again.runs.write(RunRecord(**(RUN_REQUIRED | {"run": 1})))
    again.close()
    assert [r["run"] for r in read_jsonl(tmp_path / "res" / "runs.jsonl")] == [0, 1]
    assert len(read_jsonl(tmp_path / "res" / "turns.jsonl")) == 1


def test_closing_a_results_folder_closes_both_files(tmp_path):
    results = ResultsDir(tmp_path / "res")
    results.close()
    for writer in (results.runs, results.turns):
        with pytest.raises(ValueError):
            writer.write({"n": 1})


def test_values_json_cannot_hold_are_written_as_text(tmp_path):
    path = tmp_path / "runs.jsonl"
    writer = JsonlWriter(path)
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    writer.write({"where": Path("/a/b"), "when": when})
    writer.close()
    assert read_jsonl(path) == [{"where": "/a/b", "when": "2026-01-02 03:04:05"}]


def test_damaged_and_blank_lines_anywhere_are_skipped_and_the_lines_after_them_kept(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"n": 1}\n\n   \n{"n": 2, "cut\n{"n": 3}\n', encoding="utf-8")
    assert read_jsonl(path) == [{"n": 1}, {"n": 3}]


def test_a_writer_makes_the_folders_above_its_file_and_says_which_file_it_appends_to(tmp_path):
    path = tmp_path / "not" / "made" / "yet" / "turns.jsonl"
    writer = JsonlWriter(path)
    writer.write({"n": 1})
    writer.close()
    assert writer.path == path and read_jsonl(path) == [{"n": 1}]


def test_a_records_timestamps_are_written_as_iso_8601(tmp_path):
    """Fields holding anything (a real harness's own summary) go through the record's JSON form."""
    path = tmp_path / "runs.jsonl"
    writer = JsonlWriter(path)
    started = datetime.datetime(2026, 1, 2, 3, 4, 5)
    writer.write(RunRecord(**RUN_REQUIRED, harness={"started": started, "rounds": (1, 2)}))
    writer.close()
    assert read_jsonl(path)[0]["harness"] == {"started": "2026-01-02T03:04:05", "rounds": [1, 2]}
