"""One task run through a real harness: fresh fixture copy, sandbox, metering proxy, wall clock, grading.

The task prompt goes to the harness as the user's request, in a fresh copy of the fixture. The run
ends when the harness does, at its own turn limit, or at our wall-clock limit (then bwrap and every
process under it are killed). The final workspace, less the harness's own leftovers, is judged by the
same graders as a raw run. A request the server failed makes the run an infra_error (retried, never
scored); a harness that crashed is judged on the workspace it left, with its error recorded.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from orchestrator.agent.loop import LoopResult
from orchestrator.grading.grade import Grade, changed_files, grade
from orchestrator.harness import registry, sandbox
from orchestrator.harness.adapter import HarnessOutcome, HarnessRequest
from orchestrator.harness.proxy import Metered, MeteringProxy
from orchestrator.harness.tool_log import count_unseen_write, trajectory_of
from orchestrator.taskdef import Task
from orchestrator.workspace.workspace import Workspace

OUTPUT_CAP_BYTES = 64 * 2**20
"""A harness printing more than this is killed: output is kept, not a disk filler."""
TAIL_CHARS = 20_000


@dataclass
class HarnessSettings:
    name: str
    max_turns: int = 30
    """The harness's own turn limit (Claude Code --max-turns, OpenCode steps, mini step_limit)."""
    wall_s: float = 900.0
    """Wall-clock limit of one run, always enforced."""
    max_tokens: int = 4096
    request_timeout_s: float = 600.0


@dataclass
class HarnessResult(LoopResult):
    """A LoopResult (what the session records) plus what only a harness run has."""

    grade: Grade | None = None
    outcome: HarnessOutcome | None = None
    metered: list[Metered] = field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""
    version: str = ""

    @property
    def harness_summary(self) -> dict[str, Any]:
        """Extra fields of the run's record: how the harness ended and what it cost in its own terms."""
        o = self.outcome or HarnessOutcome("harness_error")
        # The agent's own first request: side requests without tools (OpenCode titles its session first)
        # would understate what the harness sends before the task says anything.
        answered = [m for m in self.metered if m.result is not None]
        first = next((m for m in answered if m.tools_offered), answered[0] if answered else None)
        return {"harness_version": self.version, "harness_ended": o.ended, "harness_turns": o.turns,
                "harness_prompt_tokens": o.prompt_tokens, "harness_completion_tokens": o.completion_tokens,
                "requests": len(self.metered), "first_request_bytes": first.request_bytes if first else None,
                "first_request_tools": first.tools_offered if first else None,
                "first_prompt_tokens": first.result.metrics.prompt_tokens if first else None,
                "translated_requests": sum(m.translated for m in self.metered)}

    @property
    def harness_log(self) -> dict[str, Any]:
        """Extra keys of the run's transcript: the harness's own output, capped."""
        return {"harness": {**self.harness_summary, "detail": self.outcome.detail if self.outcome else None,
                            "stdout_tail": self.stdout_tail, "stderr_tail": self.stderr_tail}}


def run_harness_task(task: Task, settings: HarnessSettings, upstream_base_url: str, served_model: str,
                     on_request: Callable[[int, Metered], None] | None = None,
                     extra_body: dict[str, Any] | None = None) -> HarnessResult:
    """`extra_body`: the config's per-backend request extras (chat_template_kwargs...), added to every
    chat-completion request the proxy sends, so a harness run uses the model as a raw run does."""
    adapter = registry.get(settings.name)
    executable = registry.locate(adapter).resolve()  # npm's bin/ holds links into a package outside it
    metered: list[Metered] = []

    def meter(m: Metered) -> None:
        metered.append(m)
        if on_request:
            on_request(len(metered), m)

    with Workspace.create(task) as ws:
        socket_dir = ws.base / "sock"
        socket_dir.mkdir()
        req = HarnessRequest(prompt=task.prompt, workdir=ws.root, state=ws.home,
                             base_url=f"http://127.0.0.1:{sandbox.BRIDGE_PORT}", model=served_model,
                             max_turns=settings.max_turns, max_tokens=settings.max_tokens)
        inv = adapter.invocation(req, executable)
        for path, text in inv.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        env = dict(inv.env, PATH=_inside_path(executable, _pytest_shim(ws.home)))
        socket_path = socket_dir / "proxy.sock"
        with MeteringProxy(upstream_base_url, socket_path, served_model, meter,
                           timeout_s=settings.request_timeout_s, extra_body=extra_body) as proxy:
            argv = sandbox.harness_argv(inv.argv, env, ws.root, ws.home, socket_path, executable, settings.wall_s)
            exit_code, timed_out, stdout, stderr = run_limited(argv, {}, settings.wall_s, ws.base)
        if proxy.callback_errors:
            raise proxy.callback_errors[0]  # recording a request failed: a bug of ours, never the model's
        outcome = adapter.parse(stdout, exit_code, ws.home)
        if timed_out:
            outcome.ended, outcome.detail = "time_limit", f"killed at the {settings.wall_s:g} s wall-clock limit"
        server_faults = [m.error for m in metered if m.server_fault]
        result = _harness_result(task, ws, adapter, metered, outcome, server_faults)
        result.stdout_tail, result.stderr_tail, result.version = stdout[-TAIL_CHARS:], stderr[-TAIL_CHARS:], adapter.version
        if result.trajectory.ended == "infra_error":
            return result
        remove_leftovers(ws.root, adapter.leftovers)
        changed = changed_files(task, ws)
        ws.log.ops = count_unseen_write(ws.log.ops, changed)
        result.grade = grade(task, ws, result.trajectory)
        return result


def _harness_result(task: Task, ws: Workspace, adapter: ModuleType, metered: list[Metered],
                    outcome: HarnessOutcome, server_faults: list[str]) -> HarnessResult:
    results = [m.result for m in metered if m.result is not None]
    outputs = {k: v for m in metered for k, v in m.tool_results.items()}
    traj, ops = trajectory_of(results, adapter, ws.root, outcome.final_answer, outputs)
    ws.log.ops = ops
    if server_faults:
        traj.ended, error = "infra_error", server_faults[0]
    else:
        # The graders know answer / max_turns: a run stopped by our wall clock also ran out of budget.
        traj.ended = "max_turns" if outcome.ended in ("max_turns", "time_limit") else "answer"
        error = None if outcome.ended == "answer" else f"{outcome.ended}: {outcome.detail or ''}".strip(": ")
        refused = next((m.error for m in metered if m.error and not m.server_fault), None)
        if refused and error:  # the server's own words (e.g. a prompt over its context) say why
            error += f"; {refused}"
    summaries = [{"api": m.api, "translated": m.translated, "request_bytes": m.request_bytes,
                  "tools_offered": m.tools_offered, "error": m.error,
                  "content": m.result.content if m.result else None,
                  "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in m.result.tool_calls]
                  if m.result else [], "finish_reason": m.result.finish_reason if m.result else None}
                 for m in metered]
    return HarnessResult(traj, summaries, [r.reasoning for r in results], error=error, outcome=outcome,
                         metered=metered)


def remove_leftovers(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Delete the harness's own state and cache files from the workspace before grading."""
    removed = []
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, p) for p in patterns):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(rel)
    return removed


def _pytest_shim(state: Path) -> Path:
    """A `pytest` that is `python -m pytest`: the fixtures' tests import from the repository root, as
    raw runs' test commands (which become `python -m pytest`) allow. Put first on the harness's PATH
    rather than PYTHONPATH, which would let a fixture's package shadow the harness's own imports."""
    folder = state / ".siliconbench-bin"
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "pytest"
    shim.write_text(f'#!/bin/sh\nexec {Path(sys.executable).resolve()} -m pytest "$@"\n')
    shim.chmod(0o755)
    return folder


def _inside_path(executable: Path, shims: Path) -> str:
    dirs = [str(shims), str(executable.parent), str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin",
            "/bin"]
    return ":".join(dict.fromkeys(dirs))


def run_limited(argv: list[str], env: dict[str, str], wall_s: float, log_dir: Path) -> tuple[int | None, bool, str, str]:
    """Run until it exits, the wall clock runs out, or its output passes the cap; kill the whole tree."""
    out_path, err_path = log_dir / "harness.stdout", log_dir / "harness.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        deadline = time.monotonic() + wall_s
        timed_out = False
        try:
            while proc.poll() is None:
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
                if out_path.stat().st_size + err_path.stat().st_size > OUTPUT_CAP_BYTES:
                    break
                try:
                    proc.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            _kill_tree(proc)
    code = None if timed_out else proc.returncode
    return code, timed_out, _read_tail(out_path), _read_tail(err_path)


def _kill_tree(proc: subprocess.Popen) -> None:
    """bwrap runs the harness in its own pid namespace: killing its group ends every process in it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _read_tail(path: Path, limit: int = 4 * 2**20) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - limit))
        return f.read().decode("utf-8", errors="replace")
