"""A task's reference trajectory (our four tools) rewritten in each real harness's own tools.

So the scripted model can drive Claude Code, OpenCode and mini-swe-agent through the same solution
the raw benchmark's reference takes: read, write the fix, run the tests, answer. `{cwd}` is filled in
by the scripted server from the working directory the harness tells the model about.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from orchestrator.taskdef import Task

Turn = dict[str, Any]


def _claude(name: str, a: dict[str, Any]) -> dict[str, Any]:
    if name == "read_file":
        return {"name": "Read", "arguments": {"file_path": "{cwd}/" + a["path"]}}
    if name == "write_file":
        return {"name": "Write", "arguments": {"file_path": "{cwd}/" + a["path"], "content": a["content"]}}
    if name == "search_code":
        return {"name": "Grep", "arguments": {"pattern": a["pattern"], "output_mode": "content"}}
    return {"name": "Bash", "arguments": {"command": a["command"], "description": "run it"}}


def _opencode(name: str, a: dict[str, Any]) -> dict[str, Any]:
    if name == "read_file":
        return {"name": "read", "arguments": {"filePath": "{cwd}/" + a["path"]}}
    if name == "write_file":
        return {"name": "write", "arguments": {"filePath": "{cwd}/" + a["path"], "content": a["content"]}}
    if name == "search_code":
        return {"name": "grep", "arguments": {"pattern": a["pattern"]}}
    return {"name": "bash", "arguments": {"command": a["command"], "description": "run it"}}


def _bash_command(name: str, a: dict[str, Any]) -> str:
    if name == "read_file":
        return f"cat {shlex.quote(a['path'])}"
    if name == "write_file":
        return f"cat > {shlex.quote(a['path'])} <<'SB_EOF'\n{a['content'].rstrip(chr(10))}\nSB_EOF"
    if name == "search_code":
        return f"grep -rn {shlex.quote(a['pattern'])} ."
    return a["command"]


def _mini(name: str, a: dict[str, Any]) -> dict[str, Any]:
    return {"name": "bash", "arguments": {"command": _bash_command(name, a)}}


MAPPERS = {"claude-code": _claude, "opencode": _opencode, "mini-swe-agent": _mini}


def harness_script(task: Task, harness: str, trajectory: str = "reference.json") -> list[Turn]:
    turns = json.loads((Path(task.trajectories) / trajectory).read_text())["turns"]
    out: list[Turn] = []
    for turn in turns:
        calls = turn.get("tool_calls") or []
        if harness == "mini-swe-agent" and len(calls) > 1:
            # One command a turn keeps mini's observations simple: run them one after the other.
            out += [{"tool_calls": [_mini(c["name"], c["arguments"])]} for c in calls]
            continue
        if calls:
            out.append({"tool_calls": [MAPPERS[harness](c["name"], c["arguments"]) for c in calls]})
        elif harness == "mini-swe-agent":
            answer = turn.get("content") or "done"
            out.append({"tool_calls": [{"name": "bash", "arguments": {
                "command": f"cat <<'SB_EOF'\nCOMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n{answer}\nSB_EOF"}}]})
        else:
            out.append({"content": turn.get("content") or "Done."})
    return out
