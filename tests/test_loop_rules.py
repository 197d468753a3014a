"""The loop's rules in process, turn by turn (found by mutation testing): old outputs shortened to fit
the window and no sooner, the turn budget of each mode, the feedback the harness sends, what goes back
to the server for each assistant turn, and a server fault mid-run. The model is the replay's scripted
chat (real stream parsing, no HTTP); the tools are the real workspace of a task."""

import copy

import pytest

from orchestrator.agent.loop import (FEEDBACK_CAP_CHARS, HARNESS_INSTRUCTIONS, LoopSettings,
                                     _shorten_old_tool_outputs, run_agent)
from orchestrator.agent.stream import ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.errors import InfraError
from orchestrator.session.replay import ScriptedChat
from orchestrator.taskdef import load_task
from orchestrator.workspace.workspace import Workspace

TASK = load_task("security_fix")
FILES = ["store/db.py", "store/reports.py", "store/products.py", "tests/test_store.py", "store/users.py",
         "store/orders.py"]


class Recorded(ScriptedChat):
    """The scripted chat, keeping a deep copy of every request as it was sent."""

    def __init__(self, turns, fail_at=None):
        super().__init__(turns)
        self.sent, self.fail_at = [], fail_at

    def complete(self, messages, tools):
        self.sent.append(copy.deepcopy(messages))
        if self.fail_at is not None and len(self.sent) == self.fail_at:
            raise InfraError("server answered HTTP 503: busy")
        return super().complete(messages, tools)


def drive(turns, check=None, fail_at=None, **settings):
    chat = Recorded(turns, fail_at)
    with Workspace.create(TASK) as ws:
        if check is not None:
            ws.run_visible_check = check
        out = run_agent("Fix it.", "System.", [], chat, ws, LoopSettings(**settings))
    return out, chat.sent


def reads(*paths):
    return [{"tool_calls": [{"name": "read_file", "arguments": {"path": p}}]} for p in paths]


def tool(content):
    return {"role": "tool", "tool_call_id": "x", "content": content}


def test_shortening_takes_the_oldest_outputs_first_and_stops_once_it_fits():
    messages = [{"role": "user", "content": "u"}] + [tool(str(i) * 1000) for i in range(7)]
    # 7001 characters ~ 1750 tokens; shortening one 1000-character output saves ~200 tokens.
    assert _shorten_old_tool_outputs(messages, budget_tokens=1500) == 2
    contents = [m["content"] for m in messages[1:]]
    assert contents[0] == "0" * 200 + "\n[older output shortened: 800 characters dropped]"
    assert contents[1].startswith("1" * 200 + "\n[older output shortened")
    assert contents[2:] == [str(i) * 1000 for i in range(2, 7)]


def test_the_newest_four_outputs_and_short_ones_are_never_shortened():
    messages = [tool("s" * 150)] + [tool(str(i) * 1000) for i in range(5)]
    assert _shorten_old_tool_outputs(messages, budget_tokens=0) == 1
    assert messages[0]["content"] == "s" * 150, "200 characters or fewer stay whole"
    assert messages[1]["content"].startswith("0" * 200 + "\n[older")
    assert [m["content"] for m in messages[2:]] == [str(i) * 1000 for i in range(1, 5)]
    assert _shorten_old_tool_outputs([tool("x" * 1000)] * 4, budget_tokens=0) == 0


def test_a_conversation_exactly_at_the_budget_is_left_alone():
    messages = [tool("a" * 1000), tool("b" * 1000)] + [tool("c")] * 4
    size_tokens = (2000 + 4 + 6 * 2) // 4  # each message's absent tool_calls counts as '""
    assert _shorten_old_tool_outputs(messages, budget_tokens=size_tokens, keep_last=4) == 0
    assert _shorten_old_tool_outputs(messages, budget_tokens=size_tokens - 1, keep_last=4) == 1


def test_the_window_keeps_a_quarter_for_the_answer():
    full = sum(len((TASK.repo / p).read_text()) for p in FILES)
    # A window whose three quarters hold everything read: nothing shortened; a little smaller: some.
    roomy = int((full + 4000) / 4 / 0.75)
    out, _ = drive(reads(*FILES) + [{"content": "done"}], context_tokens=roomy)
    assert out.truncations == 0
    out, sent = drive(reads(*FILES) + [{"content": "done"}], context_tokens=int(full / 4 / 0.75) // 2)
    assert out.truncations > 0 and "[older output shortened" in sent[-1][3]["content"]
    out, _ = drive(reads(*FILES) + [{"content": "done"}])
    assert out.truncations == 0, "no window given: nothing shortened"


@pytest.mark.parametrize("mode, budget", [("raw", 3), ("harness", 5)])
def test_each_mode_has_its_own_turn_budget(mode, budget):
    out, sent = drive(reads(*FILES, *FILES), mode=mode, max_turns=3, harness_max_turns=5)
    assert out.trajectory.turns == budget and len(sent) == budget and out.trajectory.ended == "max_turns"
    system = sent[0][0]["content"]
    assert system.endswith(HARNESS_INSTRUCTIONS) is (mode == "harness")


def test_harness_feedback_keeps_the_end_of_a_long_check_output():
    long_output = "head " + "x" * FEEDBACK_CAP_CHARS + " FAILED test_tail"
    checks = iter([(False, long_output), (True, "ok")])
    out, sent = drive([{"content": "done"}, {"content": "done again"}], check=lambda: next(checks),
                      mode="harness", harness_rounds=3)
    feedback = sent[1][-1]
    assert feedback["role"] == "user" and "FAILED test_tail" in feedback["content"]
    assert "head " not in feedback["content"], "only the last 4000 characters go back"
    assert out.harness_rounds == 1 and out.trajectory.ended == "answer" and out.trajectory.turns == 2
    short = iter([(False, "E   assert 3 == 4"), (True, "ok")])
    _, sent = drive([{"content": "a"}, {"content": "b"}], check=lambda: next(short), mode="harness")
    assert sent[1][-1]["content"] == ("The task is not done yet: the project's check still fails. Here is its "
                                      "output:\n\nE   assert 3 == 4\n\nFix the problem with the tools, verify, "
                                      "then answer.")


def test_harness_rounds_zero_never_runs_the_check():
    def check():
        raise AssertionError("the check ran")

    out, _ = drive([{"content": "done"}], check=check, mode="harness", harness_rounds=0)
    assert out.trajectory.ended == "answer" and out.harness_rounds == 0


def test_a_server_fault_mid_run_keeps_the_turns_before_it():
    out, sent = drive(reads("store/db.py", "store/users.py", "store/orders.py"), fail_at=3)
    traj = out.trajectory
    assert (traj.turns, traj.ended, out.error) == (2, "infra_error", "server answered HTTP 503: busy")
    assert traj.tool_calls == 2 and len(sent) == 3


class OneTurn:
    def __init__(self, result):
        self.result, self.sent = result, []

    def complete(self, messages, tools):
        self.sent.append(copy.deepcopy(messages))
        if len(self.sent) > 1:
            return TurnResult("ok", "ok", "", [], "stop", TurnMetrics())
        return self.result


def test_what_goes_back_for_an_assistant_turn():
    calls = [ToolCallDraft("", "read_file", '{"path": "store/db.py"}'), ToolCallDraft("srv-7", "read_file", "{bad")]
    chat = OneTurn(TurnResult("", "", "weighing", calls, "tool_calls", TurnMetrics()))
    with Workspace.create(TASK) as ws:
        out = run_agent("Fix it.", "System.", [], chat, ws, LoopSettings())
    assistant = chat.sent[1][2]
    assert assistant["content"] is None and assistant["reasoning"] == "weighing"
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_1_0", "srv-7"]
    assert [c["function"]["arguments"] for c in assistant["tool_calls"]] == ['{"path": "store/db.py"}', "{}"]
    assert [m["tool_call_id"] for m in chat.sent[1][3:]] == ["call_1_0", "srv-7"]
    assert out.reasoning == ["weighing", ""] and out.trajectory.assistant_texts == ["", "ok"]


@pytest.mark.parametrize("finish, content, truncated, dropped", [
    ("length", "The fix is", [1], []),
    ("stop", '<tool_call>{"name": "read_file"}</tool_call>', [], [1]),
    ("tool_calls", "", [], [1]),
    ("stop", "All done.", [], []),
])
def test_a_turn_without_calls_is_marked_by_how_it_ended(finish, content, truncated, dropped):
    from orchestrator.agent.losses import find_losses

    result = TurnResult(content, content, "", [], finish, TurnMetrics(completion_tokens=5),
                        find_losses(finish, content, "", [], 5))
    with Workspace.create(TASK) as ws:
        out = run_agent("Fix it.", "System.", [], OneTurn(result), ws, LoopSettings())
    traj = out.trajectory
    assert (traj.truncated_turns, traj.dropped_call_turns) == (truncated, dropped)
    assert traj.final_answer == content and traj.ended == "answer"
