"""The agent loop's limits and bookkeeping, pinned to exact values: the turn budget of each mode and its
defaults, the harness's feedback rounds and the cap on the feedback text, what each turn reports, the
ids and names sent back, a server fault at the first request, and shortening old tool outputs (once).

The model is a list of turn results played in process; the tools are the real workspace of `config_read`.
"""

import copy
import json
import math

import pytest

from orchestrator.agent.loop import (FEEDBACK_CAP_CHARS, HARNESS_INSTRUCTIONS, LoopSettings,
                                     _shorten_old_tool_outputs, run_agent)
from orchestrator.agent.stream import ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.errors import InfraError
from orchestrator.taskdef import load_task
from orchestrator.workspace.workspace import Workspace

TASK = load_task("config_read")
SCHEMAS = [{"type": "function", "function": {"name": "read_file"}}]
FEEDBACK_HEAD = "The task is not done yet: the project's check still fails. Here is its output:\n\n"
FEEDBACK_TAIL = "\n\nFix the problem with the tools, verify, then answer."


def read(path="README.md", call_id=""):
    return TurnResult("", "", "", [ToolCallDraft(call_id, "read_file", f'{{"path": "{path}"}}')], "tool_calls",
                      TurnMetrics())


def answer(text="Done."):
    return TurnResult(text, text, "", [], "stop", TurnMetrics())


class Model:
    """Plays `turns` (a list, or a function of the turn number); an exception in it is raised."""

    def __init__(self, turns):
        self.turns, self.sent, self.tools = turns, [], []

    def complete(self, messages, tools):
        self.sent.append(copy.deepcopy(messages))
        self.tools.append(tools)
        n = len(self.sent)
        item = self.turns(n) if callable(self.turns) else (self.turns[n - 1] if n <= len(self.turns) else answer())
        if isinstance(item, Exception):
            raise item
        return item


class Checks:
    def __init__(self, *results):
        self.results, self.runs = list(results), 0

    def __call__(self):
        self.runs += 1
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


def drive(turns, settings=None, check=None, on_turn=None):
    model = Model(turns)
    with Workspace.create(TASK) as ws:
        if check is not None:
            ws.run_visible_check = check
        out = run_agent("Find the retries.", "You are an agent.", SCHEMAS, model, ws, settings or LoopSettings(),
                        on_turn)
    return out, model


def always_reading(n):
    return read()


@pytest.mark.parametrize("max_turns", [1, 2, 10])
def test_raw_runs_end_after_exactly_max_turns(max_turns):
    out, model = drive(always_reading, LoopSettings(max_turns=max_turns))
    traj = out.trajectory
    assert (traj.turns, traj.tool_calls, traj.ended, traj.final_answer) == (max_turns, max_turns, "max_turns", None)
    assert len(model.sent) == max_turns


def test_the_default_budgets():
    settings = LoopSettings()
    assert (settings.max_turns, settings.mode, settings.harness_rounds, settings.harness_max_turns,
            settings.context_tokens) == (10, "raw", 3, 30, None)
    out, model = drive(always_reading)
    assert (out.trajectory.turns, len(model.sent)) == (10, 10)
    out, model = drive(always_reading, LoopSettings(mode="harness"))
    assert (out.trajectory.turns, len(model.sent), out.trajectory.ended) == (30, 30, "max_turns")


def test_an_answer_on_the_last_allowed_turn_is_an_answer():
    out, _ = drive([read(), read(), answer("It is 7.")], LoopSettings(max_turns=3))
    traj = out.trajectory
    assert (traj.turns, traj.ended, traj.final_answer, traj.tool_calls) == (3, "answer", "It is 7.", 2)


def test_the_harness_gives_exactly_its_rounds_of_feedback():
    checks = Checks((False, "E assert 1 == 2"))
    out, model = drive(lambda n: answer(f"done {n}"), LoopSettings(mode="harness", harness_rounds=3), checks)
    traj = out.trajectory
    assert (out.harness_rounds, checks.runs, traj.turns, traj.ended, traj.final_answer) == (3, 3, 4, "answer",
                                                                                              "done 4")
    feedback = FEEDBACK_HEAD + "E assert 1 == 2" + FEEDBACK_TAIL
    assert [m for m in out.messages if m["role"] == "user"][1:] == [{"role": "user", "content": feedback}] * 3
    assert [m["role"] for m in out.messages[2:]] == ["assistant", "user"] * 3 + ["assistant"]


def test_the_harness_default_is_three_rounds():
    checks = Checks((False, "fail"))
    out, _ = drive(lambda n: answer(), LoopSettings(mode="harness"), checks)
    assert (out.harness_rounds, checks.runs, out.trajectory.turns) == (3, 3, 4)


def test_a_passing_check_ends_the_harness_run_at_once():
    checks = Checks((True, "1 passed"))
    out, model = drive([read(), answer("fixed")], LoopSettings(mode="harness"), checks)
    assert (out.harness_rounds, checks.runs, out.trajectory.turns, out.trajectory.ended) == (0, 1, 2, "answer")
    assert out.messages[-1]["role"] == "assistant"


def test_feedback_rounds_end_with_the_harness_turn_budget():
    checks = Checks((False, "fail"))
    out, _ = drive(lambda n: answer(), LoopSettings(mode="harness", harness_rounds=5, harness_max_turns=2), checks)
    assert (out.harness_rounds, out.trajectory.turns, out.trajectory.ended) == (2, 2, "max_turns")


def test_raw_mode_has_no_feedback_and_its_own_prompt():
    checks = Checks((False, "fail"))
    out, model = drive([answer()], LoopSettings(harness_rounds=3), checks)
    assert (checks.runs, out.harness_rounds, out.trajectory.turns) == (0, 0, 1)
    assert model.sent[0][:2] == [{"role": "system", "content": "You are an agent."},
                                 {"role": "user", "content": "Find the retries."}]
    out, model = drive([answer()], LoopSettings(mode="harness"), Checks((True, "")))
    assert model.sent[0][0] == {"role": "system", "content": "You are an agent." + HARNESS_INSTRUCTIONS}


@pytest.mark.parametrize("length, kept", [(FEEDBACK_CAP_CHARS - 1, FEEDBACK_CAP_CHARS - 1),
                                          (FEEDBACK_CAP_CHARS, FEEDBACK_CAP_CHARS),
                                          (FEEDBACK_CAP_CHARS + 1, FEEDBACK_CAP_CHARS),
                                          (3 * FEEDBACK_CAP_CHARS, FEEDBACK_CAP_CHARS)])
def test_feedback_keeps_at_most_the_last_4000_characters_of_the_check(length, kept):
    output = "".join(chr(ord("a") + i % 26) for i in range(length))
    out, model = drive([answer(), answer()], LoopSettings(mode="harness"), Checks((False, output), (True, "")))
    assert FEEDBACK_CAP_CHARS == 4000
    assert model.sent[1][-1] == {"role": "user", "content": FEEDBACK_HEAD + output[-kept:] + FEEDBACK_TAIL}


def test_each_turn_is_reported_with_its_result_and_events():
    seen = []
    turns = [TurnResult("", "", "", [ToolCallDraft("", "read_file", '{"path": "README.md"}'),
                                     ToolCallDraft("", "read_file", '{"path": "config/defaults.toml"}')],
                        "tool_calls", TurnMetrics()), read("config/production.toml"), answer("7 and 45 s")]
    out, model = drive(turns, on_turn=lambda n, result, events: seen.append((n, result, [e.name for e in events])))
    assert seen == [(1, turns[0], ["read_file", "read_file"]), (2, turns[1], ["read_file"]), (3, turns[2], [])]
    assert [e.turn for e in out.trajectory.events] == [1, 1, 2]
    assert model.tools == [SCHEMAS] * 3


def test_calls_without_an_id_get_one_per_turn_and_position_and_go_back_with_their_results():
    turns = [TurnResult("", "", "", [ToolCallDraft("", "read_file", '{"path": "README.md"}'),
                                     ToolCallDraft("srv-9", "read_file", '{"path": "nope.txt"}')],
                        "tool_calls", TurnMetrics()), read(), answer()]
    out, model = drive(turns)
    assert [e.call_id for e in out.trajectory.events] == ["call_1_0", "srv-9", "call_2_0"]
    assert [m["tool_call_id"] for m in out.messages if m["role"] == "tool"] == ["call_1_0", "srv-9", "call_2_0"]
    assert [m["content"] for m in out.messages if m["role"] == "tool"] == [e.result for e in out.trajectory.events]


def test_what_goes_back_for_a_nameless_call_and_a_plain_answer():
    nameless = TurnResult("Let me look.", "Let me look.", "", [ToolCallDraft("c1", "", '{"path": "README.md"}')],
                          "tool_calls", TurnMetrics())
    out, model = drive([nameless, answer("All done.")])
    assistant = model.sent[1][2]
    assert assistant == {"role": "assistant", "content": "Let me look.", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "unknown", "arguments": '{"path": "README.md"}'}}]}
    assert out.messages[-1] == {"role": "assistant", "content": "All done."}
    assert out.trajectory.events[0].malformed is True, "a call with no name is the model's malformed call"


def test_the_answer_is_the_content_without_thinking_and_the_raw_text_is_kept_apart():
    thought = TurnResult("Seven retries.", "<think>check production</think>Seven retries.", "check production", [],
                         "stop", TurnMetrics())
    out, model = drive([read(), thought])
    traj = out.trajectory
    assert traj.final_answer == "Seven retries."
    assert traj.assistant_texts == ["", "<think>check production</think>Seven retries."]
    assert out.reasoning == ["", "check production"]
    assert out.messages[-1] == {"role": "assistant", "content": "Seven retries.", "reasoning": "check production"}


def test_a_fault_at_the_first_request_is_no_turn_at_all():
    out, model = drive([InfraError("connection refused")])
    traj = out.trajectory
    assert (traj.turns, traj.ended, out.error, traj.assistant_texts, out.reasoning) == (
        0, "infra_error", "connection refused", [], [])
    assert [m["role"] for m in out.messages] == ["system", "user"]


def test_a_fault_in_harness_feedback_keeps_the_rounds_so_far():
    checks = Checks((False, "fail"))
    out, _ = drive([answer(), InfraError("gone")], LoopSettings(mode="harness"), checks)
    assert (out.harness_rounds, out.trajectory.turns, out.trajectory.ended, out.error) == (1, 1, "infra_error", "gone")


def test_a_turn_with_calls_leaves_no_final_answer_and_is_not_dropped_or_truncated():
    cut = TurnResult("", "", "", [ToolCallDraft("", "read_file", '{"path": "README.md"}')], "length",
                     TurnMetrics(), losses=["something"])
    out, _ = drive([cut, answer("ok")])
    traj = out.trajectory
    assert (traj.truncated_turns, traj.dropped_call_turns, traj.final_answer) == ([], [], "ok")


def test_a_turn_the_server_lost_work_in_is_marked_dropped():
    lost = TurnResult("", "", "", [], "stop", TurnMetrics(completion_tokens=40), losses=["empty_message"])
    out, _ = drive([lost])
    assert (out.trajectory.dropped_call_turns, out.trajectory.ended) == ([1], "answer")


# ---- shortening old tool outputs ----

def tool(content):
    return {"role": "tool", "tool_call_id": "x", "content": content}


def test_outputs_of_200_characters_stay_and_longer_ones_are_cut_to_200():
    messages = [tool("a" * 200), tool("b" * 201)] + [tool("c")] * 4
    assert _shorten_old_tool_outputs(messages, budget_tokens=0) == 1
    assert messages[0]["content"] == "a" * 200
    assert messages[1]["content"] == "b" * 200 + "\n[older output shortened: 1 characters dropped]"


def test_an_output_is_shortened_once_however_often_the_window_is_tight():
    messages = [tool(str(i) * 1000) for i in range(6)]
    assert _shorten_old_tool_outputs(messages, budget_tokens=0) == 2
    first = [m["content"] for m in messages]
    assert first[0] == "0" * 200 + "\n[older output shortened: 800 characters dropped]"
    assert _shorten_old_tool_outputs(messages, budget_tokens=0) == 0
    assert [m["content"] for m in messages] == first


def test_reasoning_and_calls_count_toward_the_window():
    outputs = [tool(str(i) * 1000) for i in range(5)]
    # 5000 characters of output ~ 1250 tokens: within 1500 on their own, not with 4000 more characters.
    thinking = [{"role": "assistant", "content": None, "reasoning": "r" * 4000}] + copy.deepcopy(outputs)
    assert _shorten_old_tool_outputs(thinking, budget_tokens=1500) == 1
    calls = [{"role": "assistant", "content": None, "tool_calls": [{"arguments": "q" * 4000}]}] + copy.deepcopy(outputs)
    assert _shorten_old_tool_outputs(calls, budget_tokens=1500) == 1
    plain = [{"role": "assistant", "content": None}] + copy.deepcopy(outputs)
    assert _shorten_old_tool_outputs(plain, budget_tokens=1500) == 0


def test_a_run_shortens_each_old_output_once_and_counts_it():
    files = ["README.md", "config/production.toml", "config/defaults.toml", "pyproject.toml", "config/staging.toml",
             "config/defaults.toml"]
    out, model = drive([read(p) for p in files] + [answer()], LoopSettings(context_tokens=40))
    tools = [m for m in model.sent[-1] if m["role"] == "tool"]
    shortened = [m for m in tools if "[older output shortened" in m["content"]]
    # A window of 40 tokens fits nothing: every output but the newest four is cut, each exactly once.
    assert len(shortened) == 2 and out.truncations == 2
    results = [e.result for e in out.trajectory.events]
    assert [m["content"] for m in shortened] == [
        r[:200] + f"\n[older output shortened: {len(r) - 200} characters dropped]" for r in results[:2]]
    assert [m["content"] for m in tools[2:]] == [e.result for e in out.trajectory.events[2:]]


def conversation_tokens(messages):
    """The loop's measure of a conversation: ~4 characters a token of content, reasoning and calls."""
    return sum(len(m.get("content") or "") + len(m.get("reasoning") or "") + len(json.dumps(m.get("tool_calls", "")))
               for m in messages) // 4


def test_old_outputs_are_shortened_only_past_three_quarters_of_the_window():
    files = ["README.md", "config/production.toml", "config/defaults.toml", "pyproject.toml", "config/staging.toml"]
    script = [read(p) for p in files] + [answer()]
    _, model = drive(script)
    size = conversation_tokens(model.sent[-1])  # the largest request: the last one
    fits = math.ceil(size / 0.75)  # three quarters of it hold the conversation exactly
    out, model = drive(script, LoopSettings(context_tokens=fits))
    assert out.truncations == 0 and conversation_tokens(model.sent[-1]) == size
    tight = math.ceil((size - 1) / 0.75)
    out, model = drive(script, LoopSettings(context_tokens=tight))
    assert out.truncations == 1 and "[older output shortened" in model.sent[-1][3]["content"]
