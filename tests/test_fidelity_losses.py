"""Every way a server loses a model's work shows up per turn, and in the run's reason when it ends the run.

Turn-level cases are pinned with fake chunks (the shapes vLLM and mlx_lm.server stream); the run-level
ones drive the real loop, the real tools and the real graders over HTTP with the scripted model.
"""

import pytest

from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.agent.loop import LoopSettings, run_agent
from orchestrator.agent.stream import MIN_PREFILL_TOKENS, StreamAccumulator
from orchestrator.grading.grade import grade
from orchestrator.metrics.turn_record import build_turn_record
from orchestrator.taskdef import load_task, system_prompt
from orchestrator.trajectory import FAILURE_REASONS
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from orchestrator.workspace.workspace import Workspace
from tests.helpers.scripted_server import ScriptedModel
from tests.test_stream import chunk, feed, usage

CALL_DELTA = {"tool_calls": [{"index": 0, "id": "c0", "type": "function",
                              "function": {"name": "read_file", "arguments": "{\"path\": \"a.py\"}"}}]}


def turn(deltas, finish, completion=None, prompt=100, cached=None):
    acc = StreamAccumulator(t_sent=0.0)
    timed = [(0.1 * (i + 1), chunk(d)) for i, d in enumerate(deltas)]
    timed.append((0.1 * (len(deltas) + 1), chunk(finish=finish)))
    if completion is not None:
        timed.append((0.1 * (len(deltas) + 1), usage(prompt, completion, cached=cached)))
    feed(acc, timed)
    return acc.finish(0.1 * (len(deltas) + 2))


LOSSES = [
    # mlx_lm.server after dropping an unparsable call: finish tool_calls, nothing else.
    ("finish tool_calls, no call", [], "tool_calls", 12, ["finish_tool_calls_without_call", "empty_message"]),
    ("tokens but an empty message", [], "stop", 30, ["empty_message"]),
    ("cap inside an XML call", [{"content": "<tool_call>\n<function=read_file>\n<parameter=pa"}], "length", 40,
     ["call_cut_by_cap", "markup_in_content"]),
    ("cap inside streamed arguments", [{"tool_calls": [{"index": 0, "id": "c", "type": "function",
                                                        "function": {"name": "write_file",
                                                                     "arguments": "{\"path\": \"a.py\", \"con"}}]}],
     "length", 40, ["call_cut_by_cap"]),
    ("cap inside Mistral JSON", [{"content": "[TOOL_CALLS]read_file[ARGS]{\"path\": \"a"}], "length", 9,
     ["call_cut_by_cap", "markup_in_content"]),
    ("Qwen3-Coder call left in content", [{"content": "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n"
                                                      "</parameter>\n</function>\n</tool_call>"}], "stop", 20,
     ["markup_in_content"]),
    ("bare <function= (mlx-lm #1616)", [{"content": "<function=read_file>\n<parameter=path>\na.py\n</parameter>\n"
                                                    "</function>"}], "stop", 20, ["markup_in_content"]),
    ("Mistral [TOOL_CALLS] leaked", [{"content": "[TOOL_CALLS]read_file[ARGS]{\"path\": \"a.py\"}"}], "stop", 9,
     ["markup_in_content"]),
    ("Gemma 4 <|tool_call> leaked", [{"content": "<|tool_call>call:read_file{path:<|\"|>a.py<|\"|>}<tool_call|>"}],
     "stop", 9, ["markup_in_content"]),
    ("MiniMax call leaked", [{"content": "<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">"
                                         "a.py</parameter>\n</invoke>\n</minimax:tool_call>"}], "stop", 9,
     ["markup_in_content"]),
    ("call inside the reasoning (vLLM #39056)", [{"reasoning": "Let me look. <tool_call>\n<function=read_file>\n"
                                                               "<parameter=path>\na.py\n</parameter>\n</function>\n"
                                                               "</tool_call>"}], "stop", 30,
     ["markup_in_reasoning"]),
    ("call inside inline <think>", [{"content": "<think>go <tool_call>\n{\"name\": \"read_file\"}\n</tool_call>"
                                                "</think>"}], "stop", 30, ["markup_in_reasoning"]),
]
CLEAN = [
    ("a parsed call", [CALL_DELTA], "tool_calls", 12),
    ("a plain answer", [{"content": "The bug is in a.py."}], "stop", 8),
    ("an answer cut by the cap", [{"content": "The bug is"}], "length", 3),
    ("reasoning then a call", [{"reasoning": "need a.py"}, CALL_DELTA], "tool_calls", 15),
    ("unknown token count", [], "stop", None),
    ("only the end of the turn", [], "stop", 2),
]


@pytest.mark.parametrize("name, deltas, finish, completion, expected", LOSSES, ids=[c[0] for c in LOSSES])
def test_each_way_of_losing_a_call_is_named(name, deltas, finish, completion, expected):
    assert turn(deltas, finish, completion).losses == expected


@pytest.mark.parametrize("name, deltas, finish, completion", CLEAN, ids=[c[0] for c in CLEAN])
def test_nothing_lost_is_not_reported(name, deltas, finish, completion):
    assert turn(deltas, finish, completion).losses == []


def test_gemma4_thought_channel_is_split_like_think_tags():
    result = turn([{"content": "<|channel>thought\nRead a.py"}, {"content": " first.<channel|>"},
                   {"content": "Reading it now."}], "stop", 12)
    assert (result.reasoning, result.content) == ("Read a.py first.", "Reading it now.")
    assert result.metrics.thinking_s is not None


def test_prefill_rate_only_where_enough_fresh_tokens_were_processed():
    cached = turn([{"content": "ok"}], "stop", completion=1, prompt=5000, cached=4999)
    assert cached.metrics.prefill_tps is None, "one fresh token measures scheduling, not prefill"
    assert cached.metrics.cached_share == pytest.approx(4999 / 5000)
    fresh = turn([{"content": "ok"}], "stop", completion=1, prompt=5000, cached=1000)
    assert fresh.metrics.prefill_tps == pytest.approx(4000 / 0.1)
    edge = turn([{"content": "ok"}], "stop", completion=1, prompt=MIN_PREFILL_TOKENS, cached=0)
    assert edge.metrics.prefill_tps is not None and edge.metrics.cached_share == 0.0


def test_llama_server_own_prefill_figure_is_dropped_for_a_cached_prompt():
    acc = StreamAccumulator(t_sent=0.0)
    feed(acc, [(0.1, chunk({"content": "a"})),
               (0.2, chunk(finish="stop", timings={"prompt_n": 1, "prompt_per_second": 9.0, "cache_n": 800,
                                                   "predicted_per_second": 50.0})),
               (0.2, usage(801, 1))])
    m = acc.finish(0.2).metrics
    assert m.server_prefill_tps is None and m.server_decode_tps == 50.0 and m.cached_tokens == 800


def test_turn_record_carries_losses_seed_cap_and_cached_share():
    result = turn([], "tool_calls", 12, prompt=1000, cached=900)
    result.seed, result.max_tokens = 1234, 8192
    rec = build_turn_record({"model": "m", "config_hash": "h", "task": "t", "run": 0}, 1, result, 0, 0, {},
                            None, warm=True)
    data = rec.model_dump()
    assert data["lost_calls"] == ["finish_tool_calls_without_call", "empty_message"]
    assert (data["seed"], data["max_tokens"], data["cached_share"]) == (1234, 8192, 0.9)


def test_truncated_is_a_failure_reason():
    assert "truncated" in FAILURE_REASONS


# --- whole runs: the reason a run ends with -------------------------------------------------------

def run_task(script, task_id="read_fix_write", max_turns=4):
    task = load_task(task_id)
    with ScriptedModel(script) as model, Workspace.create(task) as ws:
        chat = ChatClient(model.base_url, ChatSettings(model="scripted", timeout_s=30, max_tokens=64))
        out = run_agent(task.prompt, system_prompt(), TOOL_SCHEMAS, chat, ws, LoopSettings(max_turns=max_turns))
        return out, grade(task, ws, out.trajectory)


READ = {"name": "read_file", "arguments": {"path": "README.md"}}


def test_a_run_cut_by_the_cap_says_truncated():
    out, verdict = run_task([{"tool_calls": [READ]}, {"reasoning": "thinking " * 30, "finish_reason": "length"}])
    assert out.trajectory.truncated_turns == [2]
    assert (verdict.passed, verdict.reason) == (False, "truncated")


def test_a_call_cut_by_the_cap_says_truncated_not_dropped():
    out, verdict = run_task([{"content": "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/",
                              "finish_reason": "length"}])
    assert out.trajectory.dropped_call_turns == [1] and out.trajectory.truncated_turns == [1]
    assert verdict.reason == "truncated"


@pytest.mark.parametrize("last_turn", [
    {"content": "", "finish_reason": "tool_calls"},
    {"reasoning": "I will call it: <tool_call>\n{\"name\": \"read_file\", \"arguments\": {}}\n</tool_call>"},
    {"content": "[TOOL_CALLS]read_file[ARGS]{\"path\": \"README.md\"}"},
], ids=["finish-without-call", "call-in-reasoning", "mistral-leak"])
def test_a_run_ending_on_a_lost_call_says_parser_dropped_call(last_turn):
    out, verdict = run_task([{"tool_calls": [READ]}, last_turn])
    assert out.trajectory.dropped_call_turns == [2]
    assert verdict.reason == "parser_dropped_call"


def test_a_think_block_leaked_beside_parsed_reasoning_is_reasoning_not_answer():
    # vLLM #38212: the reasoning parser took the first block, a later <think> block leaked into content.
    result = turn([{"reasoning": "plan A"}, {"content": "<think>\nplan B\n</think>\n\nThe fix is in a.py."}],
                  "stop", 20)
    assert result.reasoning == "plan A\n\nplan B"
    assert result.content == "The fix is in a.py."
    plain = turn([{"reasoning": "plan A"}, {"content": "Use x < y and z > w."}], "stop", 9)
    assert (plain.reasoning, plain.content) == ("plan A", "Use x < y and z > w.")
