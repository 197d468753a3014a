"""Session and sweep behaviours (orchestrator/session/ but the runner): labels that tell configs apart,
the pre-flight checks (memory fit at the benchmark's context, disk for weights to download,
--no-check-fit), what meta.json records of a session (concurrency, server restarts), a resumed
session with nothing left that does not touch the server at all, the server's own figures in each
turn's memory mark, and when the machine counts as having its memory back.

Servers: the scripted model behind the `openai` backend (real HTTP, attached, nothing launched), and
the stand-in llama-server (tests/helpers/standin_server.py) where a server must die on cue.
"""

import json
import sys
from types import SimpleNamespace

import psutil

import orchestrator.session.preflight as preflight_module
from backends import backend_for
from orchestrator.agent.loop import LoopSettings
from orchestrator.config import parse_config
from orchestrator.results.records import ResultsDir, read_jsonl
from orchestrator.session.managed_server import ManagedServer
from orchestrator.session.model_session import run_model_session
from orchestrator.session.preflight import BENCHMARK_CONTEXT, fit_problem, preflight
from orchestrator.session.runner import Plan
from orchestrator.session.sweep import run_sweep, sweep_labels, wait_memory_released
from orchestrator.sizing.model import estimate
from orchestrator.taskdef import load_task
from orchestrator.units import GIB
from tests.helpers.scripted_server import ScriptedModel
from tests.test_backends_faults import STANDIN

TASK = "config_read"


def endpoint(model, name="remote", **fields):
    return parse_config({"name": name, "backend": "openai", "context_length": 4096,
                         "openai": {"base_url": model.base_url, "served_model": "scripted"}, **fields}, f"{name}.yaml")


def plan(runs=1, concurrency=1) -> Plan:
    return Plan([load_task(TASK)], runs=runs, concurrency=concurrency, loop=LoopSettings(max_turns=2))


def test_sweep_labels_tell_apart_configs_that_share_a_name_and_only_those():
    a = parse_config({"name": "m", "backend": "llamacpp", "context_length": 4096, "llamacpp": {"model": "m.gguf"}}, "a.yaml")
    b = parse_config({"name": "m", "backend": "llamacpp", "context_length": 4096, "sampling": {"temperature": 0.7},
                      "llamacpp": {"model": "m.gguf"}}, "b.yaml")
    other = parse_config({"name": "n", "backend": "llamacpp", "context_length": 4096, "llamacpp": {"model": "m.gguf"}}, "c.yaml")
    assert sweep_labels([a, b, other]) == [f"m-{a.config_hash()[:6]}", f"m-{b.config_hash()[:6]}", "n"]
    assert sweep_labels([a, a]) == ["m", "m"]  # the same config twice is one model


def test_no_check_fit_lets_a_model_too_big_for_this_machine_start(tmp_path):
    (tmp_path / "huge.gguf").write_bytes(b"GGUF")
    huge = parse_config({"name": "huge", "backend": "llamacpp", "context_length": 4096, "parameters": {"total_b": 2000},
                         "llamacpp": {"model": str(tmp_path / "huge.gguf"), "bits": 16,
                                      "executable": [sys.executable, str(STANDIN)]}}, tmp_path / "huge.yaml")
    assert "needs about" in preflight(huge, check_fit=True)
    assert preflight(huge, check_fit=False) is None


def test_meta_records_the_concurrency_the_session_ran_with(tmp_path):
    with ScriptedModel([{"content": "Done."}]) as model:
        results = ResultsDir(tmp_path / "res")
        records = run_model_session(endpoint(model), plan(runs=2, concurrency=2), results)
        results.close()
    meta = json.loads((tmp_path / "res" / "models" / "remote" / "meta.json").read_text())
    assert meta["plan"] == {"tasks": [TASK], "runs": 2, "mode": "raw", "max_turns": 2, "concurrency": 2}
    assert meta["server"]["model_name"] == "scripted" and meta["backend"] == "openai"
    assert sorted(r.run for r in records) == [0, 1]


def test_a_resumed_session_with_nothing_left_asks_the_server_nothing(tmp_path):
    with ScriptedModel([{"content": "Done."}]) as model:
        results = ResultsDir(tmp_path / "res")
        assert len(run_model_session(endpoint(model), plan(runs=2), results)) == 2
        asked = len(model.requests)
        meta = (tmp_path / "res" / "models" / "remote" / "meta.json").read_text()
        assert run_model_session(endpoint(model), plan(runs=2), results) == []
        results.close()
        assert len(model.requests) == asked  # not even the readiness or warm-up request
    assert (tmp_path / "res" / "models" / "remote" / "meta.json").read_text() == meta
    assert len(read_jsonl(tmp_path / "res" / "runs.jsonl")) == 2


def test_a_server_restart_is_recorded_in_meta_and_the_sweep_says_done(tmp_path):
    # The stand-in dies on its 4th chat request: readiness, warm-up, run 0, then run 1's request.
    crashy = parse_config({"name": "crashy", "backend": "llamacpp", "context_length": 2048,
                           "llamacpp": {"model": "standin.gguf", "executable": [sys.executable, str(STANDIN)],
                                        "extra_args": ["--mode", "die_after=3"], "startup_timeout_s": 20}},
                          tmp_path / "crashy.yaml")
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([crashy], plan(runs=2), results, check_fit=False)
    results.close()
    meta = json.loads((tmp_path / "sweep" / "models" / "crashy" / "meta.json").read_text())
    assert [r["reason"] for r in meta["server_restarts"]] == ["stopped answering during a task run"]
    saved = json.loads((tmp_path / "sweep" / "sweep.json").read_text())["models"]
    assert [(m["label"], m["status"], m["runs_recorded"]) for m in saved] == [("crashy", "done", 2)]
    assert outcome.models[0].runs_recorded == 2


def test_memory_counts_as_back_within_five_percent_of_the_level_before_the_model(monkeypatch):
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=96, used=0, total=200))
    waited = wait_memory_released(100, timeout_s=5)
    assert waited is not None and waited < 1.0
    assert wait_memory_released(101, timeout_s=0.05) is not None
    assert wait_memory_released(110, timeout_s=0.05) is None


def test_each_turns_memory_mark_carries_the_servers_own_figures(tmp_path, monkeypatch):
    with ScriptedModel([{"content": "Done."}]) as model:
        with ManagedServer(endpoint(model), tmp_path / "s.log") as managed:
            assert managed.sampler is None  # a server we do not run has no process tree to sample
            monkeypatch.setattr(managed.server, "server_metrics", lambda: {"kv_cache_usage_perc": 0.25})
            assert managed.mark() == {"kv_cache_usage_perc": 0.25}
            assert managed.ensure_alive() is True and managed.restarts == []


def test_a_model_to_download_is_skipped_when_its_weights_and_5_percent_exceed_the_free_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(preflight_module.shutil, "disk_usage", lambda path: SimpleNamespace(free=100 * GIB, total=0, used=0))

    def hub_model(weights_gb):
        return parse_config({"name": "big", "backend": "vllm", "context_length": 4096,
                             "vllm": {"model": "org/big", "tool_call_parser": "hermes", "weights_gb": weights_gb}},
                            tmp_path / "big.yaml")

    # weights_gb is the files' size in 10^9 bytes: 103 GB are 95.9 GiB, and 5% more is over 100 GiB free
    assert preflight_module.disk_problem(hub_model(103)) == "downloading org/big needs about 96 GB of disk; 100 GB free"
    assert preflight_module.disk_problem(hub_model(102)) is None  # 95.0 GiB, and 5% more is 99.7
    (tmp_path / "hub" / "models--org--big").mkdir(parents=True)
    assert preflight_module.disk_problem(hub_model(103)) is None  # already in the cache: nothing to download


def test_a_model_needing_more_memory_than_the_backend_can_use_is_skipped_and_one_that_fits_is_not(tmp_path, monkeypatch):
    config = parse_config({"name": "mid", "backend": "llamacpp", "context_length": 65536, "parameters": {"total_b": 8},
                           "llamacpp": {"model": "mid.gguf", "bits": 4.5}}, tmp_path / "mid.yaml")
    # measured at the benchmark's context, not the config's whole window
    needed = estimate(config, context=BENCHMARK_CONTEXT, backend="llamacpp").needed_gb
    backend = backend_for(config)
    monkeypatch.setattr(type(backend), "capacity_gb", lambda self, c: (needed - 0.05, "available RAM"))
    assert fit_problem(config) == (f"needs about {needed:.1f} GB (parameters x bits + KV + overhead) but this machine "
                                   f"has {needed - 0.05:.1f} GB of available RAM; --no-check-fit runs it anyway")
    monkeypatch.setattr(type(backend), "capacity_gb", lambda self, c: (needed + 0.05, "available RAM"))
    assert fit_problem(config) is None
    monkeypatch.setattr(type(backend), "capacity_gb", lambda self, c: (None, "GPU memory unknown"))
    assert fit_problem(config) is None  # cannot tell: the launch decides
