"""How an answer cut by the token cap crosses the proxy in Anthropic Messages, both ways: the server's
`max_tokens` stop is the turn's `length` (the report counts it as cut by the cap), and a chat answer
cut by the cap reaches the harness as `max_tokens`, never as a normal end of turn."""

import pytest

from orchestrator.agent.stream import StreamAccumulator
from orchestrator.harness import wire_messages


def turn_from_messages(stop_reason):
    norm, acc = wire_messages.MessagesStreamNormalizer(), StreamAccumulator(t_sent=0.0)
    for t, event in [(0.1, {"type": "message_start", "message": {"usage": {"input_tokens": 10, "output_tokens": 1}}}),
                     (0.2, {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                     (0.3, {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Partial"}}),
                     (0.4, {"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 8}})]:
        chunk = norm.chunk(event)
        if chunk:
            acc.feed(t, chunk)
    return acc.finish(0.5)


@pytest.mark.parametrize("stop_reason, finish", [("max_tokens", "length"), ("end_turn", "stop"),
                                                  ("tool_use", "tool_calls"), ("stop_sequence", "stop")])
def test_a_messages_stop_reason_becomes_the_turns_finish_reason(stop_reason, finish):
    assert turn_from_messages(stop_reason).finish_reason == finish


@pytest.mark.parametrize("finish, stop_reason", [("length", "max_tokens"), ("stop", "end_turn")])
def test_a_chat_answers_finish_reaches_a_messages_harness_as_its_stop_reason(finish, stop_reason):
    acc = StreamAccumulator(t_sent=0.0)
    acc.feed(0.1, {"choices": [{"delta": {"content": "Partial"}, "finish_reason": finish}]})
    result = acc.finish(0.2)
    assert wire_messages.messages_json(result, "served")["stop_reason"] == stop_reason
    events = b"".join(wire_messages.messages_events(result, "served")).decode()
    assert f'"stop_reason": "{stop_reason}"' in events
