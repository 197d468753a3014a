"""A fresh copy of a task's fixture repository, and the four tools acting on it and on nothing else.

Every tool call becomes a ToolEvent and never raises for anything the model sent: a bad call (not
JSON, unknown tool, missing argument) is `malformed` and counted; a refused path or missing file is a
tool error returned as the result. The workspace also logs what was read, written, searched and tested,
for the graders' process checks.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.workspace.commands import run_command
from orchestrator.workspace.sandbox import Limits
from orchestrator.taskdef import Task
from orchestrator.workspace.tool_schemas import REQUIRED_ARGS
from orchestrator.trajectory import ToolEvent

OUTPUT_CAP = 16 * 1024
MAX_WRITE_BYTES = 1024 * 1024
MAX_SEARCH_HITS = 200
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache"}


class ToolError(Exception):
    """Goes back to the model as the tool result; the run goes on."""


@dataclass
class Operation:
    index: int
    """Position of the call in the run (0-based, across turns)."""
    kind: str
    """read, write, search, test, python, readonly, canned, unavailable, refused."""
    path: str | None = None
    ok: bool = True
    exit_code: int | None = None


@dataclass
class WorkspaceLog:
    ops: list[Operation] = field(default_factory=list)

    def last_index(self, kind: str) -> int | None:
        found = [op.index for op in self.ops if op.kind == kind and op.ok]
        return found[-1] if found else None


def cap(text: str, limit: int = OUTPUT_CAP) -> str:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore") + f"\n[output cut at {limit // 1024} KB]"


class Workspace:
    def __init__(self, task: Task, base: Path):
        self.task = task
        self.base = base
        self.root = base / "repo"
        self.home = base / "home"
        self.log = WorkspaceLog()
        self._calls = 0
        self.limits = Limits(output_bytes=OUTPUT_CAP)

    @classmethod
    def create(cls, task: Task) -> "Workspace":
        base = Path(tempfile.mkdtemp(prefix=f"sb-{task.id}-"))
        shutil.copytree(task.repo, base / "repo", symlinks=False)
        (base / "home").mkdir()
        return cls(task, base)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    # ---- paths ----
    def resolve(self, path: Any) -> Path:
        if not isinstance(path, str) or not path.strip():
            raise ToolError("path must be a non-empty string")
        rel = path.strip()
        if rel.startswith(("/", "~")):
            raise ToolError(f"absolute paths are not allowed: {path} (use a path relative to the repository)")
        if ".." in Path(rel).parts:
            raise ToolError(f"paths outside the repository are not allowed: {path}")
        full = self.root / rel
        # Any symlink on the way (written by a script) could lead out: resolve and re-check.
        if not full.resolve().is_relative_to(self.root.resolve()):
            raise ToolError(f"path leads outside the repository: {path}")
        return full

    def relative(self, full: Path) -> str:
        return full.relative_to(self.root).as_posix()

    # ---- the four tools ----
    def read_file(self, path: str) -> str:
        full = self.resolve(path)
        if full.is_dir():
            raise ToolError(f"{path} is a directory; use run_command with ls to list it")
        if not full.is_file():
            raise ToolError(f"file not found: {path}")
        with open(full, "rb") as f:
            data = f.read(OUTPUT_CAP + 1)
        return cap(data.decode("utf-8", errors="replace"))

    def write_file(self, path: str, content: Any) -> str:
        if not isinstance(content, str):
            raise ToolError("content must be a string")
        if len(content.encode()) > MAX_WRITE_BYTES:
            raise ToolError(f"content too large (over {MAX_WRITE_BYTES // 1024} KB)")
        full = self.resolve(path)
        if full.is_symlink() or full.is_dir():
            raise ToolError(f"cannot write to {path}: not a regular file")
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(content)
        return f"wrote {len(content.encode())} bytes to {self.relative(full)}"

    def search_code(self, pattern: str, path: str | None = None) -> str:
        if not isinstance(pattern, str) or not pattern:
            raise ToolError("pattern must be a non-empty string")
        try:
            regex = re.compile(pattern)
        except re.error:
            regex = re.compile(re.escape(pattern))  # a literal search is what the model meant
        start = self.resolve(path) if path not in (None, "", ".") else self.root
        files = [start] if start.is_file() else sorted(p for p in start.rglob("*") if p.is_file())
        hits = []
        for file in files:
            if SKIP_DIRS & set(file.relative_to(self.root).parts) or file.is_symlink():
                continue
            try:
                lines = file.read_text(errors="strict").splitlines()
            except (UnicodeDecodeError, OSError):
                continue
            hits += [f"{self.relative(file)}:{n}: {line.strip()}" for n, line in enumerate(lines, 1)
                     if regex.search(line)]
        if not hits:
            return "no matches"
        shown = hits[:MAX_SEARCH_HITS]
        more = f"\n[{len(hits) - MAX_SEARCH_HITS} more matches not shown]" if len(hits) > MAX_SEARCH_HITS else ""
        return cap("\n".join(shown) + more)

    def run_command(self, command: str) -> tuple[str, Any]:
        if not isinstance(command, str):
            raise ToolError("command must be a string")
        outcome = run_command(command, self.root, self.home, self.task.canned, self.limits)
        return cap(outcome.output), outcome

    # ---- dispatch ----
    def call(self, name: str, arguments: Any, turn: int = 0, call_id: str = "") -> ToolEvent:
        index, self._calls = self._calls, self._calls + 1
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        event = ToolEvent(turn=turn, name=name, arguments=None, raw_arguments=raw, result="", call_id=call_id)
        args, problem = self._parse(name, arguments)
        if problem:
            event.malformed, event.result = True, f"error: {problem}"
            return event
        event.arguments = args
        try:
            event.result = self._dispatch(name, args, index)
        except ToolError as err:
            event.error = str(err)
            event.result = f"error: {err}"
            self.log.ops.append(Operation(index, {"read_file": "read", "write_file": "write"}.get(name, name),
                                          args.get("path"), ok=False))
        return event

    def _parse(self, name: str, arguments: Any) -> tuple[dict, str | None]:
        if name not in REQUIRED_ARGS:
            return {}, f"unknown tool '{name}'; the tools are {', '.join(REQUIRED_ARGS)}"
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except ValueError as err:
                return {}, f"arguments are not valid JSON ({err.msg} at position {err.pos})"
        if not isinstance(arguments, dict):
            return {}, "arguments must be a JSON object"
        missing = [a for a in REQUIRED_ARGS[name] if a not in arguments]
        if missing:
            return {}, f"{name} needs the argument(s) {', '.join(missing)}"
        return arguments, None

    def _dispatch(self, name: str, args: dict, index: int) -> str:
        if name == "read_file":
            text = self.read_file(args["path"])
            self.log.ops.append(Operation(index, "read", self.relative(self.resolve(args["path"]))))
            return text
        if name == "write_file":
            text = self.write_file(args["path"], args["content"])
            self.log.ops.append(Operation(index, "write", self.relative(self.resolve(args["path"]))))
            return text
        if name == "search_code":
            text = self.search_code(args["pattern"], args.get("path"))
            self.log.ops.append(Operation(index, "search"))
            return text
        text, outcome = self.run_command(args["command"])
        self.log.ops.append(Operation(index, outcome.kind, ok=outcome.kind not in ("refused",),
                                      exit_code=outcome.exit_code))
        for path in outcome.read_paths:
            self.log.ops.append(Operation(index, "read", path))
        if outcome.searched:
            self.log.ops.append(Operation(index, "search"))
        return text

    # ---- harness mode ----
    def run_visible_check(self) -> tuple[bool, str]:
        """The task's visible check only (never the hidden tests), as the harness feeds it back."""
        outcome = run_command(self.task.visible_check, self.root, self.home, self.task.canned, self.limits)
        ok = outcome.exit_code == 0
        return ok, cap(outcome.output, 4096)
