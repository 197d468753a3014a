"""The agent loop: the model sees the four tools and the task, calls tools, and stops when it answers.

One turn is one assistant response, which may hold several (parallel) tool calls, executed in order.
Raw mode is the article's benchmark: one attempt, at most `max_turns` turns. Harness mode wraps the
same loop the way a coding agent does: when the model stops, the task's *visible* check runs and its
failure goes back as a user message, up to `harness_rounds` times within a larger turn budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from orchestrator.errors import InfraError
from orchestrator.agent.stream import ToolCallDraft, TurnResult
from orchestrator.agent.thinking import has_tool_call_markup
from orchestrator.trajectory import ToolEvent, Trajectory

HARNESS_INSTRUCTIONS = (
    "\n\nWork like a careful engineer: read the relevant files, make the change with write_file, then "
    "run the tests to verify. When you are done, answer with a short summary and no tool call."
)
FEEDBACK_CAP_CHARS = 4000
SHORTENED = "\n[older output shortened: "


class Chat(Protocol):
    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> TurnResult: ...


class Tools(Protocol):
    def call(self, name: str, arguments: Any, turn: int, call_id: str) -> ToolEvent: ...
    def run_visible_check(self) -> tuple[bool, str]: ...


@dataclass
class LoopSettings:
    max_turns: int = 10
    mode: str = "raw"
    harness_rounds: int = 3
    harness_max_turns: int = 30
    context_tokens: int | None = None
    """The model's window: old tool outputs are shortened before a request would overflow it."""


@dataclass
class LoopResult:
    trajectory: Trajectory
    messages: list[dict[str, Any]]
    reasoning: list[str]
    harness_rounds: int = 0
    truncations: int = 0
    error: str | None = None


TurnCallback = Callable[[int, TurnResult, list[ToolEvent]], None]


def _assistant_message(result: TurnResult, calls: list[ToolCallDraft], ids: list[str]) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": result.content or None}
    if result.reasoning:
        # Kept under a neutral key; the chat client sends it back in the field the model config names
        # (orchestrator/agent/history.py): interleaved-thinking models need their earlier reasoning.
        msg["reasoning"] = result.reasoning
    if calls:
        msg["tool_calls"] = [
            # Servers re-render past calls through the chat template, which parses the arguments:
            # arguments that are not JSON would make the next request fail, so send "{}" back
            # (the tool result already told the model what was wrong with them).
            {"id": cid, "type": "function",
             "function": {"name": c.name or "unknown", "arguments": c.arguments if _is_json(c.arguments) else "{}"}}
            for c, cid in zip(calls, ids)
        ]
    return msg


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except (ValueError, TypeError):
        return False


def _shorten_old_tool_outputs(messages: list[dict[str, Any]], budget_tokens: int, keep_last: int = 4) -> int:
    """Shorten the oldest tool results until the conversation fits `budget_tokens` (~4 chars a token)."""
    def size() -> int:
        return sum(len(m.get("content") or "") + len(m.get("reasoning") or "")
                   + len(json.dumps(m.get("tool_calls", ""))) for m in messages) // 4

    shortened = 0
    tool_msgs = [m for m in messages if m["role"] == "tool"][:-keep_last or None]
    for msg in tool_msgs:
        if size() <= budget_tokens:
            break
        text = msg["content"]
        # Once shortened, an output is left as it is: cutting it again gains nothing and would count twice.
        if len(text) > 200 and not text[200:].startswith(SHORTENED):
            msg["content"] = text[:200] + f"{SHORTENED}{len(text) - 200} characters dropped]"
            shortened += 1
    return shortened


def run_agent(task_prompt: str, system_prompt: str, tools_schema: list[dict[str, Any]], chat: Chat,
              workspace: Tools, settings: LoopSettings, on_turn: TurnCallback | None = None) -> LoopResult:
    harness = settings.mode == "harness"
    system = system_prompt + (HARNESS_INSTRUCTIONS if harness else "")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system},
                                      {"role": "user", "content": task_prompt}]
    out = LoopResult(Trajectory(), messages, [])
    traj = out.trajectory
    budget = settings.harness_max_turns if harness else settings.max_turns
    turn = 0
    while turn < budget:
        turn += 1
        if settings.context_tokens:
            # Leave room for the answer: a quarter of the window.
            out.truncations += _shorten_old_tool_outputs(messages, int(settings.context_tokens * 0.75))
        try:
            result = chat.complete(messages, tools_schema)
        except InfraError as err:
            traj.turns, traj.ended, out.error = turn - 1, "infra_error", str(err)
            return out
        traj.turns = turn
        traj.assistant_texts.append(result.raw_content)
        out.reasoning.append(result.reasoning)
        ids = [c.id or f"call_{turn}_{i}" for i, c in enumerate(result.tool_calls)]
        messages.append(_assistant_message(result, result.tool_calls, ids))
        events = [workspace.call(c.name, c.arguments, turn=turn, call_id=cid)
                  for c, cid in zip(result.tool_calls, ids)]
        for ev in events:
            messages.append({"role": "tool", "tool_call_id": ev.call_id, "content": ev.result})
        traj.events.extend(events)
        if on_turn:
            on_turn(turn, result, events)
        if events:
            continue
        if result.finish_reason == "length":
            traj.truncated_turns.append(turn)  # the cap cut the answer (or the call): the run ends here
        if result.losses or has_tool_call_markup(result.raw_content):
            traj.dropped_call_turns.append(turn)
        traj.final_answer = result.content
        if not harness or out.harness_rounds >= settings.harness_rounds:
            traj.ended = "answer"
            return out
        ok, output = workspace.run_visible_check()
        if ok:
            traj.ended = "answer"
            return out
        out.harness_rounds += 1
        messages.append({"role": "user", "content": _feedback(output)})
    traj.ended = "max_turns"
    return out


def _feedback(check_output: str) -> str:
    text = check_output if len(check_output) <= FEEDBACK_CAP_CHARS else check_output[-FEEDBACK_CAP_CHARS:]
    return ("The task is not done yet: the project's check still fails. Here is its output:\n\n"
            f"{text}\n\nFix the problem with the tools, verify, then answer.")
