"""Ways a server loses a model's work in one turn, each named so it can be counted.

A benchmark that only sees `tool_calls` cannot tell "the model did not call a tool" from "the server's
parser dropped the call". Every kind below has been seen upstream:

- `finish_tool_calls_without_call`: finish_reason `tool_calls` and no call (mlx_lm.server drops a call
  it cannot parse with only a log warning and still reports `tool_calls`: mlx-lm #1307, #1341);
- `empty_message`: tokens were generated but content, reasoning and calls are all empty (a parser that
  swallowed the text);
- `call_cut_by_cap`: the token cap (finish_reason `length`) ended the turn inside a call: an opening
  call marker without its end, or a streamed call whose arguments never closed;
- `markup_in_content` / `markup_in_reasoning`: call markup (`<tool_call>`, `<function=`, `[TOOL_CALLS]`,
  `<|tool_call>`, `<minimax:tool_call>`) left in the text: the parser missed it (vLLM #37081, #42875,
  mlx-lm PR #1616), or the model wrote the call inside its reasoning, where vLLM never parses (#39056).
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.agent.thinking import TOOL_CALL_MARKERS, has_tool_call_markup

# A turn that generated only its end (EOS, an end-of-turn marker) lost nothing: a call is more tokens.
END_OF_TURN_TOKENS = 2

LOSS_KINDS = ("finish_tool_calls_without_call", "empty_message", "call_cut_by_cap",
              "markup_in_content", "markup_in_reasoning")

# Closing marker of each opening one: an opening without its closing, at the cap, is a cut call.
_CLOSERS = {"<tool_call>": "</tool_call>", "<function=": "</function>", "<|tool_call": "<tool_call|>",
            "<tool_calls>": "</tool_calls>", "<minimax:tool_call>": "</minimax:tool_call>"}


def _open_call(text: str) -> bool:
    """True when the text's last call marker is never closed (Mistral's [TOOL_CALLS] has no closer:
    at the cap its JSON arguments are cut, which `_cut_json` sees)."""
    for opener in TOOL_CALL_MARKERS:
        at = text.rfind(opener)
        if at == -1:
            continue
        closer = _CLOSERS.get(opener)
        if closer is None:
            if _cut_json(text[at + len(opener):]):
                return True
        elif text.find(closer, at) == -1:
            return True
    return False


def _cut_json(text: str) -> bool:
    """Text after [TOOL_CALLS] whose JSON (or name{json} / name[ARGS]{json}) never ends."""
    start = min((i for i in (text.find("{"), text.find("[")) if i != -1), default=-1)
    if start == -1:
        return True
    try:
        json.JSONDecoder().raw_decode(text[start:])
        return False
    except ValueError:
        return True


def _arguments_complete(arguments: str) -> bool:
    try:
        json.loads(arguments or "{}")
        return True
    except ValueError:
        return False


def find_losses(finish_reason: str | None, content: str, reasoning: str, calls: list[Any],
                completion_tokens: int | None) -> list[str]:
    """The loss kinds of one turn (empty when nothing was lost). `calls` have `.arguments`."""
    kinds = []
    if finish_reason == "tool_calls" and not calls:
        kinds.append("finish_tool_calls_without_call")
    if (completion_tokens or 0) > END_OF_TURN_TOKENS and not (content.strip() or reasoning.strip() or calls):
        kinds.append("empty_message")
    if finish_reason == "length" and (
            _open_call(content) or _open_call(reasoning)
            or (calls and not _arguments_complete(calls[-1].arguments))):
        kinds.append("call_cut_by_cap")
    if has_tool_call_markup(content):
        kinds.append("markup_in_content")
    if has_tool_call_markup(reasoning):
        kinds.append("markup_in_reasoning")
    return kinds
