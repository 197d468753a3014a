"""The records written to a results folder, and the writer that appends them as the run goes.

Layout of a results folder (one per `run` or `sweep`):

    results/<run-id>/
      runs.jsonl                 one RunRecord a task run (all models of a sweep)
      turns.jsonl                one TurnRecord a turn
      models/<model>/meta.json   snapshot: config, versions, template hash, machine, load time
      models/<model>/server.log  the server's stdout and stderr
      transcripts/<model>/<task>-<mode>-r<run>.json   the full conversation of one run

Every line is appended and flushed as soon as it exists, so a crash loses at most the run in flight
(its turns stay). Reports read only these files. Unknown figures are null, never a made-up 0.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.trajectory import FAILURE_REASONS

TokenSource = Literal["server_usage", "tokenizer", "estimate"]
FailureReason = Literal[FAILURE_REASONS]  # type: ignore[valid-type]  (the one declared set)
MODE_PATTERN = r"^[a-z][a-z0-9_-]*$"
"""`raw` (the article's benchmark), `harness` (our feedback loop) or a real harness's name."""


class Record(BaseModel):
    """A line of runs.jsonl or turns.jsonl: declared once here, unknown fields refused, so the writer,
    the reports and the sizing cannot drift apart."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class TurnRecord(Record):
    model: str
    config_hash: str
    task: str
    run: int
    mode: str = Field("raw", pattern=MODE_PATTERN)
    turn: int
    """1-based."""
    finish_reason: str | None = None
    """`stop`, `tool_calls`, `length` (max_tokens hit, often by thinking)..."""
    wall_s: float | None = None
    """Request sent to last byte received."""
    ttft_s: float | None = None
    """Request sent to first generated token (content, reasoning or tool-call delta)."""
    prefill_tps: float | None = None
    """(prompt tokens - cached tokens) / ttft_s."""
    decode_tps: float | None = None
    """(completion tokens - 1) / (last token time - first token time)."""
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    server_decode_tps: float | None = None
    """The server's own figure (llama-server timings, vLLM per-request metrics) beside ours."""
    server_prefill_tps: float | None = None
    thinking_tokens: int | None = None
    thinking_tokens_source: TokenSource | None = None
    thinking_s: float | None = None
    """Seconds from the first to the last reasoning token."""
    tool_calls: int = 0
    malformed_calls: int = 0
    server_peak_rss_bytes: int | None = None
    """Peak RSS of the server's whole process tree during the turn."""
    system_used_bytes: int | None = None
    system_available_bytes: int | None = None
    swap_used_bytes: int | None = None
    wired_bytes: int | None = None
    """macOS wired memory (Metal buffers can miss the RSS)."""
    server_peak_footprint_bytes: int | None = None
    """macOS: peak physical footprint of the server's tree (what Activity Monitor shows, Metal buffers
    included; orchestrator/metrics/footprint.py, unverified until a Mac has run it)."""
    gpu_working_set_limit_bytes: int | None = None
    gpu_used_bytes: int | None = None
    """NVML device memory used (vLLM's reservation shows here)."""
    kv_cache_usage_perc: float | None = None
    warm: bool = True
    """False for the first request a freshly started server answered."""
    concurrency: int = 1
    """Task runs in flight against the same server: figures under concurrency are not single-stream."""
    lost_calls: list[str] = []
    """How the server lost the model's work this turn (orchestrator/agent/losses.py); [] when it did not."""
    cached_share: float | None = None
    """Share of the prompt the server took from its cache (prefill_tps is null when too few fresh
    tokens were prefilled)."""
    seed: int | None = None
    """The seed this request carried (one per task run)."""
    max_tokens: int | None = None
    """The token cap this request carried: a `length` finish at this many tokens is the cap."""
    api: str | None = None
    """Real harness runs: the wire format the harness spoke (chat, messages, responses)."""
    translated: bool | None = None
    """Real harness runs: True when the metering proxy translated the request for the server."""
    request_bytes: int | None = None
    """Real harness runs: size of the request the harness sent (its own prompt and tools included)."""
    tools_offered: int | None = None
    """Real harness runs: tools the harness offered the model in this request."""


class RunRecord(Record):
    model: str
    config_hash: str
    backend: str
    task: str
    tier: str
    run: int
    """0-based run index."""
    mode: str = Field("raw", pattern=MODE_PATTERN)
    passed: bool
    reason: FailureReason | None
    """None when passed, else one of trajectory.FAILURE_REASONS."""
    turns: int
    tool_calls: int
    malformed_calls: int
    wall_s: float
    checks: list[dict[str, Any]] = []
    """Each grader check: {"name", "passed", "detail"}."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    thinking_tokens: int | None = None
    thinking_s: float | None = None
    peak_rss_bytes: int | None = None
    ended: str | None = None
    """answer, max_turns or infra_error."""
    error: str | None = None
    """What went wrong, for infra_error runs."""
    attempts: int = 1
    """1 + retries after infrastructure faults."""
    concurrency: int = 1
    harness_rounds: int | None = None
    """Harness mode: feedback rounds used."""
    harness: dict[str, Any] | None = None
    """Real harness runs: version, how it ended (answer, max_turns, time_limit, harness_error), its own
    turn and token counts, requests made, and its first request's size, tools and prompt tokens."""
    transcript: str | None = None
    """Path of the transcript, relative to the results folder."""
    context_truncations: int = 0
    """Old tool outputs shortened so the conversation fit the model's context window."""
    seed: int | None = None
    """The sampling seed this run's requests carried (derived from the config's base seed, the task and
    the run number): a rerun of this run sends it again."""

    def key(self) -> tuple[str, str, int, str]:
        """What identifies a finished task run for --resume."""
        return run_key(self.model_dump())


def run_key(row: dict[str, Any]) -> tuple:
    """What identifies one task run across retries, resumes and folders."""
    return (row.get("config_hash"), row.get("task"), row.get("run"), row.get("mode", "raw"))


def is_infra_error(run: dict[str, Any]) -> bool:
    """A run the server lost: retried by --resume, never scored against the model."""
    return run.get("reason") == "infra_error" or run.get("ended") == "infra_error"


class JsonlWriter:
    """Appends one JSON object a line and flushes it to disk at once (thread-safe)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
        line = json.dumps(data, sort_keys=False, default=str) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (crash mid-write) is skipped, not fatal."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


class ResultsDir:
    """One results folder: where each file lives, and the writers for the two JSONL files."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.runs = JsonlWriter(self.root / "runs.jsonl")
        self.turns = JsonlWriter(self.root / "turns.jsonl")

    def model_dir(self, model: str) -> Path:
        d = self.root / "models" / model
        d.mkdir(parents=True, exist_ok=True)
        return d

    def transcript_path(self, model: str, task: str, mode: str, run: int) -> Path:
        d = self.root / "transcripts" / model
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{task}-{mode}-r{run}.json"

    def write_json(self, path: Path, data: Any) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)

    def finished_keys(self) -> set[tuple[str, str, int, str]]:
        """Task runs already recorded (infra_error runs excluded: --resume retries them)."""
        return {run_key(row) for row in read_jsonl(self.root / "runs.jsonl") if not is_infra_error(row)}

    def close(self) -> None:
        self.runs.close()
        self.turns.close()
