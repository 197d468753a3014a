"""Earlier reasoning, sent back in the form the server's chat template reads.

The loop keeps each assistant turn's reasoning under the neutral key `reasoning` in its own messages
(the transcript). Before a request, `shape_history` rewrites those messages for the wire, per the model
config's `reasoning_in_history`:

- `reasoning_content`: Qwen3 / Qwen3.5 and MiniMax M2 templates re-render it for the assistant turns after
  the last user message (an agent's tool loop), and llama-server reads it;
- `reasoning`: vLLM's and mlx_lm.server's own name for the field; Gemma 4's template reads either;
- `both`: the two fields, for a server whose template may read either;
- `think_tags`: `<think>...</think>` inline before the content, for templates that only split the content;
- `none`: reasoning dropped (models that do not think, or a deliberate ablation).

MiniMax's card: removing the earlier `<think>` part degrades the model. mlx_lm.server and vLLM hand the
message dicts to the template as they are, so the field name is what decides whether the model sees it.
"""

from __future__ import annotations

from typing import Any

HISTORY_MODES = ("none", "reasoning_content", "reasoning", "both", "think_tags")
KEPT = "reasoning"  # the key the loop stores reasoning under


def shape_history(messages: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """The messages as sent: a new list; assistant messages with reasoning are copied, never changed."""
    if mode not in HISTORY_MODES:
        raise ValueError(f"reasoning_in_history '{mode}' is not one of {', '.join(HISTORY_MODES)}")
    out = []
    for msg in messages:
        if msg.get("role") != "assistant" or KEPT not in msg:
            out.append(msg)
            continue
        wire = {k: v for k, v in msg.items() if k != KEPT}
        text = msg[KEPT] or ""
        if text and mode in ("reasoning_content", "both"):
            wire["reasoning_content"] = text
        if text and mode in ("reasoning", "both"):
            wire["reasoning"] = text
        if text and mode == "think_tags":
            wire["content"] = f"<think>\n{text}\n</think>\n\n" + (msg.get("content") or "")
        out.append(wire)
    return out
