"""The scripted model's other two wire formats: Anthropic Messages (/v1/messages) and Responses (/v1/responses).

Requests are turned into chat-style messages (so the same script and the same turn rule apply: the turn
played is the number of assistant turns in the request), and a scripted turn is streamed back as that
format's events, a token-sized piece at a time, the way llama-server and vLLM stream them.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

Turn = dict[str, Any]


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict) and "text" in b)


def _args(call: dict[str, Any]) -> str:
    args = call.get("arguments", {})
    return args if isinstance(args, str) else json.dumps(args)


# ---- Anthropic Messages ----

def messages_as_chat(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in body.get("messages") or []:
        blocks = m.get("content") if isinstance(m.get("content"), list) else []
        out += [{"role": "tool", "content": _text(b.get("content"))} for b in blocks
                if isinstance(b, dict) and b.get("type") == "tool_result"]
        out.append({"role": m.get("role"), "content": _text(m.get("content"))})
    return out


def messages_events(model: str, body: dict[str, Any], turn: Turn, prompt_tokens: int) -> Iterator[tuple[str, dict]]:
    time.sleep(turn.get("delay_s", 0))
    usage = {"input_tokens": prompt_tokens, "output_tokens": 0}
    yield "message_start", {"type": "message_start", "message": {
        "id": "msg_scripted", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}}
    index, produced = 0, 0
    blocks: list[tuple[dict, str, list[dict]]] = []
    if turn.get("reasoning"):
        blocks.append(({"type": "thinking", "thinking": ""}, "thinking",
                       [{"type": "thinking_delta", "thinking": p} for p in _pieces(turn["reasoning"])]))
    if turn.get("content"):
        blocks.append(({"type": "text", "text": ""}, "text",
                       [{"type": "text_delta", "text": p} for p in _pieces(turn["content"])]))
    for n, call in enumerate(turn.get("tool_calls") or []):
        head = {"type": "tool_use", "id": call.get("id", f"toolu_{n}_{abs(hash(_args(call))) % 10**8}"),
                "name": call["name"], "input": {}}
        blocks.append((head, "tool_use",
                       [{"type": "input_json_delta", "partial_json": p} for p in _pieces(_args(call), 16)]))
    for head, _, deltas in blocks:
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": head}
        for delta in deltas:
            if produced:
                time.sleep(turn.get("token_delay_s", 0))
            produced += 1
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    stop = "tool_use" if turn.get("tool_calls") else {"length": "max_tokens"}.get(turn.get("finish_reason"), "end_turn")
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                            "usage": {"output_tokens": produced}}
    yield "message_stop", {"type": "message_stop"}


def messages_json(model: str, turn: Turn, prompt_tokens: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if turn.get("content"):
        content.append({"type": "text", "text": turn["content"]})
    for n, call in enumerate(turn.get("tool_calls") or []):
        content.append({"type": "tool_use", "id": call.get("id", f"toolu_{n}"), "name": call["name"],
                        "input": json.loads(_args(call))})
    return {"id": "msg_scripted", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": "tool_use" if turn.get("tool_calls") else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": max(1, len(json.dumps(content)) // 4)}}


# ---- Responses ----

def responses_as_chat(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("input")
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    out: list[dict[str, Any]] = []
    for item in items or []:
        if item.get("type") == "function_call":
            if not (out and out[-1].get("role") == "assistant" and out[-1].get("calls")):
                out.append({"role": "assistant", "content": "", "calls": True})
        elif item.get("type") == "function_call_output":
            out.append({"role": "tool", "content": str(item.get("output"))})
        elif item.get("role") in ("user", "assistant", "system", "developer"):
            out.append({"role": item["role"], "content": _text(item.get("content"))})
    return out


def responses_events(model: str, turn: Turn, prompt_tokens: int) -> Iterator[tuple[str, dict]]:
    time.sleep(turn.get("delay_s", 0))
    base = {"id": "resp_scripted", "object": "response", "model": model}
    yield "response.created", {"type": "response.created", "response": {**base, "status": "in_progress"}}
    produced, output = 0, []
    for piece in _pieces(turn.get("reasoning") or ""):
        produced += 1
        yield "response.reasoning_text.delta", {"type": "response.reasoning_text.delta", "delta": piece}
    if turn.get("content"):
        for piece in _pieces(turn["content"]):
            if produced:
                time.sleep(turn.get("token_delay_s", 0))
            produced += 1
            yield "response.output_text.delta", {"type": "response.output_text.delta", "delta": piece}
        output.append({"type": "message", "role": "assistant",
                       "content": [{"type": "output_text", "text": turn["content"]}]})
    for n, call in enumerate(turn.get("tool_calls") or []):
        item = {"type": "function_call", "id": f"fc_{n}", "call_id": call.get("id", f"call_{n}"),
                "name": call["name"], "arguments": ""}
        yield "response.output_item.added", {"type": "response.output_item.added", "output_index": n, "item": item}
        for piece in _pieces(_args(call), 16):
            produced += 1
            yield "response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta",
                                                             "item_id": item["id"], "delta": piece}
        output.append({**item, "arguments": _args(call)})
        yield "response.output_item.done", {"type": "response.output_item.done", "output_index": n,
                                            "item": output[-1]}
    usage = {"input_tokens": prompt_tokens, "output_tokens": produced, "total_tokens": prompt_tokens + produced}
    yield "response.completed", {"type": "response.completed",
                                 "response": {**base, "status": "completed", "output": output, "usage": usage}}


# ---- the harness's working directory ----

CWD_PATTERNS = (r"(?i)working directory:\s*(/[^\s<\"\\]+)", r"<cwd>\s*(/[^\s<\"\\]+)", r"cwd:\s*(/[^\s<\"\\]+)")


def fill_cwd(turn: Turn, body: dict[str, Any]) -> Turn:
    """Replace `{cwd}` in a scripted turn with the working directory the harness told the model about
    (Claude Code's and OpenCode's file tools want absolute paths, which a script cannot know)."""
    import re

    text = json.dumps(turn)
    if "{cwd}" not in text:
        return turn
    whole = json.dumps(body)
    for pattern in CWD_PATTERNS:
        found = re.search(pattern, whole)
        if found:
            return json.loads(text.replace("{cwd}", found.group(1).rstrip("/.,")))
    return turn


def answered_turns(script: list[Turn], messages: list[dict[str, Any]]) -> int:
    """The turn to play, judged by the tool results the request carries: harnesses merge or reorder
    their history (Claude Code folds consecutive tool calls into one assistant message), but every
    call they made comes back with its result. Turns whose calls are all answered are done."""
    results = sum(1 for m in messages if m.get("role") == "tool")
    index = 0
    for turn in script:
        calls = len(turn.get("tool_calls") or [])
        if not calls or results < calls:
            break
        results -= calls
        index += 1
    return index
