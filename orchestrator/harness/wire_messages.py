"""Anthropic Messages (`/v1/messages`, what Claude Code speaks) seen through chat-completion terms.

Three pieces, all pure: streamed Messages events -> chat-completion chunks (so one accumulator times
every wire format); a Messages request -> a chat-completions request (for servers without
`/v1/messages`, such as mlx_lm.server); a finished turn -> a Messages answer, whole or as events.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

from orchestrator.agent.stream import TurnResult

STOP_TO_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length",
                  "pause_turn": "stop", "refusal": "stop"}
FINISH_TO_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


class MessagesStreamNormalizer:
    """Feed it Messages stream events one by one; each yields at most one chat-completion chunk."""

    def __init__(self) -> None:
        self._tool_index: dict[int, int] = {}
        self._usage: dict[str, int] = {}

    def chunk(self, event: dict[str, Any]) -> dict[str, Any] | None:
        kind = event.get("type")
        if kind == "message_start":
            self._take_usage((event.get("message") or {}).get("usage") or {})
            return {"usage": self.usage()} if self._usage else None
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") in ("tool_use", "server_tool_use"):
                k = self._tool_index.setdefault(event.get("index", 0), len(self._tool_index))
                return _delta({"tool_calls": [{"index": k, "id": block.get("id", ""),
                                               "function": {"name": block.get("name", ""), "arguments": ""}}]})
            if block.get("type") == "text" and block.get("text"):
                return _delta({"content": block["text"]})
            return None
        if kind == "content_block_delta":
            d = event.get("delta") or {}
            if d.get("type") == "text_delta":
                return _delta({"content": d.get("text", "")})
            if d.get("type") == "thinking_delta":
                return _delta({"reasoning": d.get("thinking", "")})
            if d.get("type") == "input_json_delta":
                k = self._tool_index.setdefault(event.get("index", 0), len(self._tool_index))
                return _delta({"tool_calls": [{"index": k, "function": {"arguments": d.get("partial_json", "")}}]})
            return None
        if kind == "message_delta":
            self._take_usage(event.get("usage") or {})
            stop = (event.get("delta") or {}).get("stop_reason")
            out: dict[str, Any] = {"usage": self.usage()}
            if stop:
                out["choices"] = [{"index": 0, "delta": {}, "finish_reason": STOP_TO_FINISH.get(stop, stop)}]
            if event.get("timings"):
                out["timings"] = event["timings"]
            return out
        return None

    def _take_usage(self, usage: dict[str, Any]) -> None:
        for key, value in usage.items():
            if isinstance(value, int):
                self._usage[key] = value

    def usage(self) -> dict[str, Any]:
        """In chat terms: Anthropic's input_tokens leave out cached and cache-creation tokens."""
        u = self._usage
        cached = u.get("cache_read_input_tokens")
        prompt = None
        if "input_tokens" in u:
            prompt = u["input_tokens"] + (cached or 0) + u.get("cache_creation_input_tokens", 0)
        out: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": u.get("output_tokens")}
        if cached is not None:
            out["prompt_tokens_details"] = {"cached_tokens": cached}
        return out


def _delta(delta: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


# ---- request: Messages -> chat completions ----

def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif isinstance(block, dict) and block.get("type") == "image":
            parts.append("[image omitted: the server reached through this proxy has no image input]")
    return "\n".join(parts)


def _chat_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    role, content = message.get("role"), message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    blocks = [b for b in content or [] if isinstance(b, dict)]
    if role == "assistant":
        calls = [{"id": b.get("id", ""), "type": "function",
                  "function": {"name": b.get("name", ""), "arguments": json.dumps(b.get("input") or {})}}
                 for b in blocks if b.get("type") == "tool_use"]
        out: dict[str, Any] = {"role": "assistant", "content": _text_of(blocks) or None}
        if calls:
            out["tool_calls"] = calls
        return [out]
    # A user turn: tool results become tool messages (first, right after the calls), then any text.
    out_msgs = [{"role": "tool", "tool_call_id": b.get("tool_use_id", ""),
                 "content": ("error: " if b.get("is_error") else "") + _text_of(b.get("content"))}
                for b in blocks if b.get("type") == "tool_result"]
    text = _text_of([b for b in blocks if b.get("type") != "tool_result"])
    if text:
        out_msgs.append({"role": "user", "content": text})
    return out_msgs


def chat_request_from_messages(body: dict[str, Any]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    system = _text_of(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for message in body.get("messages") or []:
        messages.extend(_chat_messages(message))
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages,
                           "max_tokens": body.get("max_tokens") or 4096, "stream": bool(body.get("stream"))}
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"]
    tools = [t for t in body.get("tools") or [] if t.get("input_schema") is not None]
    if tools:
        out["tools"] = [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                                          "parameters": t["input_schema"]}} for t in tools]
        choice = body.get("tool_choice") or {"type": "auto"}
        out["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}.get(
            choice.get("type"), {"type": "function", "function": {"name": choice.get("name", "")}})
    return out


# ---- answer: a finished turn -> Messages ----

def _blocks(result: TurnResult) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if result.reasoning:
        blocks.append({"type": "thinking", "thinking": result.reasoning, "signature": ""})
    if result.content:
        blocks.append({"type": "text", "text": result.content})
    for call in result.tool_calls:
        try:
            args = json.loads(call.arguments or "{}")
        except ValueError:
            args = {"_unparsed_arguments": call.arguments}  # the harness reports it to the model
        blocks.append({"type": "tool_use", "id": call.id or f"toolu_{uuid.uuid4().hex[:20]}",
                       "name": call.name, "input": args if isinstance(args, dict) else {"value": args}})
    return blocks


def _usage(result: TurnResult) -> dict[str, int]:
    m = result.metrics
    cached = m.cached_tokens or 0
    return {"input_tokens": max(0, (m.prompt_tokens or 0) - cached), "cache_read_input_tokens": cached,
            "output_tokens": m.completion_tokens or 0}


def messages_json(result: TurnResult, model: str) -> dict[str, Any]:
    stop = "tool_use" if result.tool_calls else FINISH_TO_STOP.get(result.finish_reason or "stop", "end_turn")
    return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model,
            "content": _blocks(result), "stop_reason": stop, "stop_sequence": None, "usage": _usage(result)}


def messages_events(result: TurnResult, model: str) -> Iterator[bytes]:
    """The whole answer as a Messages event stream (sent once the server has finished)."""
    whole = messages_json(result, model)
    start = {**whole, "content": [], "stop_reason": None, "usage": {**whole["usage"], "output_tokens": 0}}
    yield _sse("message_start", {"type": "message_start", "message": start})
    for i, block in enumerate(whole["content"]):
        empty = {"text": {"type": "text", "text": ""}, "thinking": {"type": "thinking", "thinking": ""},
                 "tool_use": {**block, "input": {}}}[block["type"]]
        yield _sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": empty})
        delta = {"text": lambda b: {"type": "text_delta", "text": b["text"]},
                 "thinking": lambda b: {"type": "thinking_delta", "thinking": b["thinking"]},
                 "tool_use": lambda b: {"type": "input_json_delta", "partial_json": json.dumps(b["input"])}}
        yield _sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                           "delta": delta[block["type"]](block)})
        if block["type"] == "thinking":
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "signature_delta", "signature": ""}})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": i})
    yield _sse("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                                 "usage": {"output_tokens": whole["usage"]["output_tokens"]}})
    yield _sse("message_stop", {"type": "message_stop"})


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
