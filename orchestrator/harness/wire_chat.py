"""Chat completions (`/v1/chat/completions`): every backend serves it; OpenCode and mini-swe-agent speak it.

The proxy always streams toward the server (to time the first token); a harness that asked for one
whole answer gets it rebuilt here from the finished turn.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.agent.stream import TurnResult


def streaming_request(body: dict[str, Any]) -> dict[str, Any]:
    """The same request, streamed, with usage in the last chunk (the harness may not have asked)."""
    out = dict(body, stream=True)
    out["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    return out


def chat_json(result: TurnResult, model: str) -> dict[str, Any]:
    m = result.metrics
    message: dict[str, Any] = {"role": "assistant", "content": result.raw_content if not result.reasoning
                               else result.content}
    if result.reasoning:
        message["reasoning_content"] = result.reasoning
    if result.tool_calls:
        message["tool_calls"] = [{"id": c.id or f"call_{i}", "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments}}
                                 for i, c in enumerate(result.tool_calls)]
    usage: dict[str, Any] = {"prompt_tokens": m.prompt_tokens or 0, "completion_tokens": m.completion_tokens or 0,
                             "total_tokens": (m.prompt_tokens or 0) + (m.completion_tokens or 0)}
    if m.cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": m.cached_tokens}
    return {"id": "chatcmpl-siliconbench", "object": "chat.completion", "created": int(time.time()),
            "model": model, "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason or "stop"}]}
