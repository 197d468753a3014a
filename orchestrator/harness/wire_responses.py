"""OpenAI Responses (`/v1/responses`, what Codex speaks) seen through chat-completion terms.

Only metering: streamed Responses events become chat-completion chunks for the one accumulator.
No translation to chat completions is offered: a harness that needs Responses runs only on a server
that serves it (llama-server, vLLM), and the runner says so for the others.
"""

from __future__ import annotations

from typing import Any


class ResponsesStreamNormalizer:
    def __init__(self) -> None:
        self._calls: dict[str, int] = {}

    def chunk(self, event: dict[str, Any]) -> dict[str, Any] | None:
        kind = event.get("type", "")
        if kind == "response.output_text.delta":
            return _delta({"content": event.get("delta", "")})
        if kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            return _delta({"reasoning": event.get("delta", "")})
        if kind == "response.output_item.added" and (event.get("item") or {}).get("type") == "function_call":
            item = event["item"]
            k = self._calls.setdefault(item.get("id") or str(event.get("output_index")), len(self._calls))
            return _delta({"tool_calls": [{"index": k, "id": item.get("call_id", ""),
                                           "function": {"name": item.get("name", ""), "arguments": ""}}]})
        if kind == "response.function_call_arguments.delta":
            k = self._calls.setdefault(event.get("item_id") or str(event.get("output_index")), len(self._calls))
            return _delta({"tool_calls": [{"index": k, "function": {"arguments": event.get("delta", "")}}]})
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            response = event.get("response") or {}
            usage = response.get("usage") or {}
            finish = "length" if kind == "response.incomplete" else ("tool_calls" if self._calls else "stop")
            out: dict[str, Any] = {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
            if usage:
                out["usage"] = {
                    "prompt_tokens": usage.get("input_tokens"), "completion_tokens": usage.get("output_tokens"),
                    "prompt_tokens_details": {"cached_tokens": (usage.get("input_tokens_details") or {})
                                              .get("cached_tokens")},
                    "completion_tokens_details": {"reasoning_tokens": (usage.get("output_tokens_details") or {})
                                                  .get("reasoning_tokens")},
                }
            return out
        return None


def _delta(delta: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
