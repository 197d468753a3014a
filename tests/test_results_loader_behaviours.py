"""The one results loader (orchestrator/results/loader.py), by exact result: a later folder's record of
the same run wins, a torn meta.json costs only that model's snapshot, each meta names its model and
folder, and a folder that is not a results folder is one line."""

import json

import pytest

from orchestrator.errors import UserError
from orchestrator.results.loader import load_results
from orchestrator.results.records import ResultsDir, RunRecord, TurnRecord


def run(**extra):
    return RunRecord(**{"model": "m", "config_hash": "h", "backend": "llamacpp", "task": "config_read",
                        "tier": "basic", "run": 0, "passed": False, "reason": "wrong_fix", "turns": 1,
                        "tool_calls": 0, "malformed_calls": 0, "wall_s": 1.0, **extra})


def turn(**extra):
    return TurnRecord(**{"model": "m", "config_hash": "h", "task": "config_read", "run": 0, "turn": 1, **extra})


def folder(root, runs=(), turns=(), metas=None):
    results = ResultsDir(root)
    for r in runs:
        results.runs.write(r)
    for t in turns:
        results.turns.write(t)
    for model, text in (metas or {}).items():
        (root / "models" / model).mkdir(parents=True, exist_ok=True)
        (root / "models" / model / "meta.json").write_text(text)
    results.close()
    return root


def test_a_later_folders_record_of_the_same_run_wins_and_others_are_kept(tmp_path):
    first = folder(tmp_path / "a", runs=[run(), run(run=1)])
    second = folder(tmp_path / "b", runs=[run(passed=True, reason=None)])
    loaded = load_results([first, second])
    assert [(r["run"], r["passed"], r["folder"]) for r in loaded.runs] == [
        (1, False, str(first)), (0, True, str(second))]
    assert loaded.sources == [str(first), str(second)]


def test_a_retried_runs_turns_replace_the_earlier_attempts(tmp_path):
    root = folder(tmp_path / "a", runs=[run()], turns=[turn(turn=1, finish_reason="length"),
                                                        turn(turn=2, finish_reason="stop"),
                                                        turn(turn=1, finish_reason="tool_calls"),
                                                        turn(run=1, turn=1, finish_reason="stop")])
    loaded = load_results([root])
    assert [(t["run"], t["turn"], t["finish_reason"]) for t in loaded.turns] == [(0, 1, "tool_calls"), (1, 1, "stop")]


def test_a_torn_meta_costs_that_model_its_snapshot_only(tmp_path):
    root = folder(tmp_path / "a", runs=[run()], metas={"m": '{"load_s": 2.5', "n": json.dumps({"load_s": 1.0}),
                                                      "o": json.dumps({"model": "named", "load_s": 3.0})})
    metas = load_results([root]).metas
    assert [(m["model"], m["load_s"], m["folder"]) for m in metas] == [("n", 1.0, str(root)), ("named", 3.0, str(root))]


def test_what_is_not_a_results_folder_is_one_line(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        load_results([tmp_path / "missing"])
    with pytest.raises(UserError, match="no runs.jsonl or turns.jsonl here"):
        load_results([tmp_path])
    with pytest.raises(UserError, match="give at least one results folder"):
        load_results([])
