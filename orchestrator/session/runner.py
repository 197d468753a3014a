"""Runs the benchmark for one model against one server: tasks x runs, records on disk as they happen.

The server is someone else's business (a launched backend, an attached endpoint, or the scripted model
in tests): the runner needs its URL, the model name, and optionally a way to count tokens, a memory
sampler, and a guard that can bring a dead server back before a retry.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

from orchestrator.agent.chat_client import ChatClient, ChatSettings
from orchestrator.errors import InfraError
from orchestrator.grading.grade import grade
from orchestrator.agent.loop import LoopResult, LoopSettings, run_agent
from orchestrator.results.records import ResultsDir, RunRecord
from orchestrator.taskdef import Task, system_prompt
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from orchestrator.metrics.turn_record import TokenCounter, build_turn_record
from orchestrator.workspace.workspace import Workspace

MAX_ATTEMPTS = 3  # one try + up to 2 retries after an infrastructure fault


class ServerGuard(Protocol):
    base_url: str

    def ensure_alive(self) -> bool:
        """Restart the server if it died; False when it cannot be brought back."""


class MemoryMarker(Protocol):
    def mark(self) -> Any: ...


@dataclass
class StaticServer:
    """A server nobody manages (attached, or scripted in tests): retries just try again."""

    base_url: str

    def ensure_alive(self) -> bool:
        return True


@dataclass
class ModelTarget:
    label: str
    """Model name in the records."""
    config_hash: str
    backend: str
    server: ServerGuard
    chat: ChatSettings
    context_tokens: int | None = None
    count_tokens: TokenCounter | None = None
    memory: MemoryMarker | None = None


@dataclass
class Plan:
    tasks: list[Task]
    runs: int = 3
    loop: LoopSettings = field(default_factory=LoopSettings)
    concurrency: int = 1
    harness: Any = None
    """A real coding-agent harness (orchestrator.harness.runner.HarnessSettings) instead of our loop."""

    @property
    def mode(self) -> str:
        """What the records call this way of running: raw, harness (our feedback loop) or a harness name."""
        return self.harness.name if self.harness is not None else self.loop.mode

    def jobs(self) -> list[tuple[Task, int]]:
        return [(task, run) for task in self.tasks for run in range(self.runs)]

    def pending(self, config_hash: str, results: ResultsDir) -> list[tuple[Task, int]]:
        """Jobs not yet recorded for this config in `results` (what --resume still has to run)."""
        done = results.finished_keys()
        return [(t, r) for t, r in self.jobs() if (config_hash, t.id, r, self.mode) not in done]


def _memory_fields(marker: MemoryMarker | None) -> dict[str, Any]:
    if marker is None:
        return {}
    snap = marker.mark()
    data = snap if isinstance(snap, dict) else vars(snap)
    keys = ("server_peak_rss_bytes", "system_used_bytes", "system_available_bytes", "swap_used_bytes",
            "wired_bytes", "server_peak_footprint_bytes", "gpu_used_bytes", "gpu_working_set_limit_bytes",
            "kv_cache_usage_perc")
    return {k: data.get(k) for k in keys if k in data}


class ModelRun:
    """Everything one model's benchmark needs while it runs; `run_all` drives it."""

    def __init__(self, target: ModelTarget, plan: Plan, results: ResultsDir,
                 on_done: Callable[[RunRecord], None] | None = None, warmed: bool = False):
        self.target, self.plan, self.results, self.on_done = target, plan, results, on_done
        self.stopping = threading.Event()
        self._sys_prompt = system_prompt()
        self._warm = warmed
        """False until the server has answered once: the first turn of a cold server is labelled so."""

    def run_all(self) -> list[RunRecord]:
        jobs = self.plan.pending(self.target.config_hash, self.results)
        records: list[RunRecord] = []
        if self.plan.concurrency <= 1:
            for task, run in jobs:
                records.append(self.run_one(task, run))
            return records
        with ThreadPoolExecutor(max_workers=self.plan.concurrency) as pool:
            futures = [pool.submit(self.run_one, task, run) for task, run in jobs]
            try:
                for fut in as_completed(futures):
                    rec = fut.result()
                    if rec is not None:
                        records.append(rec)
            except BaseException:
                # Ctrl-C or a crash: runs in flight end when their server goes; none of them is recorded.
                self.stopping.set()
                for fut in futures:
                    fut.cancel()
                raise
        return records

    def run_one(self, task: Task, run: int) -> RunRecord | None:
        started = time.monotonic()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self.stopping.is_set():
                return None
            outcome, ws_grade, turns = self._attempt(task, run)
            if outcome.trajectory.ended != "infra_error":
                break
            if attempt < MAX_ATTEMPTS and not self.target.server.ensure_alive():
                break
        if self.stopping.is_set():
            return None
        record = self._record(task, run, outcome, ws_grade, turns, attempt, time.monotonic() - started)
        self.results.runs.write(record)
        if self.on_done:
            self.on_done(record)
        return record

    def _attempt(self, task: Task, run: int):
        t = self.target
        chat = ChatClient(t.server.base_url, t.chat.for_run(task.id, run))  # a seed of this run's own
        base = dict(model=t.label, config_hash=t.config_hash, task=task.id, run=run,
                    mode=self.plan.mode, concurrency=self.plan.concurrency)
        turns: list = []
        if self.plan.harness is not None:
            return self._harness_attempt(task, base, turns)

        def on_turn(turn, result, events):
            memory = _memory_fields(t.memory)
            rec = build_turn_record(base, turn, result, len(events), sum(e.malformed for e in events),
                                    memory, t.count_tokens, warm=self._warm)
            self._warm = True
            self.results.turns.write(rec)
            turns.append(rec)

        with Workspace.create(task) as ws:
            outcome = run_agent(task.prompt, self._sys_prompt, TOOL_SCHEMAS, chat, ws, self._loop_settings(), on_turn)
            if outcome.trajectory.ended == "infra_error":
                return outcome, None, turns
            try:
                return outcome, grade(task, ws, outcome.trajectory), turns
            except Exception as err:  # a grading fault is this run's infrastructure error, not the benchmark's
                outcome.trajectory.ended = "infra_error"
                outcome.error = f"grading failed: {type(err).__name__}: {err}"[:500]
                return outcome, None, turns

    def _loop_settings(self) -> LoopSettings:
        """The plan's loop rules plus the model's window, so old tool outputs are shortened to fit it."""
        if self.plan.loop.context_tokens is not None or self.target.context_tokens is None:
            return self.plan.loop
        return replace(self.plan.loop, context_tokens=self.target.context_tokens)

    def _harness_attempt(self, task: Task, base: dict[str, Any], turns: list):
        """A real coding-agent harness drives the model: each of its requests is a turn record."""
        from orchestrator.harness.metering import turn_record
        from orchestrator.harness.runner import run_harness_task

        t = self.target

        def on_request(n, metered):
            rec = turn_record(base, n, metered, _memory_fields(t.memory), t.count_tokens, warm=self._warm)
            if rec is not None:
                self._warm = True
                self.results.turns.write(rec)
                turns.append(rec)

        settings = replace(self.plan.harness, max_tokens=t.chat.max_tokens, request_timeout_s=t.chat.timeout_s)
        outcome = run_harness_task(task, settings, t.server.base_url, t.chat.model, on_request,
                                   extra_body=t.chat.extra_body)
        return outcome, outcome.grade, turns

    def _record(self, task: Task, run: int, outcome: LoopResult, result, turns: list,
                attempts: int, wall_s: float) -> RunRecord:
        t, traj = self.target, outcome.trajectory
        transcript = self.results.transcript_path(t.label, task.id, self.plan.mode, run)
        self.results.write_json(transcript, {
            "model": t.label, "task": task.id, "run": run, "mode": self.plan.mode,
            "messages": outcome.messages, "reasoning": outcome.reasoning,
            "assistant_raw": traj.assistant_texts, "error": outcome.error,
            **getattr(outcome, "harness_log", {}),
        })
        infra = traj.ended == "infra_error"
        return RunRecord(
            model=t.label, config_hash=t.config_hash, backend=t.backend, task=task.id, tier=task.tier,
            run=run, mode=self.plan.mode, passed=bool(result and result.passed),
            reason="infra_error" if infra else (None if result.passed else result.reason),
            turns=traj.turns, tool_calls=traj.tool_calls, malformed_calls=traj.malformed_calls,
            wall_s=round(wall_s, 3), checks=[] if infra else result.checks_as_dicts(),
            prompt_tokens=_sum(r.prompt_tokens for r in turns),
            completion_tokens=_sum(r.completion_tokens for r in turns),
            thinking_tokens=_sum(r.thinking_tokens for r in turns),
            thinking_s=_sum(r.thinking_s for r in turns),
            peak_rss_bytes=_max(r.server_peak_rss_bytes for r in turns),
            ended=traj.ended, error=outcome.error, attempts=attempts, concurrency=self.plan.concurrency,
            harness_rounds=outcome.harness_rounds if self.plan.mode == "harness" else None,
            transcript=str(transcript.relative_to(self.results.root)),
            context_truncations=outcome.truncations,
            harness=getattr(outcome, "harness_summary", None),
            seed=t.chat.for_run(task.id, run).seed,
        )


def _sum(values) -> Any:
    """Sum, or None when any part is unknown (unknown is not zero)."""
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return sum(values)


def _max(values) -> Any:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def warm_up(target: ModelTarget) -> bool:
    """One short request with the tools attached, so the first measured turn is not a cold one."""
    settings = ChatSettings(**{**vars(target.chat), "max_tokens": 8})
    try:
        ChatClient(target.server.base_url, settings).complete(
            [{"role": "user", "content": "Say OK."}], TOOL_SCHEMAS)
    except InfraError:
        return False  # the real turns will meet the same fault and record it
    return True
