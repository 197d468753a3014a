"""Turning one streamed chat completion into a message plus timing figures.

Pure bookkeeping over (arrival time, chunk) pairs, so the arithmetic is pinned in tests with a scripted
clock and a fake stream rather than real time. Chunks are plain dicts (an SDK chunk's `model_dump()`),
which keeps every server's extra fields: `reasoning` / `reasoning_content` deltas, llama-server's
`timings`, vLLM's per-request `metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.agent.losses import find_losses
from orchestrator.agent.thinking import split_thinking

# Below this many freshly processed prompt tokens, TTFT is mostly the server's fixed cost (scheduling,
# the first decode step), not prefill: a cached prompt with one new token would read as a few tok/s.
MIN_PREFILL_TOKENS = 32


@dataclass
class ToolCallDraft:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class TurnMetrics:
    wall_s: float | None = None
    ttft_s: float | None = None
    prefill_tps: float | None = None
    decode_tps: float | None = None
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    usage_reasoning_tokens: int | None = None
    server_decode_tps: float | None = None
    server_prefill_tps: float | None = None
    thinking_s: float | None = None
    cached_share: float | None = None
    """Share of the prompt the server took from its cache (cached / prompt tokens)."""


@dataclass
class TurnResult:
    content: str
    """The answer with thinking removed."""
    raw_content: str
    """Content exactly as streamed (think tags and any unparsed tool-call markup left in)."""
    reasoning: str
    """Thinking text, from the reasoning field or from think tags in the content."""
    tool_calls: list[ToolCallDraft]
    finish_reason: str | None
    metrics: TurnMetrics
    losses: list[str] = field(default_factory=list)
    """How the server lost the model's work in this turn (orchestrator/agent/losses.py)."""
    seed: int | None = None
    """The seed the request carried."""
    max_tokens: int | None = None
    """The cap the request carried."""


def _first(*values: Any) -> Any:
    for v in values:
        if v is not None:
            return v
    return None


@dataclass
class StreamAccumulator:
    """Feed it (time, chunk) as chunks arrive; `finish(t_end)` gives the TurnResult."""

    t_sent: float
    content_parts: list[str] = field(default_factory=list)
    content_marks: list[tuple[float, int]] = field(default_factory=list)
    """(arrival time, content length after this chunk): places the end of a <think> block in time."""
    reasoning_parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallDraft] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    server_metrics: dict[str, Any] | None = None
    t_first: float | None = None
    t_last: float | None = None
    t_last_reasoning: float | None = None
    _content_len: int = 0

    def feed(self, t: float, chunk: dict[str, Any]) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        if chunk.get("timings"):
            self.timings = chunk["timings"]
        if chunk.get("metrics"):
            self.server_metrics = chunk["metrics"]
        for choice in chunk.get("choices") or []:
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            delta = choice.get("delta") or {}
            if self._feed_delta(t, delta):
                self.t_first = t if self.t_first is None else self.t_first
                self.t_last = t

    def _feed_delta(self, t: float, delta: dict[str, Any]) -> bool:
        """Record one delta; True when it carried generated output (a token's worth)."""
        produced = False
        reasoning = _first(delta.get("reasoning"), delta.get("reasoning_content"))
        if reasoning:
            self.reasoning_parts.append(reasoning)
            self.t_last_reasoning = t
            produced = True
        content = delta.get("content")
        if content:
            self.content_parts.append(content)
            self._content_len += len(content)
            self.content_marks.append((t, self._content_len))
            produced = True
        for call in delta.get("tool_calls") or []:
            draft = self.tool_calls.setdefault(call.get("index", len(self.tool_calls)), ToolCallDraft())
            draft.id = draft.id or call.get("id") or ""
            function = call.get("function") or {}
            draft.name += function.get("name") or ""
            draft.arguments += function.get("arguments") or ""
            produced = True
        return produced

    def _time_at_content_index(self, index: int) -> float | None:
        """When the streamed content reached `index` (a position inside it, so some chunk reached it)."""
        for t, length in self.content_marks:
            if length >= index:
                return t
        return None

    def finish(self, t_end: float) -> TurnResult:
        raw = "".join(self.content_parts)
        reasoning = "".join(self.reasoning_parts)
        answer = raw
        thinking_end = self.t_last_reasoning
        if not reasoning:
            tagged, answer, end_index = split_thinking(raw)
            if end_index is not None:
                reasoning = tagged
                thinking_end = self._time_at_content_index(end_index)
        else:
            # A parser that split the first block but leaked a later one into the content (vLLM #38212,
            # MiniMax's interleaved <think> blocks): the leaked block is thinking too, not the answer.
            tagged, rest, end_index = split_thinking(raw)
            if end_index is not None:  # an empty leaked block is no thinking, but its tags are no answer
                answer = rest
                reasoning = reasoning + "\n\n" + tagged if tagged else reasoning
        metrics = self._metrics(t_end, thinking_end, bool(reasoning))
        calls = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        losses = find_losses(self.finish_reason, answer, reasoning, calls, metrics.completion_tokens)
        return TurnResult(answer, raw, reasoning, calls, self.finish_reason, metrics, losses)

    def _metrics(self, t_end, thinking_end, thought: bool) -> TurnMetrics:
        m = TurnMetrics(wall_s=t_end - self.t_sent)
        usage = self.usage or {}
        m.prompt_tokens = usage.get("prompt_tokens")
        m.completion_tokens = usage.get("completion_tokens")
        m.cached_tokens = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        m.usage_reasoning_tokens = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        self._server_figures(m)  # first: llama-server reports cached prompt tokens only in its timings
        if self.t_first is not None:
            m.ttft_s = self.t_first - self.t_sent
            fresh = None if m.prompt_tokens is None else m.prompt_tokens - (m.cached_tokens or 0)
            if fresh is not None and fresh >= MIN_PREFILL_TOKENS and m.ttft_s > 0:
                m.prefill_tps = fresh / m.ttft_s
            span = (self.t_last or self.t_first) - self.t_first
            if m.completion_tokens is not None and m.completion_tokens > 1 and span > 0:
                m.decode_tps = (m.completion_tokens - 1) / span
        if m.prompt_tokens and m.cached_tokens is not None:
            m.cached_share = min(1.0, m.cached_tokens / m.prompt_tokens)
        if thought and self.t_first is not None and thinking_end is not None:
            # Thinking starts at the first token, whose cost belongs to prefill (ttft), so measure
            # from the first generated token to the last thinking one.
            m.thinking_s = max(0.0, thinking_end - self.t_first)
        return m

    def _server_figures(self, m: TurnMetrics) -> None:
        if self.timings:  # llama-server
            m.server_decode_tps = self.timings.get("predicted_per_second")
            prompt_n = self.timings.get("prompt_n")  # tokens it really prefilled this turn
            if prompt_n is None or prompt_n >= MIN_PREFILL_TOKENS:
                m.server_prefill_tps = self.timings.get("prompt_per_second")
            if m.cached_tokens is None and self.timings.get("cache_n") is not None:
                m.cached_tokens = self.timings["cache_n"]
        if self.server_metrics:  # vLLM --enable-per-request-metrics (names vary by release)
            sm = self.server_metrics
            m.server_decode_tps = _first(m.server_decode_tps, sm.get("decode_tps"),
                                         sm.get("generation_tokens_per_second"), sm.get("tokens_per_second"))
            m.server_prefill_tps = _first(m.server_prefill_tps, sm.get("prefill_tps"),
                                          sm.get("prompt_tokens_per_second"))
