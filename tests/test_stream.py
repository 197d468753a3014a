"""Per-turn arithmetic pinned with a scripted clock and fake chunks (no real time involved)."""

import pytest

from orchestrator.agent.stream import StreamAccumulator
from orchestrator.agent.thinking import has_tool_call_markup, split_thinking


def chunk(delta=None, finish=None, **extra):
    body = {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    body.update(extra)
    return body


def usage(prompt, completion, cached=None, reasoning=None):
    u = {"prompt_tokens": prompt, "completion_tokens": completion}
    if cached is not None:
        u["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        u["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return {"choices": [], "usage": u}


def feed(acc, timed_chunks):
    for t, c in timed_chunks:
        acc.feed(t, c)


def test_ttft_prefill_and_decode_from_arrival_times():
    acc = StreamAccumulator(t_sent=10.0)
    feed(acc, [
        (10.1, chunk({"role": "assistant"})),       # role-only chunk is not a token
        (10.5, chunk({"content": "Hel"})),          # first token: ttft 0.5 s
        (10.6, chunk({"content": "lo"})),
        (10.7, chunk({"content": " you"})),
        (10.9, chunk({"content": "!"})),            # last token: 0.4 s after the first
        (10.95, chunk(finish="stop")),
        (11.0, usage(prompt=120, completion=5, cached=20)),
    ])
    r = acc.finish(11.0)
    m = r.metrics
    assert r.content == "Hello you!" and r.finish_reason == "stop"
    assert m.ttft_s == pytest.approx(0.5)
    assert m.prefill_tps == pytest.approx((120 - 20) / 0.5)  # cached tokens were not prefilled
    assert m.decode_tps == pytest.approx((5 - 1) / 0.4)
    assert m.wall_s == pytest.approx(1.0)


def test_unknown_usage_leaves_rates_unknown_not_zero():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(0.2, chunk({"content": "a"})), (0.3, chunk({"content": "b"})), (0.3, chunk(finish="stop"))])
    m = acc.finish(0.4).metrics
    assert m.ttft_s == pytest.approx(0.2)
    assert m.prompt_tokens is None and m.completion_tokens is None
    assert m.prefill_tps is None and m.decode_tps is None


def test_usage_repeated_on_every_chunk_keeps_the_last():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(0.1 * i, {**chunk({"content": "x"}), "usage": {"prompt_tokens": 9, "completion_tokens": i}})
               for i in range(1, 6)])
    m = acc.finish(0.6).metrics
    assert m.completion_tokens == 5
    assert m.decode_tps == pytest.approx(4 / 0.4)


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_reasoning_under_either_field_name(field):
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(1.0, chunk({field: "think "})), (2.0, chunk({field: "more"})),
               (3.0, chunk({"content": "answer"})), (3.0, chunk(finish="stop"))])
    r = acc.finish(3.0)
    assert r.reasoning == "think more" and r.content == "answer"
    assert r.metrics.thinking_s == pytest.approx(1.0)  # first token at 1.0, last thinking at 2.0


def test_think_block_split_across_chunks_and_timed():
    acc = StreamAccumulator(t_sent=0.0)
    pieces = ["<th", "ink>plan", " it</th", "ink>", "final"]
    feed(acc, [(1.0 + i, chunk({"content": p})) for i, p in enumerate(pieces)])
    r = acc.finish(6.0)
    assert r.reasoning == "plan it" and r.content == "final"
    assert r.raw_content == "".join(pieces)
    assert r.metrics.thinking_s == pytest.approx(3.0)  # the block closes in the chunk at t=4.0


def test_minimax_lone_closing_tag_counts_what_precedes_it_as_thinking():
    thinking, answer, end = split_thinking("I should read the file first.</think>Reading it now.")
    assert thinking == "I should read the file first." and answer == "Reading it now." and end is not None


def test_unclosed_think_is_all_thinking_and_no_think_is_all_answer():
    assert split_thinking("<think>never finished")[:2] == ("never finished", "")
    assert split_thinking("plain answer") == ("", "plain answer", None)


def test_tool_calls_assembled_from_fragments_in_index_order():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [
        (0.1, chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "read_file", "arguments": ""}}]})),
        (0.2, chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "search_code", "arguments": "{\"pat"}}]})),
        (0.3, chunk({"tool_calls": [{"index": 0, "function": {"arguments": "tern\": \"TODO\"}"}}]})),
        (0.4, chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{\"path\": \"a.py\"}"}}]})),
        (0.5, chunk(finish="tool_calls")),
    ])
    calls = acc.finish(0.5).tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "search_code", '{"pattern": "TODO"}'), ("b", "read_file", '{"path": "a.py"}')]


def test_server_figures_kept_beside_ours():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(0.5, chunk({"content": "a"})), (1.0, chunk({"content": "b"})),
               (1.0, chunk(finish="stop", timings={"predicted_per_second": 42.0, "prompt_per_second": 300.0,
                                                    "cache_n": 7})),
               (1.0, usage(prompt=57, completion=2))])
    m = acc.finish(1.0).metrics
    assert (m.server_decode_tps, m.server_prefill_tps) == (42.0, 300.0)
    assert m.cached_tokens == 7 and m.prefill_tps == pytest.approx(50 / 0.5)


def test_usage_reasoning_count_is_read():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(0.1, chunk({"content": "x"})), (0.2, usage(10, 30, reasoning=25))])
    assert acc.finish(0.2).metrics.usage_reasoning_tokens == 25


@pytest.mark.parametrize("text, expected", [
    ("<tool_call>{\"name\": \"read_file\"}</tool_call>", True),
    ("[TOOL_CALLS]read_file", True),
    ("<function=read_file>", True),
    ("I will now read the file.", False),
])
def test_tool_call_markup_detection(text, expected):
    assert has_tool_call_markup(text) is expected
