"""Edges of what one turn's figures and texts become (found by mutation testing): where a thinking count
comes from, the tokenizer-free estimate, server error messages kept short, the settings a model config
gives a request, per-run seeds, thinking blocks cut by the cap, and calls lost at the token cap."""

import pytest

from orchestrator.agent.chat_client import ChatSettings, _short, run_seed
from orchestrator.agent.losses import find_losses
from orchestrator.agent.stream import StreamAccumulator, ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.agent.thinking import estimate_tokens, split_thinking
from orchestrator.config import parse_config
from orchestrator.metrics.turn_record import count_thinking
from tests.helpers.stream_chunks import accumulate, delta, usage


def turn_result(reasoning="", content="", calls=(), usage_reasoning=None, completion=None) -> TurnResult:
    metrics = TurnMetrics(usage_reasoning_tokens=usage_reasoning, completion_tokens=completion)
    return TurnResult(content, content, reasoning, list(calls), "stop", metrics)


@pytest.mark.parametrize("result, counter, expected", [
    (turn_result("abcd" * 10, usage_reasoning=7, completion=50), lambda t: 99, (7, "server_usage")),
    (turn_result("", usage_reasoning=0, completion=5), None, (0, "server_usage")),
    (turn_result("", completion=5), None, (0, "estimate")),
    (turn_result("", completion=5), lambda t: 99, (0, "tokenizer")),
    (turn_result("abcd" * 10, completion=50), lambda t: len(t) // 2, (20, "tokenizer")),
    (turn_result("abcd" * 10, completion=50), lambda t: None, (50, "estimate")),  # all 40 characters thought
    (turn_result("abcd" * 10, content="x" * 40, completion=50), None, (25, "estimate")),
    (turn_result("abcd" * 10, calls=[ToolCallDraft("i", "read_file", "x" * 31)], completion=100), None,
     (50, "estimate")),
    (turn_result("abcde", completion=None), None, (2, "estimate")),  # no usage at all: 5 chars ~ 2 tokens
])
def test_thinking_tokens_come_from_the_best_source_there_is(result, counter, expected):
    assert count_thinking(result, counter) == expected


@pytest.mark.parametrize("text, tokens", [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_the_tokenizer_free_estimate_rounds_up_four_characters_a_token(text, tokens):
    assert estimate_tokens(text) == tokens


def test_server_error_text_is_one_short_line():
    assert _short("a\n  b\tc") == "a b c"
    assert _short("x" * 300) == "x" * 300
    assert _short("x" * 301) == "x" * 300 + "..."
    assert _short("y" * 50, limit=10) == "y" * 10 + "..."
    assert _short(ValueError("boom  now")) == "boom now"


def test_a_model_config_becomes_the_request_settings():
    config = parse_config({
        "name": "m", "backend": "openai", "context_length": 4096, "request_timeout_s": 42,
        "chat_template_kwargs": {"enable_thinking": False},
        "sampling": {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "max_tokens": 777,
                     "seed": 3, "presence_penalty": 1.5, "frequency_penalty": 0.25, "repetition_penalty": 1.05},
        "openai": {"base_url": "http://127.0.0.1:1/v1", "served_model": "m", "extra_body": {"x": 1}},
    }, "m.yaml")
    s = ChatSettings.from_config(config, "served-name", extras={"chat_template_kwargs": {"a": 1}, "y": 2})
    assert (s.model, s.temperature, s.top_p, s.max_tokens, s.seed, s.timeout_s) == \
        ("served-name", 0.6, 0.95, 777, 3, 42)
    assert (s.top_k, s.min_p, s.presence_penalty, s.frequency_penalty, s.repetition_penalty) == \
        (20, 0.0, 1.5, 0.25, 1.05)
    assert s.api_key == "siliconbench"
    assert s.extra_body == {"chat_template_kwargs": {"a": 1}, "y": 2, "x": 1}, "backend extras first, then the config's"
    assert ChatSettings.from_config(config, "m", api_key="sk-real").api_key == "sk-real"
    body = s.body([{"role": "user", "content": "hi"}], None)
    assert (body["frequency_penalty"], body["presence_penalty"], body["seed"]) == (0.25, 1.5, 3)
    assert body["extra_body"]["top_k"] == 20 and body["extra_body"]["repetition_penalty"] == 1.05


def test_each_task_run_gets_its_own_stable_seed():
    assert run_seed(0, "tdd", 0) == 1597620505  # sha256("0:tdd:0"), first four bytes, big-endian, 31 bits
    seeds = {run_seed(7, task, run) for task in ("tdd", "config_read") for run in range(3)}
    assert len(seeds) == 6 and all(0 <= s < 2**31 for s in seeds)
    assert ChatSettings("m", seed=7).for_run("tdd", 2).seed == run_seed(7, "tdd", 2)
    assert ChatSettings("m").for_run("tdd", 2).seed is None


def test_thinking_cut_by_the_cap_ends_at_the_last_content_chunk():
    acc = StreamAccumulator(t_sent=0.0)
    for t, piece in [(1.0, "<think>weigh"), (2.0, "ing it"), (3.0, " up")]:
        acc.feed(t, {"choices": [{"index": 0, "delta": {"content": piece}}]})
    acc.feed(3.5, {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    result = acc.finish(4.0)
    assert result.reasoning == "weighing it up" and result.content == ""
    assert result.metrics.thinking_s == pytest.approx(2.0)  # first token at 1.0, last thinking one at 3.0


@pytest.mark.parametrize("content, expected", [
    ("<think>a</think>answer", ("a", "answer")),
    ("<think>\nXylophone X\n</think>\nXray", ("Xylophone X", "Xray")),
    ("<think> spaced </think>  two spaces", (" spaced ", "  two spaces")),
    ("<think>\nXenon X", ("Xenon X", "")),
    ("plan</think>\nanswer", ("plan", "answer")),
    ("<think>a</think>x<think>b</think>y", ("a</think>x<think>b".replace("</think>", "").replace("<think>", ""), "y")),
    ("<think>\nunfinished", ("unfinished", "")),
    ("<|channel>thought plan<channel|>done", (" plan", "done")),
    ("no thinking", ("", "no thinking")),
])
def test_thinking_is_split_from_the_answer(content, expected):
    thinking, answer, _ = split_thinking(content)
    assert (thinking, answer) == expected


@pytest.mark.parametrize("content, lost", [
    ('[TOOL_CALLS]read_file{"path": "a.py"', True),
    ('[TOOL_CALLS]read_file{"path": "a.py"}', False),
    ('[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "a', True),
    ('[TOOL_CALLS][{"name": "read_file", "arguments": {}}]', False),
    ("[TOOL_CALLS]read_file", True),
    ('<tool_call>{"name": "x"}</tool_call> then <tool_call>{"name"', True),
    ('<tool_call>{"name": "x"}</tool_call>', False),
    ("<function=read_file><parameter=path>a", True),
    ("no call at all", False),
    # Where the arguments start and whether they end, for Mistral's closer-less [TOOL_CALLS]:
    ('[TOOL_CALLS]f{"a": 1}', False),
    ('[TOOL_CALLS]f{"a": {"b": 1}', True),
    ('[TOOL_CALLS][{"name": "read_file", "arguments": {}}', True),
    ('[TOOL_CALLS][{"a": 1}, [', True),
    ("[TOOL_CALLS]f42", True),
    ("[TOOL_CALLS]42", True),
    # A marker with a closer is cut when the closer never comes, even if its JSON is whole.
    ('<tool_call>{"name": "read_file", "arguments": {}}', True),
])
def test_a_call_cut_by_the_token_cap_is_named(content, lost):
    assert ("call_cut_by_cap" in find_losses("length", content, "", [], 30)) is lost
    assert "call_cut_by_cap" not in find_losses("stop", content, "", [], 30), "only the cap cuts a call"


def test_a_streamed_call_whose_arguments_never_closed_at_the_cap_is_cut():
    cut = [ToolCallDraft("i", "read_file", '{"path": "a')]
    whole = [ToolCallDraft("i", "read_file", '{"path": "a.py"}')]
    assert "call_cut_by_cap" in find_losses("length", "", "", cut, 30)
    assert "call_cut_by_cap" not in find_losses("length", "", "", whole, 30)
    assert "call_cut_by_cap" not in find_losses("length", "", "", [ToolCallDraft("i", "read_file", "")], 30)


def test_a_turn_record_carries_every_figure_of_the_turn():
    from orchestrator.agent.stream import TurnMetrics
    from orchestrator.metrics.turn_record import build_turn_record

    m = TurnMetrics(wall_s=2.5, ttft_s=0.5, prefill_tps=400.0, decode_tps=30.0, prompt_tokens=200,
                    cached_tokens=50, completion_tokens=61, usage_reasoning_tokens=None, server_decode_tps=31.0,
                    server_prefill_tps=401.0, thinking_s=1.25)
    result = TurnResult("answer", "<think>hmm</think>answer", "hmm", [], "length", m)
    base = {"model": "m", "config_hash": "h", "task": "tdd", "run": 2, "mode": "raw"}
    rec = build_turn_record(base, 3, result, 2, 1, {"server_peak_rss_bytes": 123}, lambda t: 5, warm=False)
    got = rec.model_dump()
    expected = dict(base, turn=3, finish_reason="length", wall_s=2.5, ttft_s=0.5, prefill_tps=400.0, decode_tps=30.0,
                    prompt_tokens=200, cached_tokens=50, completion_tokens=61, server_decode_tps=31.0,
                    server_prefill_tps=401.0, thinking_tokens=5, thinking_tokens_source="tokenizer",
                    thinking_s=1.25, tool_calls=2, malformed_calls=1, warm=False, server_peak_rss_bytes=123)
    assert {k: got[k] for k in expected} == expected
    plain = build_turn_record(base, 1, TurnResult("a", "a", "", [], "stop", m), 0, 0, {}, None, warm=True)
    assert plain.thinking_s == 0.0 and plain.thinking_tokens == 0 and plain.warm is True
    unknown = build_turn_record(base, 1, TurnResult("a", "a", "", [], "stop", TurnMetrics()), 0, 0, {}, None, True)
    assert unknown.thinking_s is None and unknown.wall_s is None


def test_vllm_per_request_metrics_are_read_under_each_name():
    for names in ({"decode_tps": 55.0, "prefill_tps": 900.0},
                  {"generation_tokens_per_second": 55.0, "prompt_tokens_per_second": 900.0}):
        result = accumulate([delta(1.0, content="a"), (1.1, {"choices": [], "metrics": names})])
        assert (result.metrics.server_decode_tps, result.metrics.server_prefill_tps) == (55.0, 900.0)


def test_a_turn_of_tool_calls_only_has_a_first_token_and_its_calls():
    call = {"function": {"name": "read_file", "arguments": "{}"}}
    result = accumulate([delta(0.5, tool_calls=[call]), delta(0.7, tool_calls=[{**call, "id": "c2"}]),
                         delta(0.8, finish="tool_calls"), usage(0.9, 100, 20)])
    assert result.metrics.ttft_s == 0.5, "a call chunk is generated output"
    # Calls streamed without an index are separate calls; a call without an id keeps an empty one.
    assert [(c.id, c.name) for c in result.tool_calls] == [("", "read_file"), ("c2", "read_file")]


def test_thinking_time_runs_from_the_first_generated_token_to_the_last_thinking_one():
    result = accumulate([delta(1.0, content="Hi. "), delta(2.0, reasoning_content="hmm"),
                         delta(3.0, reasoning_content=" ok"), delta(4.0, content="done")])
    assert result.metrics.thinking_s == pytest.approx(2.0)
    empty = accumulate([delta(1.0, content="<think></think>"), delta(2.0, content="answer")])
    assert empty.reasoning == "" and empty.metrics.thinking_s is None


@pytest.mark.parametrize("chunks, prefill_tps, decode_tps", [
    ([delta(0.0, content="a"), usage(0.1, 500, 1)], None, None),              # first token at once: no rate
    ([delta(1.0, content="a"), delta(2.0, content="b"), usage(2.1, 500, 1)], 500.0, None),  # one token
    ([delta(1.0, content="a"), delta(1.5, content="b"), usage(2.1, 500, 2)], 500.0, 2.0),
    ([delta(1.0, content="a"), usage(1.1, 40, 1, cached=20)], None, None),    # 20 fresh tokens: too few
])
def test_prefill_and_decode_rates_at_their_edges(chunks, prefill_tps, decode_tps):
    m = accumulate(chunks).metrics
    assert (m.prefill_tps, m.decode_tps) == (prefill_tps, decode_tps)


def test_the_cached_share_of_a_prompt_never_exceeds_one():
    m = accumulate([delta(1.0, content="a"), usage(1.1, 100, 1, cached=150)]).metrics
    assert m.cached_share == 1.0
    assert accumulate([delta(1.0, content="a"), usage(1.1, 100, 1, cached=25)]).metrics.cached_share == 0.25


def test_llama_server_timings_and_vllm_metrics_at_their_edges():
    timings = {"predicted_per_second": 20.0, "prompt_per_second": 300.0, "prompt_n": 32, "cache_n": 50}
    both = accumulate([delta(1.0, content="a"), (1.1, {"choices": [], "timings": timings,
                                                        "metrics": {"decode_tps": 99.0, "prefill_tps": 999.0}}),
                       usage(1.2, 100, 1, cached=10)])
    m = both.metrics
    assert (m.server_decode_tps, m.server_prefill_tps) == (20.0, 300.0), "32 prefilled tokens are enough; timings first"
    assert m.cached_tokens == 10, "the usage's cached count wins over llama-server's cache_n"
    only = accumulate([delta(1.0, content="a"), (1.1, {"choices": [], "metrics": {"tokens_per_second": 44.0}})])
    assert only.metrics.server_decode_tps == 44.0


def test_a_short_thought_is_timed_as_it_is():
    result = accumulate([delta(1.0, reasoning_content="hm"), delta(1.25, reasoning_content="m"),
                         delta(1.5, content="ok")])
    assert result.metrics.thinking_s == pytest.approx(0.25)


def test_unfinished_thinking_keeps_its_own_spacing():
    assert split_thinking("<think>  indented\n")[0] == "  indented"
