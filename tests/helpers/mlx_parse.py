"""Run raw model text through mlx-lm's own tokenizer wrapper, text state machine and tool parsers, in-process,
and return what mlx_lm.server would send (streamed chunks and the non-streamed message).

mlx-lm picks its tool parser from the chat template (`_infer_tool_parser`) and its thinking markers from
the vocabulary (`_infer_thinking`), so the tokenizer folder made here is SmolLM2's tokenizer with the
format's markers added as special tokens and a chat template that carries the format, like the real
models' folders. The per-token loop below mirrors `APIHandler.handle_chat_completions` in mlx_lm/server.py
(0.32): TextStateMachine.split per detokenized segment, text sorted by state, finished calls handed to
the server's own ToolCallFormatter, finish_reason `tool_calls` once a call was made (even when the
formatter then drops it: mlx-lm #1307). Only that loop is ours; every parsing decision is mlx-lm's.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any


def tokenizer_folder(source: Path, add_tokens: list[str], chat_template: str,
                     declared_parser: str | None = None) -> Path:
    """A tokenizer folder for mlx-lm. `declared_parser` writes tokenizer_config.json's
    `tool_parser_type`, which mlx-lm prefers to what the template implies (some MLX conversions
    declare `json_tools` for models that write other formats: mlx-lm #1341)."""
    from transformers import AutoTokenizer

    folder = Path(tempfile.mkdtemp(prefix="sb-mlx-tok-"))
    tok = AutoTokenizer.from_pretrained(str(source))
    if add_tokens:
        tok.add_special_tokens({"additional_special_tokens": add_tokens})
    tok.chat_template = chat_template
    tok.save_pretrained(str(folder))
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("tool_parser_type", None)
    if declared_parser:
        config["tool_parser_type"] = declared_parser
    config_path.write_text(json.dumps(config))
    return folder


def _initial_state(wrapper, prompt_tail: str) -> str:
    if not wrapper.has_thinking or not prompt_tail:
        return "normal"
    ids = wrapper.encode(prompt_tail, add_special_tokens=False)
    return "reasoning" if wrapper.rfind_think_start(ids) > wrapper.rfind_think_end(ids) else "normal"


def run(folder: Path, text: str, tools: list[dict[str, Any]], prompt_tail: str = "",
        finish: str = "stop") -> dict[str, Any]:
    from mlx_lm.generate import TextStateMachine, make_text_state_machine
    from mlx_lm.server import ToolCallFormatter
    from mlx_lm.tokenizer_utils import load

    wrapper = load(folder)
    ids = wrapper.encode(text, add_special_tokens=False)
    initial = _initial_state(wrapper, prompt_tail)
    out = {}
    for stream in (True, False):
        formatter = ToolCallFormatter(wrapper.tool_parser, tools, stream)
        sm = make_text_state_machine(wrapper)
        state, prev = sm.make_state(initial), initial
        detok = wrapper.detokenizer
        detok.reset()
        reasoning = tool_text = content = ""
        calls: list[str] = []
        made_call, chunks = False, []
        finish_reason = "stop"
        for i, token in enumerate(ids):
            last = i == len(ids) - 1
            detok.add_token(token)
            if last:
                detok.finalize()
            gen_text = detok.last_segment
            if last and finish == "length":
                state, segments = TextStateMachine.split(state, gen_text)
                state, flushed, current = TextStateMachine.flush(state)
                segments.append((current, flushed))
            else:
                state, segments = TextStateMachine.split(state, gen_text)
            current = prev
            for current, clean in segments:
                if current == "reasoning":
                    reasoning += clean
                elif current == "tool":
                    tool_text += clean
                elif current == "normal":
                    if prev == "tool":
                        calls.append(tool_text)
                        tool_text, made_call = "", True
                    content += clean
                prev = current
            if stream and current != "tool" and (content or calls or reasoning):
                chunks.append(_chunk(content, reasoning, formatter(calls), None))
                reasoning = content = ""
                calls = []
            if last:
                finish_reason = finish
        if prev == "tool" and tool_text:
            calls.append(tool_text)
            made_call = True
        if finish_reason == "stop" and made_call:
            finish_reason = "tool_calls"
        if stream:
            chunks.append(_chunk(content, reasoning, formatter(calls), finish_reason))
            out["chunks"] = chunks
        else:
            out["message"] = {"role": "assistant", "content": content or None, "reasoning": reasoning or None,
                              "tool_calls": formatter(calls)}
            out["finish_reason"] = finish_reason
    out["tool_parser"] = getattr(wrapper.tool_parser, "__module__", None)
    out["has_thinking"] = wrapper.has_thinking
    return out


def _chunk(content: str, reasoning: str, calls: list, finish: str | None) -> dict[str, Any]:
    """The delta mlx_lm.server's generate_response writes for a stream."""
    delta: dict[str, Any] = {"role": "assistant"}
    if content:
        delta["content"] = content
    if reasoning:
        delta["reasoning"] = reasoning
    if calls:
        delta["tool_calls"] = calls
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
