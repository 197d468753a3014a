"""Replaying a trajectory file through the loop that runs models, the real tools and the graders.

A trajectory file: {"turns": [{"tool_calls": [{"name": "...", "arguments": {...} or "raw text"}]},
..., {"content": "final answer"}]}. A turn may also carry `content` beside its calls, `reasoning`, and
a `finish_reason` (e.g. "length" for an answer cut by the token cap). A file that ends on a tool-call
turn is replayed as a run that hit the turn limit.

Nothing here judges or loops on its own: each turn becomes the chunks a streaming server would send,
parsed by the real stream accumulator, and `run_agent` drives the real workspace, so `tasks check` and
every trajectory test exercise exactly what a live model run does.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from orchestrator.agent.loop import LoopSettings, run_agent
from orchestrator.agent.stream import StreamAccumulator, TurnResult
from orchestrator.errors import UserError
from orchestrator.grading.grade import grade
from orchestrator.taskdef import Task, system_prompt
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from orchestrator.workspace.workspace import Workspace


def load_trajectory(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such trajectory file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid JSON ({err})") from None
    turns = data.get("turns") if isinstance(data, dict) else None
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        raise UserError(f'{path}: expected {{"turns": [{{"tool_calls": [...]}} or {{"content": "..."}}, ...]}}')
    return turns


def turn_chunks(number: int, turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The streamed chunks a server would send for this scripted turn (OpenAI's delta format)."""
    chunks: list[dict[str, Any]] = []
    if turn.get("reasoning"):
        chunks.append({"choices": [{"index": 0, "delta": {"reasoning_content": str(turn["reasoning"])}}]})
    if turn.get("content"):
        chunks.append({"choices": [{"index": 0, "delta": {"content": str(turn["content"])}}]})
    calls = turn.get("tool_calls") or []
    for i, call in enumerate(calls if isinstance(calls, list) else []):
        call = call if isinstance(call, dict) else {}
        name, args = call.get("name", ""), call.get("arguments", {})
        function = {"name": name if isinstance(name, str) else json.dumps(name),
                    "arguments": args if isinstance(args, str) else json.dumps(args)}
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": i, "id": f"t{number}c{i}", "type": "function", "function": function}]}}]})
    finish = turn.get("finish_reason") or ("tool_calls" if calls else "stop")
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return chunks


class ScriptedChat:
    """The `Chat` the loop talks to: answers turn N with turn N of the file, timed by a fake clock."""

    def __init__(self, turns: list[dict[str, Any]]):
        self.turns = turns
        self.requests: list[list[dict[str, Any]]] = []
        self._clock = 0.0

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> TurnResult:
        self.requests.append(list(messages))
        number = len(self.requests)
        acc = StreamAccumulator(t_sent=self._clock)
        for chunk in turn_chunks(number, self.turns[number - 1]):
            self._clock += 0.01
            acc.feed(self._clock, chunk)
        return acc.finish(self._clock)


def replay(task: Task, turns: list[dict[str, Any]], max_turns: int = 10) -> dict[str, Any]:
    turns = turns[:max_turns]
    chat = ScriptedChat(turns)
    # A file that stops on a tool-call turn is a run that used all its turns.
    settings = LoopSettings(max_turns=len(turns))
    tool_results: list[str] = []
    with Workspace.create(task) as ws:
        result = run_agent(task.prompt, system_prompt(), TOOL_SCHEMAS, chat, ws, settings,
                           on_turn=lambda _n, _r, events: tool_results.extend(e.result for e in events))
        traj = result.trajectory
        verdict = grade(task, ws, traj)
    return {"task": task.id, "passed": verdict.passed, "reason": verdict.reason,
            "checks": [asdict(c) for c in verdict.checks], "turns": traj.turns,
            "tool_calls": traj.tool_calls, "malformed_calls": traj.malformed_calls, "tool_results": tool_results}
