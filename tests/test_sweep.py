"""Sweeps: many configs one after the other, surviving a server that dies, resumable, Ctrl-C safe.

The two-temperature sweep and the Ctrl-C test use the real llama-server with the embedded model; the
crash test uses the stand-in server (tests/helpers/standin_server.py) because it must die on cue.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backends.llamacpp import find_binary
from orchestrator.config import default_config_path, load_config, parse_config
from orchestrator.agent.loop import LoopSettings
from orchestrator.results.records import ResultsDir, read_jsonl
from orchestrator.session.runner import Plan
from orchestrator.session.sweep import run_sweep, sweep_labels
from orchestrator.taskdef import load_task
from tests.helpers.processes import TreeWatcher, wait_for, wait_gone
from tests.test_backends_faults import STANDIN

ROOT = Path(__file__).resolve().parent.parent
needs_llama = pytest.mark.skipif(find_binary() is None, reason="llama-server not installed (bash scripts/install.sh)")


def default_at(tmp_path: Path, temperature: float) -> Path:
    data = yaml.safe_load(default_config_path().read_text())
    data["sampling"].update(temperature=temperature, max_tokens=48)
    data["llamacpp"]["model"] = data["llamacpp"]["model"]
    data["llamacpp"]["chat_template"] = str(default_config_path().parent / data["llamacpp"]["chat_template"])
    path = tmp_path / f"default-t{temperature}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def plan(runs=2) -> Plan:
    return Plan([load_task("config_read")], runs=runs, loop=LoopSettings(max_turns=2))


@needs_llama
@pytest.mark.real_server
def test_two_temperatures_sweep_unattended_then_resume_adds_nothing(tmp_path):
    configs = [load_config(default_at(tmp_path, t)) for t in (0.0, 0.7)]
    labels = sweep_labels(configs)
    assert len(set(labels)) == 2 and all(l.startswith("smollm2-135m-") for l in labels)
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep(configs, plan(), results)
    assert [m.status for m in outcome.models] == ["done", "done"]
    runs = read_jsonl(results.root / "runs.jsonl")
    assert sorted((r["model"], r["run"]) for r in runs) == sorted((l, i) for l in labels for i in range(2))
    assert all(r["reason"] != "infra_error" for r in runs)
    assert json.loads((results.root / "sweep.json").read_text())["models"][1]["status"] == "done"
    for label in labels:
        assert (results.root / "models" / label / "meta.json").exists()
    logs = {label: (results.root / "models" / label / "server.log").read_bytes() for label in labels}
    again = run_sweep(configs, plan(), results)
    assert len(read_jsonl(results.root / "runs.jsonl")) == 4  # nothing run twice
    assert all(m.runs_recorded == 0 for m in again.models)
    # Nothing pending, so no server was even launched: each model's server log is as the first sweep left it.
    assert {label: (results.root / "models" / label / "server.log").read_bytes() for label in labels} == logs


def standin_config(tmp_path: Path, name: str, mode: str):
    return parse_config({"name": name, "backend": "llamacpp", "context_length": 2048,
                         "llamacpp": {"model": "standin.gguf", "executable": [sys.executable, str(STANDIN)],
                                      "extra_args": ["--mode", mode], "startup_timeout_s": 20}},
                        tmp_path / f"{name}.yaml")


def test_server_dying_mid_sweep_is_restarted_and_every_run_recorded_once(tmp_path):
    # The stand-in dies on its 4th chat request: readiness, warm-up, run 0, then run 1's request.
    crashy = standin_config(tmp_path, "crashy", "die_after=3")
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([crashy], plan(runs=3), results, check_fit=False)
    assert outcome.models[0].status == "done"
    runs = read_jsonl(results.root / "runs.jsonl")
    assert sorted(r["run"] for r in runs) == [0, 1, 2]
    assert all(r["passed"] is False and r["reason"] != "infra_error" for r in runs)
    assert max(r["attempts"] for r in runs) == 2  # the run that met the crash was retried once


def test_model_that_fails_to_start_is_reported_and_the_sweep_goes_on(tmp_path):
    broken = standin_config(tmp_path, "broken", "exit_at_start")
    fine = standin_config(tmp_path, "fine", "ok")
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([broken, fine], plan(runs=1), results, check_fit=False)
    assert [m.status for m in outcome.models] == ["failed_to_start", "done"]
    assert "exited with code 3" in outcome.models[0].reason
    assert [r["model"] for r in read_jsonl(results.root / "runs.jsonl")] == ["fine"]


def test_preflight_skips_what_cannot_run_here(tmp_path):
    # Its executable exists (the stand-in), so what skips it is the fit check, on every machine.
    too_big = parse_config({"name": "huge", "backend": "llamacpp", "context_length": 4096,
                            "parameters": {"total_b": 2000},
                            "llamacpp": {"model": str(tmp_path / "huge.gguf"), "bits": 16,
                                         "executable": [sys.executable, str(STANDIN)]}}, tmp_path / "huge.yaml")
    (tmp_path / "huge.gguf").write_bytes(b"GGUF")
    no_backend = parse_config({"name": "needs-vllm", "backend": "vllm", "context_length": 4096,
                               "vllm": {"model": "org/model", "tool_call_parser": "hermes",
                                        "executable": ["/nonexistent/vllm-binary"]}}, tmp_path / "v.yaml")
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([too_big, no_backend], plan(runs=1), results)
    assert outcome.models[0].status == "skipped" and "needs about" in outcome.models[0].reason
    assert "--no-check-fit" in outcome.models[0].reason
    assert outcome.models[1].status == "skipped" and "/nonexistent/vllm-binary" in outcome.models[1].reason
    assert "not found" in outcome.models[1].reason
    assert read_jsonl(results.root / "runs.jsonl") == []


@needs_llama
@pytest.mark.real_server
def test_ctrl_c_mid_sweep_leaves_no_server_and_keeps_results(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "orchestrator.cli.main", "sweep", str(default_at(tmp_path, 0.0)),
           str(default_at(tmp_path, 0.7)), "--tasks", "config_read", "--runs", "3", "--out", str(out), "--no-report"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    runs = out / "runs.jsonl"
    try:
        with TreeWatcher(proc.pid) as tree:
            assert wait_for(lambda: runs.exists() and runs.read_text().strip(), 300), "no run finished"
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output
    assert "--resume" in output
    lines = runs.read_text().splitlines()
    assert lines and all(json.loads(l)["task"] == "config_read" for l in lines)
    servers = tree.named("llama-server")
    assert servers, "the sweep's own llama-server was never seen"
    assert not wait_gone(servers), "the sweep left its llama-server running"
