"""Replaying a trajectory file through the real tools and graders, without any model.

A trajectory file: {"turns": [{"tool_calls": [{"name": "...", "arguments": {...} or "raw text"}]},
..., {"content": "final answer"}]}. Turns may also carry `content` beside tool calls. A file that ends
on a tool-call turn is replayed as a run that hit the turn limit.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.grading.grade import grade
from orchestrator.taskdef import Task
from orchestrator.agent.thinking import has_tool_call_markup
from orchestrator.trajectory import Trajectory
from orchestrator.workspace.workspace import Workspace


def load_trajectory(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such trajectory file") from None
    except ValueError as err:
        raise UserError(f"{path}: not valid JSON ({err})") from None
    turns = data.get("turns") if isinstance(data, dict) else None
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        raise UserError(f'{path}: expected {{"turns": [{{"tool_calls": [...]}} or {{"content": "..."}}, ...]}}')
    return turns


def replay(task: Task, turns: list[dict[str, Any]], max_turns: int = 10) -> dict[str, Any]:
    traj = Trajectory()
    tool_results: list[str] = []
    with Workspace.create(task) as ws:
        traj.ended = "max_turns"
        for number, turn in enumerate(turns[:max_turns], 1):
            traj.turns = number
            content = turn.get("content") or ""
            traj.assistant_texts.append(content)
            calls = turn.get("tool_calls") or []
            for i, call in enumerate(calls):
                event = ws.call(call.get("name", ""), call.get("arguments", {}), turn=number, call_id=f"t{number}c{i}")
                traj.events.append(event)
                tool_results.append(event.result)
            if not calls:
                if has_tool_call_markup(content):
                    traj.dropped_call_turns.append(number)
                traj.final_answer, traj.ended = content, "answer"
                break
        result = grade(task, ws, traj)
    return {"task": task.id, "passed": result.passed, "reason": result.reason,
            "checks": [asdict(c) for c in result.checks], "turns": traj.turns,
            "tool_calls": traj.tool_calls, "malformed_calls": traj.malformed_calls, "tool_results": tool_results}
