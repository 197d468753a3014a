"""Earlier reasoning goes back to the server in the field the config names (orchestrator/agent/history.py):
each mode's exact wire message, the transcript left as it was, and messages without reasoning untouched."""

import copy

import pytest

from orchestrator.agent.history import HISTORY_MODES, shape_history

CALL = [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]
TRANSCRIPT = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "Fix it.", "reasoning": "a user message is never rewritten"},
    {"role": "assistant", "content": "Reading.", "reasoning": "read a.py first", "tool_calls": CALL},
    {"role": "tool", "tool_call_id": "c1", "content": "x = 1"},
    {"role": "assistant", "content": "Done."},
]
ASSISTANT = {"role": "assistant", "content": "Reading.", "tool_calls": CALL}


@pytest.mark.parametrize("mode, wire", [
    ("none", ASSISTANT),
    ("reasoning_content", {**ASSISTANT, "reasoning_content": "read a.py first"}),
    ("reasoning", {**ASSISTANT, "reasoning": "read a.py first"}),
    ("both", {**ASSISTANT, "reasoning_content": "read a.py first", "reasoning": "read a.py first"}),
    ("think_tags", {**ASSISTANT, "content": "<think>\nread a.py first\n</think>\n\nReading."}),
])
def test_each_history_mode_puts_earlier_reasoning_in_its_own_field(mode, wire):
    sent = shape_history(TRANSCRIPT, mode)
    assert sent == [TRANSCRIPT[0], TRANSCRIPT[1], wire, TRANSCRIPT[3], TRANSCRIPT[4]]


@pytest.mark.parametrize("mode", HISTORY_MODES)
def test_the_transcript_itself_is_never_changed(mode):
    before = copy.deepcopy(TRANSCRIPT)
    sent = shape_history(TRANSCRIPT, mode)
    assert TRANSCRIPT == before
    assert sent is not TRANSCRIPT
    # Messages without reasoning go as they are (the same objects); the one with reasoning is a copy.
    assert [a is b for a, b in zip(sent, TRANSCRIPT)] == [True, True, False, True, True]


@pytest.mark.parametrize("mode", HISTORY_MODES)
def test_an_empty_or_missing_reasoning_sends_no_reasoning_field(mode):
    messages = [{"role": "assistant", "content": "a", "reasoning": ""},
                {"role": "assistant", "content": "b", "reasoning": None}]
    assert shape_history(messages, mode) == [{"role": "assistant", "content": "a"},
                                             {"role": "assistant", "content": "b"}]


def test_think_tags_with_no_answer_send_the_thinking_alone():
    messages = [{"role": "assistant", "content": None, "reasoning": "plan", "tool_calls": CALL}]
    assert shape_history(messages, "think_tags") == [
        {"role": "assistant", "content": "<think>\nplan\n</think>\n\n", "tool_calls": CALL}]


def test_an_unknown_mode_is_refused_naming_the_modes():
    with pytest.raises(ValueError) as err:
        shape_history(TRANSCRIPT, "inline")
    assert str(err.value) == ("reasoning_in_history 'inline' is not one of "
                              "none, reasoning_content, reasoning, both, think_tags")
