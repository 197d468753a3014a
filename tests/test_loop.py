"""The agent loop over real HTTP (scripted model, real openai client), with a recording tool table.

The real tools and graders are exercised end to end in test_run_e2e.py; here the tool side is a small
recorder so each loop rule (turn limit, parallel calls, feedback rounds, dropped calls, faults) is
pinned on its own.
"""

import json

import pytest

from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.agent.loop import LoopSettings, run_agent
from orchestrator.trajectory import ToolEvent
from tests.helpers.scripted_server import ScriptedModel

SCHEMAS = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]


class RecordingTools:
    def __init__(self, check_results=()):
        self.calls = []
        self.check_results = list(check_results)
        self.checks_run = 0

    def call(self, name, arguments, turn, call_id):
        self.calls.append((turn, name, arguments, call_id))
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            ok = isinstance(parsed, dict)
        except ValueError:
            parsed, ok = None, False
        return ToolEvent(turn=turn, name=name, arguments=parsed if ok else None, raw_arguments=str(arguments),
                         result=f"result of {name}" if ok else "error: arguments are not a JSON object",
                         malformed=not ok, call_id=call_id)

    def run_visible_check(self):
        self.checks_run += 1
        return self.check_results.pop(0) if self.check_results else (True, "ok")


def drive(script, tools=None, **settings):
    tools = tools or RecordingTools()
    with ScriptedModel(script) as model:
        chat = ChatClient(model.base_url, ChatSettings(model="scripted", timeout_s=10))
        out = run_agent("Fix the bug.", "You are a coding agent.", SCHEMAS, chat, tools,
                        LoopSettings(**settings))
        return out, tools, model.requests


def read(path):
    return {"name": "read_file", "arguments": {"path": path}}


def test_parallel_calls_run_in_order_and_results_go_back_with_their_ids():
    out, tools, requests = drive([{"tool_calls": [read("a.py"), read("b.py")]}, {"content": "fixed"}])
    assert [(t, n) for t, n, _, _ in tools.calls] == [(1, "read_file"), (1, "read_file")]
    second = requests[1]["messages"]
    assistant = second[2]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["read_file", "read_file"]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == [c["id"] for c in assistant["tool_calls"]]
    assert out.trajectory.ended == "answer" and out.trajectory.final_answer == "fixed"
    assert out.trajectory.turns == 2 and out.trajectory.tool_calls == 2


def test_every_request_carries_tools_stream_usage_and_max_tokens():
    _, _, requests = drive([{"content": "hi"}])
    body = requests[0]
    assert body["tools"] == SCHEMAS and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 4096


def test_turn_limit_ends_the_run_as_max_turns():
    out, tools, _ = drive([{"tool_calls": [read("a.py")]}] * 20, max_turns=4)
    assert out.trajectory.ended == "max_turns" and out.trajectory.turns == 4 and len(tools.calls) == 4


def test_malformed_arguments_are_answered_and_the_run_goes_on():
    # The real workspace answers, so the message checked is the one a model really gets.
    from orchestrator.taskdef import load_task
    from orchestrator.workspace.workspace import Workspace

    with Workspace.create(load_task("read_fix_write")) as ws:
        out, _, requests = drive([{"tool_calls": [{"name": "read_file", "arguments": "{not json"}]},
                                  {"content": "gave up"}], ws)
    assert out.trajectory.malformed_calls == 1 and out.trajectory.ended == "answer"
    # The bad arguments are not echoed back verbatim: the server re-parses past calls.
    echoed = requests[1]["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert echoed == "{}"
    answer = requests[1]["messages"][3]
    assert answer["role"] == "tool" and answer["content"] == out.trajectory.events[0].result
    assert answer["content"].startswith("error: arguments are not valid JSON")


def test_tool_call_markup_left_in_text_is_flagged_as_dropped_by_the_parser():
    out, _, _ = drive([{"content": '<tool_call>{"name": "read_file", "arguments": {}}</tool_call>'}])
    assert out.trajectory.dropped_call_turns == [1] and out.trajectory.tool_calls == 0


@pytest.mark.parametrize("fault", [{"http_error": 500}, {"drop": True, "content": "x" * 80}])
def test_server_fault_ends_the_run_as_infra_error(fault):
    out, _, _ = drive([{"tool_calls": [read("a.py")]}, fault])
    assert out.trajectory.ended == "infra_error" and out.error
    assert out.trajectory.turns == 1  # the failed request is not a turn the model took


def test_request_timeout_is_an_infra_error():
    with ScriptedModel([{"delay_s": 3, "content": "late"}]) as model:
        chat = ChatClient(model.base_url, ChatSettings(model="scripted", timeout_s=0.5))
        out = run_agent("x", "y", SCHEMAS, chat, RecordingTools(), LoopSettings())
    assert out.trajectory.ended == "infra_error"
    assert "no answer within" in out.error


def test_harness_feeds_the_visible_check_back_until_it_passes():
    tools = RecordingTools(check_results=[(False, "FAILED test_sum - assert 3 == 4")])
    script = [{"content": "done, I think"}, {"tool_calls": [read("a.py")]}, {"content": "now fixed"}]
    out, tools, requests = drive(script, tools, mode="harness")
    assert out.harness_rounds == 1 and tools.checks_run == 2
    feedback = requests[1]["messages"][-1]
    assert feedback["role"] == "user" and "assert 3 == 4" in feedback["content"]
    assert out.trajectory.final_answer == "now fixed" and out.trajectory.ended == "answer"


def test_harness_stops_after_its_rounds():
    tools = RecordingTools(check_results=[(False, "fail")] * 10)
    out, tools, _ = drive([{"content": "done"}] * 10, tools, mode="harness", harness_rounds=2)
    assert out.harness_rounds == 2 and out.trajectory.turns == 3


def test_raw_mode_never_runs_the_check():
    tools = RecordingTools(check_results=[(False, "fail")])
    drive([{"content": "done"}], tools)
    assert tools.checks_run == 0


def test_old_tool_outputs_are_shortened_before_the_window_overflows():
    class BigTools(RecordingTools):
        def call(self, name, arguments, turn, call_id):
            ev = super().call(name, arguments, turn, call_id)
            ev.result = "x" * 8000
            return ev

    out, _, requests = drive([{"tool_calls": [read("a.py")]}] * 8 + [{"content": "ok"}], BigTools(),
                             context_tokens=4096)
    assert out.truncations > 0
    last = requests[-1]["messages"]
    assert sum(len(m.get("content") or "") for m in last) // 4 <= 4096 * 0.75 + 4 * 2000
    assert "older output shortened" in last[3]["content"]
