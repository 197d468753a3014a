"""From one turn's TurnResult (+ a memory snapshot) to the TurnRecord written to turns.jsonl."""

from __future__ import annotations

from typing import Any, Callable

from orchestrator.results.records import TurnRecord
from orchestrator.agent.stream import TurnResult
from orchestrator.agent.thinking import estimate_tokens

TokenCounter = Callable[[str], "int | None"]


def count_thinking(result: TurnResult, count_tokens: TokenCounter | None) -> tuple[int | None, str | None]:
    """Thinking tokens of one turn and where the figure comes from.

    Preference: the server's own usage count, then the server's tokenizer (/tokenize), then the turn's
    completion tokens shared out by characters, then a characters-per-token estimate.
    """
    m = result.metrics
    if m.usage_reasoning_tokens is not None:
        return m.usage_reasoning_tokens, "server_usage"
    text = result.reasoning
    if not text:
        # Nothing was thought: zero is exact whatever counts it.
        return 0, ("tokenizer" if count_tokens else "estimate")
    if count_tokens is not None:
        counted = count_tokens(text)
        if counted is not None:
            return counted, "tokenizer"
    generated = len(text) + len(result.content) + sum(len(c.arguments) + len(c.name) for c in result.tool_calls)
    if m.completion_tokens and generated:
        return round(m.completion_tokens * len(text) / generated), "estimate"
    return estimate_tokens(text), "estimate"


def build_turn_record(base: dict[str, Any], turn: int, result: TurnResult, tool_calls: int,
                      malformed: int, memory: dict[str, Any], count_tokens: TokenCounter | None,
                      warm: bool) -> TurnRecord:
    m = result.metrics
    thinking_tokens, source = count_thinking(result, count_tokens)
    return TurnRecord(
        **base, turn=turn, finish_reason=result.finish_reason, wall_s=m.wall_s, ttft_s=m.ttft_s,
        prefill_tps=m.prefill_tps, decode_tps=m.decode_tps, prompt_tokens=m.prompt_tokens,
        cached_tokens=m.cached_tokens, completion_tokens=m.completion_tokens,
        server_decode_tps=m.server_decode_tps, server_prefill_tps=m.server_prefill_tps,
        thinking_tokens=thinking_tokens, thinking_tokens_source=source,
        thinking_s=m.thinking_s if result.reasoning else (0.0 if m.wall_s is not None else None),
        tool_calls=tool_calls, malformed_calls=malformed, warm=warm, **memory,
        # How the server lost the model's work this turn (orchestrator/agent/losses.py), the prompt's
        # cached share (prefill_tps is null when too few fresh tokens were prefilled), and what the
        # request carried: its seed and token cap.
        lost_calls=list(result.losses), cached_share=m.cached_share, seed=result.seed,
        max_tokens=result.max_tokens,
    )
