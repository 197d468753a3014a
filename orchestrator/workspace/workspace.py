"""A fresh copy of a task's fixture repository, and the four tools acting on it and on nothing else.

Every tool call becomes a ToolEvent and never raises for anything the model sent: a bad call (not
JSON, unknown tool, missing argument) is `malformed` and counted; a refused path or missing file is a
tool error returned as the result. The workspace also logs what was read, written, searched and tested,
for the graders' process checks.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.workspace.commands import run_command
from orchestrator.workspace.hygiene import remove_special_files, remove_tree
from orchestrator.workspace.bwrap import owner_uid, sandbox_uid
from orchestrator.workspace.sandbox import Limits, hand_over
from orchestrator.workspace.search import SEARCH_LIMITS, SearchError, search
from orchestrator.taskdef import Task
from orchestrator.workspace.tool_schemas import REQUIRED_ARGS
from orchestrator.trajectory import ToolEvent

OUTPUT_CAP = 16 * 1024
MAX_WRITE_BYTES = 1024 * 1024
MAX_SEARCH_HITS = 200
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache"}
MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255
ARG_TYPES = {"path": str, "content": str, "command": str, "pattern": str}
"""Every argument a tool takes is a string: any other type is a malformed call."""


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
        self.search_limits = SEARCH_LIMITS

    @classmethod
    def create(cls, task: Task) -> "Workspace":
        base = Path(tempfile.mkdtemp(prefix=f"sb-{task.id}-"))
        shutil.copytree(task.repo, base / "repo", symlinks=False)
        (base / "home").mkdir()
        hand_over(base / "repo", base / "home", uid=sandbox_uid())  # root: the sandbox runs as a uid of its own
        return cls(task, base)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        remove_tree(self.base)

    # ---- paths ----
    def resolve(self, path: Any) -> Path:
        if not isinstance(path, str) or not path.strip():
            raise ToolError("path must be a non-empty string")
        rel = path.strip()
        if "\x00" in rel:
            raise ToolError("path holds a NUL byte")
        if len(rel) > MAX_PATH_CHARS or any(len(part.encode("utf-8", "replace")) > MAX_NAME_BYTES
                                            for part in rel.split("/")):
            raise ToolError(f"path too long (a name may have {MAX_NAME_BYTES} bytes, a path {MAX_PATH_CHARS} characters)")
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ToolError(f"path is not valid text ({err.reason} at position {err.start})") from None
        if rel.startswith(("/", "~")):
            raise ToolError(f"absolute paths are not allowed: {path} (use a path relative to the repository)")
        if ".." in Path(rel).parts:
            raise ToolError(f"paths outside the repository are not allowed: {path}")
        full = self.root / rel
        # Any symlink on the way (written by a script) could lead out: resolve and re-check.
        try:
            inside = full.resolve().is_relative_to(self.root.resolve())
        except (OSError, RuntimeError) as err:  # a symlink loop, a name the file system refuses
            raise ToolError(f"cannot use the path {path}: {getattr(err, 'strerror', None) or err}") from None
        if not inside:
            raise ToolError(f"path leads outside the repository: {path}")
        return full

    def relative(self, full: Path) -> str:
        return full.relative_to(self.root).as_posix()

    # ---- the four tools ----
    def read_file(self, path: str) -> str:
        full = self.resolve(path).resolve()  # a link that stays inside is read as the file it names
        try:
            st = full.stat()
        except FileNotFoundError:
            raise ToolError(f"file not found: {path}") from None
        if stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{path} is a directory; use run_command with ls to list it")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block for ever, a device would never end
            raise ToolError(f"{path} is not a regular file")
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            data = f.read(OUTPUT_CAP + 1)
        return cap(data.decode("utf-8", errors="replace"))

    def write_file(self, path: str, content: Any) -> str:
        if not isinstance(content, str):
            raise ToolError("content must be a string")
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ToolError(f"content is not valid text ({err.reason} at position {err.start}); "
                            "write it as UTF-8") from None
        if len(data) > MAX_WRITE_BYTES:
            raise ToolError(f"content too large (over {MAX_WRITE_BYTES // 1024} KB)")
        full = self.resolve(path)
        if full.is_symlink() or full.is_dir():
            raise ToolError(f"cannot write to {path}: not a regular file")
        if full.exists() and (not full.is_file() or full.stat().st_nlink > 1):
            raise ToolError(f"cannot write to {path}: not a plain file (a special file or a hard link)")
        made = self._make_parents(full.parent, path)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        hand_over(full, *made, uid=owner_uid(self.root))
        return f"wrote {len(data)} bytes to {self.relative(full)}"

    def _make_parents(self, parent: Path, path: str) -> list[Path]:
        missing = []
        for folder in [parent, *parent.parents]:
            if folder == self.root or folder.is_dir():
                break
            if folder.exists() or folder.is_symlink():
                raise ToolError(f"cannot write to {path}: {self.relative(folder)} is a file, not a folder")
            missing.append(folder)
        for folder in reversed(missing):
            folder.mkdir()
        return missing

    def search_code(self, pattern: str, path: str | None = None) -> str:
        if not isinstance(pattern, str) or not pattern:
            raise ToolError("pattern must be a non-empty string")
        start = self.resolve(path) if path not in (None, "", ".") else self.root
        if not start.exists():
            raise ToolError(f"file not found: {path}")
        try:
            text = search(self.root, self.home, pattern, self.relative(start) if start != self.root else ".",
                          SKIP_DIRS, MAX_SEARCH_HITS, self.search_limits)
        except SearchError as err:
            raise ToolError(str(err)) from None
        return cap(text)

    def run_command(self, command: str) -> tuple[str, Any]:
        if not isinstance(command, str):
            raise ToolError("command must be a string")
        outcome = run_command(command, self.root, self.home, self.task.canned, self.limits)
        text = outcome.output
        if outcome.kind in ("test", "python"):
            removed = remove_special_files(self.root)
            if removed:
                text += f"\n[removed what the command left that is not a file: {', '.join(removed[:10])}]"
        return cap(text), outcome

    # ---- dispatch ----
    def call(self, name: Any, arguments: Any, turn: int = 0, call_id: str = "") -> ToolEvent:
        """Never raises for anything the model sent: every fault becomes the call's result."""
        index, self._calls = self._calls, self._calls + 1
        event = ToolEvent(turn=turn, name=name if isinstance(name, str) else repr(name)[:100], arguments=None,
                          raw_arguments=_raw(arguments), result="", call_id=call_id)
        args, problem = self._parse(name, arguments)
        if problem:
            event.malformed, event.result = True, f"error: {problem}"
            return event
        event.arguments = args
        try:
            event.result = self._dispatch(name, args, index)
        except ToolError as err:
            self._failed(event, name, args, index, str(err))
        except (OSError, ValueError, UnicodeError, TypeError, RuntimeError, RecursionError) as err:
            # The file system said no (a name too long, a folder in the way, a full disk...).
            why = getattr(err, "strerror", None) or str(err) or type(err).__name__
            self._failed(event, name, args, index, f"{name} failed: {why}")
        return event

    def _failed(self, event: ToolEvent, name: str, args: dict, index: int, message: str) -> None:
        event.error = message[:2000]
        event.result = f"error: {event.error}"
        path = args.get("path")
        self.log.ops.append(Operation(index, {"read_file": "read", "write_file": "write"}.get(name, name),
                                      path if isinstance(path, str) else None, ok=False))

    def _parse(self, name: Any, arguments: Any) -> tuple[dict, str | None]:
        if not isinstance(name, str) or name not in REQUIRED_ARGS:
            shown = name if isinstance(name, str) else type(name).__name__
            return {}, f"unknown tool '{str(shown)[:100]}'; the tools are {', '.join(REQUIRED_ARGS)}"
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError) as err:
                where = f" ({err.msg} at position {err.pos})" if isinstance(err, json.JSONDecodeError) else ""
                return {}, f"arguments are not valid JSON{where}"
        if not isinstance(arguments, dict):
            return {}, "arguments must be a JSON object"
        missing = [a for a in REQUIRED_ARGS[name] if a not in arguments]
        if missing:
            return {}, f"{name} needs the argument(s) {', '.join(missing)}"
        required = REQUIRED_ARGS[name]
        wrong = [a for a, kind in ARG_TYPES.items() if a in arguments and not isinstance(arguments[a], kind)
                 and not (arguments[a] is None and a not in required)]  # an optional argument may be null
        if wrong:
            return {}, f"{name}: argument(s) {', '.join(wrong)} must be strings"
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


def _raw(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments)
    except (TypeError, ValueError, RecursionError):
        return repr(arguments)[:10_000]
