"""Telling thinking apart from the answer, and tool-call markup the server failed to parse.

Servers hand reasoning over in four shapes: a separate `reasoning` / `reasoning_content` field (vLLM
and mlx_lm.server with a reasoning parser), `<think>...</think>` left in the content (no parser),
MiniMax's lone `</think>` with no opening tag (its template opens the block in the prompt), or Gemma 4's
`<|channel>thought ... <channel|>` channel where the server does not split it.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
# (opening, closing) markers of a thinking block in raw content, most common first.
THINK_TAGS = ((THINK_OPEN, THINK_CLOSE), ("<|channel>thought", "<channel|>"))

# Markup that means the model tried to call a tool in text: if the server returned no structured call
# for such a turn, its parser dropped it (users must tell that apart from the model failing).
# Qwen3-Coder XML and Hermes JSON (<tool_call>, or a bare <function= that mlx-lm PR #1616 is about),
# Mistral ([TOOL_CALLS]), Gemma 4 (<|tool_call>), MiniMax M2 (<minimax:tool_call>).
TOOL_CALL_MARKERS = ("<tool_call>", "[TOOL_CALLS]", "<function=", "<|tool_call", "<tool_calls>", "<minimax:tool_call>")


def split_thinking(content: str) -> tuple[str, str, int | None]:
    """Split content into (thinking, answer, end_index).

    end_index is the position in `content` just past the last thinking character's block (where the
    answer starts), or None when there was no thinking. An unclosed `<think>` counts as all thinking:
    that is what a model cut off by max_tokens mid-thought looks like.
    """
    for opening, closing in THINK_TAGS:
        if opening in content or closing in content:
            return _split(content, opening, closing)
    return "", content, None


def _split(content: str, opening: str, closing: str) -> tuple[str, str, int | None]:
    close = content.rfind(closing)
    open_ = content.find(opening)
    if close == -1:
        thinking = content[open_ + len(opening):]
        return thinking.strip("\n"), content[:open_], len(content)
    end = close + len(closing)
    if open_ == -1 or open_ > close:  # lone closing tag: everything before it was thinking
        thinking = content[:close]
        head = ""
    else:
        thinking = content[open_ + len(opening):close]
        head = content[:open_]
    # Several blocks (interleaved thinking): keep the text between them as thinking too, minus tags.
    thinking = thinking.replace(opening, "").replace(closing, "")
    return thinking.strip("\n"), head + content[end:].lstrip("\n"), end


def has_tool_call_markup(text: str | None) -> bool:
    return bool(text) and any(marker in text for marker in TOOL_CALL_MARKERS)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate, about 4 characters a token for English and code in BPE vocabularies.

    Used only when neither the server's usage, its /tokenize, nor a share of the turn's completion
    tokens can count; the record then says `estimate` so nobody mistakes it for a count.
    """
    return -(-len(text) // 4) if text else 0
