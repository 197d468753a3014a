"""What `run` and `sweep` do with their options (orchestrator/cli/options.py, run.py), by exact result:
a results folder never overwritten without --resume, the resume command printed after Ctrl-C, tiers
and ids in --tasks, --concurrency and the loop settings reaching the plan, --harness feedback being
our loop, the config made for a server given only by --base-url, and the report's format from
--output's suffix."""

from pathlib import Path

import pytest

from orchestrator.cli.options import Mode, build_plan, choose_harness, refuse_to_overwrite, resume_hint, select_tasks
from orchestrator.cli.report import ReportFormat, pick_format
from orchestrator.cli.run import adhoc_config, resolve_config
from orchestrator.config import load_config
from orchestrator.errors import UserError


def test_a_folder_with_results_is_refused_without_resume_and_continued_with_it(tmp_path):
    refuse_to_overwrite(tmp_path, resume=False)  # empty: fine
    (tmp_path / "runs.jsonl").write_text("")
    with pytest.raises(UserError, match="already holds results; add --resume"):
        refuse_to_overwrite(tmp_path, resume=False)
    refuse_to_overwrite(tmp_path, resume=True)


def test_the_resume_hint_repeats_the_command_with_its_folder_and_resume_once():
    assert resume_hint(["run", "--model", "qwen3.5-27b"], Path("results/x")) == \
        "siliconbench run --model qwen3.5-27b --out results/x --resume"
    assert resume_hint(["sweep", "a.yaml", "--out", "r/night", "--resume"], Path("r/night")) == \
        "siliconbench sweep a.yaml --out r/night --resume"
    assert resume_hint(["run", "--tasks", "a b"], Path("o")) == "siliconbench run --tasks 'a b' --out o --resume"


def test_tasks_take_tiers_and_ids_in_the_order_given_each_once():
    assert [t.id for t in select_tasks("basic")] == ["config_read", "read_fix_write", "todo_implementation"]
    assert [t.id for t in select_tasks("tdd, basic,config_read")] == [
        "tdd", "config_read", "read_fix_write", "todo_implementation"]
    assert len(select_tasks("all")) == 10
    with pytest.raises(UserError, match="no task selected"):
        select_tasks(" , ")


def test_concurrency_runs_turns_and_rounds_reach_the_plan():
    plan = build_plan([], "config_read", runs=4, max_turns=7, mode=Mode.raw, harness="raw", harness_rounds=2,
                      harness_max_turns=12, harness_wall_s=60.0, concurrency=3)
    assert (plan.runs, plan.concurrency, plan.mode, plan.harness) == (4, 3, "raw", None)
    assert (plan.loop.max_turns, plan.loop.mode, plan.loop.harness_rounds, plan.loop.harness_max_turns) == (7, "raw", 2, 12)
    assert [t.id for t in plan.tasks] == ["config_read"]


def test_harness_feedback_is_our_feedback_loop_and_raw_leaves_the_mode_as_asked():
    assert choose_harness(Mode.raw, "raw", 30, 900.0, []) == ("raw", None)
    assert choose_harness(Mode.harness, "raw", 30, 900.0, []) == ("harness", None)
    assert choose_harness(Mode.raw, "Feedback", 30, 900.0, []) == ("harness", None)
    assert choose_harness(Mode.harness, "feedback", 30, 900.0, []) == ("harness", None)
    with pytest.raises(UserError, match="--mode harness and --harness claude-code are two ways of running"):
        choose_harness(Mode.harness, "claude-code", 30, 900.0, [])


def test_a_server_given_only_by_base_url_gets_a_32k_window_and_a_safe_name():
    config = adhoc_config("http://127.0.0.1:11434/v1", "qwen3.5:27b", None)
    assert (config.name, config.backend, config.context_length) == ("qwen3.5-27b", "openai", 32768)
    assert (config.openai.base_url, config.openai.served_model) == ("http://127.0.0.1:11434/v1", "qwen3.5:27b")
    assert adhoc_config("http://h/v1", "m", 8192).context_length == 8192
    assert adhoc_config("http://h/v1", "///", None).name == "endpoint"


def test_base_url_needs_a_model_name_and_with_a_config_keeps_its_sampling():
    with pytest.raises(UserError, match="--base-url needs --served-model NAME"):
        resolve_config(None, "http://h/v1", None, None, None)
    config = resolve_config("qwen3.5-27b", "http://h/v1", "qwen3.5:27b", None, 16384)
    source = load_config("qwen3.5-27b")
    assert (config.backend, config.openai.served_model, config.context_length) == ("openai", "qwen3.5:27b", 16384)
    assert config.sampling == source.sampling and config.name == source.name
    assert resolve_config("qwen3.5-27b", None, None, "vllm", None).backend == "vllm"


def test_the_report_format_follows_the_output_files_suffix_unless_named():
    assert [pick_format(None, Path(f"r{s}")) for s in (".md", ".markdown", ".html", ".htm", ".json", ".txt", ".HTML")] == \
        ["md", "md", "html", "html", "json", "table", "html"]
    assert pick_format(None, None) == "table"
    assert pick_format(ReportFormat.json, Path("r.html")) == "json"
    with pytest.raises(UserError, match="cannot tell the format from '.xyz'"):
        pick_format(None, Path("r.xyz"))
