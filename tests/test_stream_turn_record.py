"""One streamed turn becomes one turns.jsonl record, every field of it pinned (orchestrator/metrics/turn_record.py):
the figures of the turn, its losses, what the request carried, and where its thinking count comes from."""

import pytest

from orchestrator.agent.stream import StreamAccumulator, ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.metrics.turn_record import build_turn_record, count_thinking
from orchestrator.results.records import TurnRecord

BASE = {"model": "m", "config_hash": "h", "task": "tdd", "run": 2, "mode": "raw"}


def streamed_turn():
    """Thinks from 1.0 s to 2.0 s, answers, then cut by the cap inside a call's arguments at 4.0 s."""
    acc = StreamAccumulator(t_sent=0.5)
    for t, delta in [(1.0, {"reasoning": "plan it"}), (2.0, {"reasoning": " out"}), (3.0, {"content": "Now."}),
                     (4.0, {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "write_file",
                                                                                  "arguments": "{\"pa"}}]})]:
        acc.feed(t, {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    acc.feed(4.0, {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
                   "timings": {"predicted_per_second": 3.5, "prompt_per_second": 250.0, "prompt_n": 400}})
    acc.feed(4.0, {"choices": [], "usage": {"prompt_tokens": 500, "completion_tokens": 7,
                                            "prompt_tokens_details": {"cached_tokens": 100},
                                            "completion_tokens_details": {"reasoning_tokens": 4}}})
    result = acc.finish(4.5)
    result.seed, result.max_tokens = 77, 7
    return result


def test_a_streamed_turn_becomes_exactly_this_record():
    memory = {"server_peak_rss_bytes": 1000, "system_used_bytes": 2000, "gpu_used_bytes": 3000}
    record = build_turn_record(BASE, 4, streamed_turn(), 1, 1, memory, lambda text: 99, warm=False)
    # Every field: those the turn sets, and every other one at the record's own default.
    defaults = {name: f.get_default(call_default_factory=True) for name, f in TurnRecord.model_fields.items()
                if not f.is_required()}
    assert record.model_dump() == {
        **defaults, **BASE, "turn": 4, "finish_reason": "length", "wall_s": 4.0, "ttft_s": 0.5, "prefill_tps": 800.0,
        "decode_tps": 2.0, "prompt_tokens": 500, "cached_tokens": 100, "completion_tokens": 7,
        "server_decode_tps": 3.5, "server_prefill_tps": 250.0, "thinking_tokens": 4,
        "thinking_tokens_source": "server_usage", "thinking_s": 1.0, "tool_calls": 1, "malformed_calls": 1,
        "server_peak_rss_bytes": 1000, "system_used_bytes": 2000, "gpu_used_bytes": 3000, "warm": False,
        "lost_calls": ["call_cut_by_cap"], "cached_share": 0.2, "seed": 77, "max_tokens": 7}


def test_a_turn_without_thinking_records_zero_thinking_time_and_tokens():
    acc = StreamAccumulator(t_sent=0.0)
    acc.feed(1.0, {"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})
    record = build_turn_record(BASE, 1, acc.finish(1.5), 0, 0, {}, None, warm=True)
    assert (record.thinking_s, record.thinking_tokens, record.thinking_tokens_source) == (0.0, 0, "estimate")
    assert (record.finish_reason, record.wall_s, record.ttft_s, record.lost_calls) == ("stop", 1.5, 1.0, [])


@pytest.mark.parametrize("reasoning, content, completion, expected", [
    ("ab", "c", 10, 7),        # 10 x 2/3 = 6.67: rounded to the nearest token, not down
    ("a", "bc", 10, 3),        # 3.33
    ("ab", "cd", 5, 2),        # 2.5: Python rounds half to even
    ("abcdef", "", 1, 1),      # all of one token
])
def test_thinking_tokens_shared_out_of_the_completion_round_to_the_nearest(reasoning, content, completion, expected):
    result = TurnResult(content, content, reasoning, [], "stop", TurnMetrics(completion_tokens=completion))
    assert count_thinking(result, None) == (expected, "estimate")


def test_a_calls_name_and_arguments_count_as_generated_text_when_sharing_out():
    call = ToolCallDraft("id-is-not-generated-text", "ab", "cdef")
    result = TurnResult("", "", "abcdef", [call], "tool_calls", TurnMetrics(completion_tokens=12))
    assert count_thinking(result, None) == (6, "estimate")  # 6 of 12 generated characters
