"""The metering proxy's wire formats, pinned with a scripted clock: Messages and Responses events become
the same chunks as chat completions, the first token is timed from the first generated event (never
from message_start or a ping), and a Messages request translates to chat completions and back."""

import json

import pytest

from orchestrator.agent.stream import StreamAccumulator
from orchestrator.harness import wire_messages
from orchestrator.harness.tool_outputs import tool_results
from orchestrator.harness.wire_responses import ResponsesStreamNormalizer


def feed(normalizer, timed_events, t_sent=0.0):
    acc = StreamAccumulator(t_sent=t_sent)
    for t, event in timed_events:
        chunk = normalizer.chunk(event)
        if chunk:
            acc.feed(t, chunk)
    return acc.finish(timed_events[-1][0])


MESSAGES_STREAM = [
    (0.5, {"type": "message_start", "message": {"usage": {"input_tokens": 900, "cache_read_input_tokens": 100,
                                                           "output_tokens": 1}}}),
    (1.0, {"type": "ping"}),
    (4.0, {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
    (5.0, {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Look at "}}),
    (6.0, {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "it."}}),
    (6.0, {"type": "content_block_stop", "index": 0}),
    (7.0, {"type": "content_block_start", "index": 1,
           "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}}),
    (8.0, {"type": "content_block_delta", "index": 1,
           "delta": {"type": "input_json_delta", "partial_json": "{\"file_path\": "}}),
    (9.0, {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"a.py\"}"}}),
    (9.0, {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 21}}),
    (9.5, {"type": "message_stop"}),
]


def test_messages_stream_times_the_first_generated_event_not_the_first_bytes():
    result = feed(wire_messages.MessagesStreamNormalizer(), MESSAGES_STREAM)
    m = result.metrics
    assert m.ttft_s == pytest.approx(5.0)  # message_start at 0.5 s and the ping are not tokens
    assert m.prompt_tokens == 1000 and m.cached_tokens == 100  # input_tokens leave the cached ones out
    assert m.completion_tokens == 21
    assert m.prefill_tps == pytest.approx(900 / 5.0)
    assert m.decode_tps == pytest.approx(20 / 4.0)
    assert result.reasoning == "Look at it."
    assert [(c.id, c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("toolu_1", "Read", {"file_path": "a.py"})]
    assert result.finish_reason == "tool_calls"


def test_responses_stream_becomes_the_same_turn():
    events = [
        (0.2, {"type": "response.created", "response": {}}),
        (2.0, {"type": "response.output_text.delta", "delta": "Fixing."}),
        (3.0, {"type": "response.output_item.added", "output_index": 1,
               "item": {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "shell"}}),
        (4.0, {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "{\"cmd\": \"ls\"}"}),
        (4.5, {"type": "response.completed", "response": {"usage": {
            "input_tokens": 300, "output_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 3}}}}),
    ]
    result = feed(ResponsesStreamNormalizer(), events)
    assert result.metrics.ttft_s == pytest.approx(2.0)
    assert result.content == "Fixing."
    assert result.tool_calls[0].id == "call_9" and json.loads(result.tool_calls[0].arguments) == {"cmd": "ls"}
    assert result.metrics.prompt_tokens == 300 and result.metrics.usage_reasoning_tokens == 3
    assert result.finish_reason == "tool_calls"


def test_a_messages_request_translates_to_chat_completions():
    body = {
        "model": "claude-x", "max_tokens": 512, "stream": True, "temperature": 0.2,
        "system": [{"type": "text", "text": "You are a coder."}, {"type": "text", "text": "Be brief."}],
        "tools": [{"name": "Read", "description": "read a file", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any"},
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Fix it."}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                              {"type": "text", "text": "Reading."},
                                              {"type": "tool_use", "id": "t1", "name": "Read", "input": {"p": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                          "content": [{"type": "text", "text": "x = 1"}]},
                                         {"type": "tool_result", "tool_use_id": "t2", "is_error": True,
                                          "content": "no such file"},
                                         {"type": "text", "text": "Go on."}]},
        ],
    }
    chat = wire_messages.chat_request_from_messages(body)
    assert chat["messages"] == [
        {"role": "system", "content": "You are a coder.\nBe brief."},
        {"role": "user", "content": "Fix it."},
        {"role": "assistant", "content": "Reading.", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "Read", "arguments": "{\"p\": 1}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "x = 1"},
        {"role": "tool", "tool_call_id": "t2", "content": "error: no such file"},
        {"role": "user", "content": "Go on."},
    ]
    assert chat["tools"][0]["function"] == {"name": "Read", "description": "read a file", "parameters": {"type": "object"}}
    assert chat["tool_choice"] == "required" and chat["max_tokens"] == 512 and chat["temperature"] == 0.2


@pytest.mark.parametrize("choice, expected", [
    ({"type": "auto"}, "auto"), ({"type": "none"}, "none"),
    ({"type": "tool", "name": "Bash"}, {"type": "function", "function": {"name": "Bash"}}),
])
def test_tool_choice_translates(choice, expected):
    body = {"messages": [], "tools": [{"name": "Bash", "input_schema": {}}], "tool_choice": choice}
    assert wire_messages.chat_request_from_messages(body)["tool_choice"] == expected


def test_a_finished_turn_rendered_as_messages_events_parses_back_to_itself():
    original = feed(wire_messages.MessagesStreamNormalizer(), MESSAGES_STREAM)
    lines = b"".join(wire_messages.messages_events(original, "m")).decode().splitlines()
    events = [json.loads(ln[5:]) for ln in lines if ln.startswith("data:")]
    assert [e["type"] for e in events][0] == "message_start" and events[-1]["type"] == "message_stop"
    again = feed(wire_messages.MessagesStreamNormalizer(), [(float(i), e) for i, e in enumerate(events, 1)])
    assert again.reasoning == original.reasoning
    assert [(c.name, json.loads(c.arguments)) for c in again.tool_calls] == [("Read", {"file_path": "a.py"})]
    assert again.finish_reason == "tool_calls"
    whole = wire_messages.messages_json(original, "m")
    assert whole["stop_reason"] == "tool_use"
    assert whole["usage"] == {"input_tokens": 900, "cache_read_input_tokens": 100, "output_tokens": 21}


def test_unparseable_tool_arguments_still_make_a_valid_messages_answer():
    from orchestrator.agent.stream import ToolCallDraft, TurnMetrics, TurnResult

    turn = TurnResult("", "", "", [ToolCallDraft("c1", "Bash", "{not json")], "tool_calls", TurnMetrics())
    block = wire_messages.messages_json(turn, "m")["content"][0]
    assert block["type"] == "tool_use" and block["input"] == {"_unparsed_arguments": "{not json"}


@pytest.mark.parametrize("api, body, expected", [
    ("chat", {"messages": [{"role": "tool", "tool_call_id": "a", "content": "out"},
                           {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "x"}]}]},
     {"a": "out", "b": "x"}),
    ("messages", {"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "1\tline"}]}]}]},
     {"t": "1\tline"}),
    ("responses", {"input": [{"type": "function_call_output", "call_id": "c", "output": "done"}]}, {"c": "done"}),
    ("responses", {"input": "just text"}, {}),
])
def test_tool_outputs_sent_back_by_the_harness_are_found(api, body, expected):
    assert tool_results(api, body) == expected
