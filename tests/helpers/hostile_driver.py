"""Plays hostile cases through the real tools and grader, as whoever runs it, and prints JSON.

    python tests/helpers/hostile_driver.py CASES.json > RESULTS.json

Each case: {"id", "task", "files": {path: text} (written with write_file), "calls": [[tool, args]...],
"grade": bool, "limits": {Limits field: value}, "other_workspace": bool}. The text of files and
calls may hold {OTHER_WS} (another live workspace's repo), {TASKS_DIR} and {HOME}. Per case it
returns the tool results, the grade's checks (if asked), how long each took, and any exception
that escaped the tools or the grader (which is itself a failure of the benchmark).
The tests run it as root and, through tests/helpers/as_user.py, as an unprivileged user.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from orchestrator.grading.grade import grade  # noqa: E402
from orchestrator.taskdef import TASKS_DIR, load_task  # noqa: E402
from orchestrator.trajectory import Trajectory  # noqa: E402
from orchestrator.workspace.sandbox import Limits  # noqa: E402
from orchestrator.workspace.watchdog import tree_usage  # noqa: E402
from orchestrator.workspace.workspace import Workspace  # noqa: E402


def _fill(value, subs: dict[str, str]):
    if isinstance(value, str):
        for key, sub in subs.items():
            value = value.replace("{" + key + "}", sub)
        return value
    if isinstance(value, list):
        return [_fill(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subs) for k, v in value.items()}
    return value


def play(case: dict) -> dict:
    task = load_task(case.get("task", "full_debug_cycle"))
    out: dict = {"id": case["id"], "results": [], "errors": [], "grade": None, "wall_s": []}
    other = Workspace.create(task) if case.get("other_workspace") else None
    try:
        with Workspace.create(task) as ws:
            subs = {"OTHER_WS": str(other.root) if other else "", "TASKS_DIR": str(TASKS_DIR),
                    "HOME": os.environ.get("HOME", ""), "WS": str(ws.root)}
            ws.limits = Limits(**{**vars(Limits(timeout_s=10, cpu_s=10, output_bytes=16 * 1024)),
                                  **case.get("limits", {})})
            if "search_timeout_s" in case:
                ws.search_limits = Limits(timeout_s=case["search_timeout_s"], cpu_s=case["search_timeout_s"])
            calls = [["write_file", {"path": p, "content": c}] for p, c in _fill(case.get("files", {}), subs).items()]
            calls += _fill(case.get("calls", []), subs)
            events = []
            for name, args in calls:
                started = time.monotonic()
                try:
                    event = ws.call(name, args)
                    events.append(event)
                    out["results"].append(event.result)
                except BaseException:  # noqa: BLE001 - exactly what must never happen
                    out["errors"].append(traceback.format_exc()[-2000:])
                    out["results"].append(None)
                out["wall_s"].append(round(time.monotonic() - started, 3))
            out["ws_bytes"], out["ws_entries"] = tree_usage([ws.root], 10**6)
            if case.get("grade"):
                started = time.monotonic()
                traj = Trajectory(events=events)
                traj.ended, traj.turns, traj.final_answer = "answer", 2, "done"
                try:
                    verdict = grade(task, ws, traj)
                    out["grade"] = {"passed": verdict.passed, "reason": verdict.reason,
                                    "checks": verdict.checks_as_dicts()}
                except BaseException:  # noqa: BLE001
                    out["errors"].append(traceback.format_exc()[-2000:])
                out["grade_s"] = round(time.monotonic() - started, 3)
        out["ws_left"] = ws.base.exists()
    finally:
        if other:
            other.__exit__(None, None, None)
    return out


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps({"uid": os.getuid(), "cases": [play(c) for c in cases]}))


if __name__ == "__main__":
    main()
