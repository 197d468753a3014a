"""Streamed chat-completion chunks a test writes by hand, with the time each arrived, and the
StreamAccumulator fed with them as the chat client feeds it."""

from __future__ import annotations

from orchestrator.agent.stream import StreamAccumulator


def delta(t, finish=None, **fields):
    return t, {"choices": [{"index": 0, "delta": fields, "finish_reason": finish}]}


def usage(t, prompt, completion, cached=None):
    u = {"prompt_tokens": prompt, "completion_tokens": completion}
    if cached is not None:
        u["prompt_tokens_details"] = {"cached_tokens": cached}
    return t, {"choices": [], "usage": u}


def accumulate(timed_chunks, t_sent=0.0, t_end=None):
    """The turn as finished at `t_end` (by default when the last chunk came)."""
    acc = StreamAccumulator(t_sent=t_sent)
    for t, c in timed_chunks:
        acc.feed(t, c)
    return acc.finish(t_end if t_end is not None else timed_chunks[-1][0])
