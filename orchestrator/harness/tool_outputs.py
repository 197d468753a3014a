"""The tool outputs a harness sends back to the model, found in its next request, in each wire format.

The graders' reading check asks whether some tool output carried a file's content; a harness runs its
own tools, so their outputs are read from what it sends the model next.
"""

from __future__ import annotations

from typing import Any


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(b.get("text", b.get("output", ""))) for b in content or [] if isinstance(b, dict))


def tool_results(api: str, body: dict[str, Any]) -> dict[str, str]:
    """The tool outputs a harness sends back, by call id: what the model was shown (graders read it)."""
    out: dict[str, str] = {}
    if api == "chat":
        for m in body.get("messages") or []:
            if m.get("role") == "tool" and m.get("tool_call_id"):
                out[m["tool_call_id"]] = _text(m.get("content"))
    elif api == "messages":
        for m in body.get("messages") or []:
            for block in m.get("content") if isinstance(m.get("content"), list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    out[block.get("tool_use_id", "")] = _text(block.get("content"))
    else:
        items = body.get("input") if isinstance(body.get("input"), list) else []
        for item in items:
            if isinstance(item, dict) and item.get("type") == "function_call_output":
                out[item.get("call_id", "")] = _text(item.get("output"))
    return out
