"""How streamed deltas become one message, and how each way of losing a call is named, at exact edges:
both reasoning field names at once, a call's name and id across fragments, the last finish reason, every
call marker and its closer, the end-of-turn token allowance, and the 32-token prefill threshold."""

import pytest

from orchestrator.agent.losses import find_losses
from orchestrator.agent.stream import ToolCallDraft
from tests.helpers.stream_chunks import accumulate, delta, usage


def test_a_delta_carrying_both_reasoning_field_names_is_thought_once():
    # vLLM sent `reasoning_content` and `reasoning` side by side while it renamed the field.
    result = accumulate([delta(1.0, reasoning="plan ", reasoning_content="plan "),
                         delta(2.0, reasoning="it", reasoning_content="it"), delta(3.0, content="done")])
    assert (result.reasoning, result.content) == ("plan it", "done")


def test_a_calls_name_and_arguments_are_joined_across_fragments_and_its_first_id_kept():
    result = accumulate([
        delta(0.1, tool_calls=[{"index": 0, "id": "call_a", "function": {"name": "read_", "arguments": ""}}]),
        delta(0.2, tool_calls=[{"index": 0, "id": "call_b", "function": {"name": "file", "arguments": "{\"pa"}}]),
        delta(0.3, tool_calls=[{"index": 0, "function": {"arguments": "th\": \"a.py\"}"}}]),
        delta(0.4, finish="tool_calls")])
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("call_a", "read_file", '{"path": "a.py"}')]
    assert result.finish_reason == "tool_calls" and result.losses == []


def test_a_call_fragment_without_a_function_or_an_id_adds_nothing_but_still_counts_as_output():
    result = accumulate([delta(0.5, tool_calls=[{"index": 0}]), delta(0.75, tool_calls=[{"index": 0, "id": None}])])
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("", "", "")]
    assert result.metrics.ttft_s == 0.5


def test_the_last_finish_reason_streamed_is_the_turns():
    result = accumulate([delta(0.1, content="a", finish="length"), delta(0.2, content="b"),
                         delta(0.3, finish="stop")])
    assert result.finish_reason == "stop"
    assert accumulate([delta(0.1, content="a")]).finish_reason is None


def test_chunks_without_choices_or_with_empty_deltas_are_not_tokens():
    result = accumulate([(0.1, {"choices": None}), delta(0.2, role="assistant"), delta(0.3, content=""),
                         delta(0.4, reasoning=""), (0.5, {"choices": [{"index": 0, "delta": None}]}),
                         delta(0.6, content="x"), delta(0.9, content="y"), usage(1.0, 10, 3)])
    assert (result.content, result.metrics.ttft_s) == ("xy", pytest.approx(0.6))
    assert result.metrics.decode_tps == pytest.approx(2 / 0.3)


MARKERS = ["<tool_call>", "[TOOL_CALLS]", "<function=", "<|tool_call", "<tool_calls>", "<minimax:tool_call>"]


@pytest.mark.parametrize("marker", MARKERS)
def test_every_call_marker_left_in_the_text_is_named_where_it_was(marker):
    assert find_losses("stop", f"I call it: {marker}", "", [], 30) == ["markup_in_content"]
    assert find_losses("stop", "answer", f"I call it: {marker}", [], 30) == ["markup_in_reasoning"]
    assert find_losses("stop", "<tool_response>x</tool_response> <toolcall>", "function=x", [], 30) == []


@pytest.mark.parametrize("opener, closed", [
    ("<tool_call>", '<tool_call>{"name": "f"}</tool_call>'),
    ("<function=", "<function=f><parameter=p>1</parameter></function>"),
    ("<|tool_call", "<|tool_call>call:f{}<tool_call|>"),
    ("<tool_calls>", '<tool_calls>[{"name": "f"}]</tool_calls>'),
    ("<minimax:tool_call>", '<minimax:tool_call><invoke name="f"></invoke></minimax:tool_call>'),
])
def test_a_call_marker_without_its_own_closer_at_the_cap_is_a_cut_call(opener, closed):
    assert find_losses("length", f"{opener}f", "", [], 30) == ["call_cut_by_cap", "markup_in_content"]
    assert find_losses("length", closed, "", [], 30) == ["markup_in_content"]
    # A closer before the opener does not close it: the last call is still open.
    assert find_losses("length", f"{closed} {opener}f", "", [], 30) == ["call_cut_by_cap", "markup_in_content"]
    # The same cut call inside the reasoning.
    assert find_losses("length", "", f"{opener}f", [], 30) == ["call_cut_by_cap", "markup_in_reasoning"]


@pytest.mark.parametrize("completion, lost", [(None, []), (0, []), (1, []), (2, []), (3, ["empty_message"])])
def test_a_turn_of_only_its_end_tokens_lost_nothing_but_three_empty_tokens_are_lost(completion, lost):
    assert find_losses("stop", "  \n", "\n", [], completion) == lost


def test_a_turn_with_only_a_call_or_only_reasoning_is_not_empty():
    assert find_losses("tool_calls", "", "", [ToolCallDraft("c", "read_file", "{}")], 40) == []
    assert find_losses("stop", "", "thought only", [], 40) == []
    assert find_losses("tool_calls", "", "", [], 40) == ["finish_tool_calls_without_call", "empty_message"]


def test_a_cut_call_is_judged_by_the_last_streamed_calls_arguments():
    whole, cut = ToolCallDraft("a", "f", '{"x": 1}'), ToolCallDraft("b", "f", '{"x": ')
    assert find_losses("length", "", "", [cut, whole], 40) == []
    assert find_losses("length", "", "", [whole, cut], 40) == ["call_cut_by_cap"]


@pytest.mark.parametrize("prompt, cached, prefill_tps", [
    (31, None, None), (32, None, 32 / 0.5), (100, 69, None), (100, 68, 32 / 0.5), (31, 0, None)])
def test_prefill_is_measured_only_from_32_fresh_prompt_tokens(prompt, cached, prefill_tps):
    m = accumulate([delta(0.5, content="a"), usage(0.6, prompt, 1, cached=cached)]).metrics
    assert m.prefill_tps == prefill_tps


@pytest.mark.parametrize("prompt_n, server_prefill_tps", [(None, 300.0), (31, None), (32, 300.0), (5000, 300.0)])
def test_llama_servers_prefill_rate_is_kept_only_from_32_prefilled_tokens(prompt_n, server_prefill_tps):
    timings = {"prompt_per_second": 300.0, "predicted_per_second": 20.0}
    if prompt_n is not None:
        timings["prompt_n"] = prompt_n
    m = accumulate([delta(0.5, content="a"), (0.6, {"choices": [], "timings": timings})]).metrics
    assert (m.server_prefill_tps, m.server_decode_tps, m.cached_tokens) == (server_prefill_tps, 20.0, None)


def test_a_prompt_of_unknown_size_has_no_cached_share():
    m = accumulate([delta(0.5, content="a"), (0.6, {"choices": [], "usage": {"completion_tokens": 1}})]).metrics
    assert (m.prompt_tokens, m.cached_tokens, m.cached_share, m.prefill_tps) == (None, None, None, None)
    zero = accumulate([delta(0.5, content="a"), usage(0.6, 0, 1, cached=0)]).metrics
    assert (zero.cached_share, zero.prefill_tps) == (None, None)
